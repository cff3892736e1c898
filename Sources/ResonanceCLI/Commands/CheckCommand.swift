import CommandLineSupport
import ArgumentParser
import Foundation
import Resonance

/// `resonance check`: is this beamtime whole? With --repair, close what a dead writer left open.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a beamtime's database and frames; with --repair, close runs a dead writer left open.",
        discussion: """
            Checks SQLite integrity, reads back every referenced frame, compares arrays with \
            their image refs, and lists runs left open by a writer that died. --repair closes \
            those runs (exit_status "failed", time_stop = last event time, num_events = the \
            events that survived, a note in the run's metadata). Nothing is ever deleted.

            Exit status: 0 healthy, 1 problems found (or runs left open without --repair).

            Examples:
              resonance check 2026-03-05.db
              resonance check 2026-03-05.db --repair
              resonance check 2026-03-05.db --json
            """
    )

    @Argument(help: "The beamtime database (.db).")
    var db: String

    @Flag(help: "Close runs left open by a dead writer.")
    var repair = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let bar = ProgressBar(total: 1, label: "checking frames", unit: "frames")
        let report = try BeamtimeCheck.run(dbPath: db, repair: repair) { done, total in
            bar.update(done, of: total)
        }
        bar.finish()
        if json {
            Output.printJSON(Self.json(report))
        } else {
            Output.print(Self.text(report))
        }
        if !report.isHealthy { throw ExitCode(1) }
    }

    static func json(_ report: CheckReport) -> JSONValue {
        [
            "path": .string(report.path),
            "healthy": .bool(report.isHealthy),
            "frames_checked": .int(Int64(report.framesChecked)),
            "unreferenced_frames": .int(Int64(report.unreferencedFrames)),
            "problems": .array(report.problems.map { ["kind": .string($0.kind.rawValue), "path": .string($0.path), "message": .string($0.message)] }),
            "open_runs": .array(report.openRuns.map {
                ["uid": .string($0.uid), "plan_name": .string($0.planName), "time_start": .double($0.timeStart),
                 "events": .int(Int64($0.events)), "last_event_time": $0.lastEventTime.map(JSONValue.double) ?? .null,
                 "being_written": .bool($0.beingWritten)]
            }),
            "repairs": .array(report.repairs.map(JSONValue.string)),
            "notes": .array(report.notes.map(JSONValue.string)),
        ]
    }

    static func text(_ report: CheckReport) -> String {
        var lines = ["Checked \(report.path)"]
        let integrity = report.problems.filter { $0.kind == .integrity }
        lines.append("  SQLite integrity  \(integrity.isEmpty ? "ok" : "\(integrity.count) problems")")
        let unreadable = report.problems.filter { $0.kind != .integrity }.count
        lines.append("  frames            \(report.framesChecked) referenced frames read back, \(unreadable) problems")
        if report.unreferencedFrames > 0 {
            lines.append("  unreferenced      \(report.unreferencedFrames) stored frames have no image ref (kept; a writer stopped between frame and ref)")
        }
        let dead = report.openRuns.filter { !$0.beingWritten }
        let live = report.openRuns.filter(\.beingWritten)
        if !live.isEmpty { lines.append("  being written     \(live.count) open run(s) held by a live writer") }
        if !dead.isEmpty {
            lines.append("  left open         \(dead.count) run(s) left open by a writer that died (resonance check --repair closes them):")
            var table = TextTable(["uid", "plan", "started", "events", "last event"], rightAligned: [3])
            for run in dead {
                table.append([run.uid, run.planName, Format.time(run.timeStart), String(run.events), Format.time(run.lastEventTime)])
            }
            lines += table.render().split(separator: "\n").map { "    " + $0 }
        }
        if !report.problems.isEmpty {
            lines.append("Problems:")
            lines += report.problems.map { "  " + $0.description }
        }
        if !report.repairs.isEmpty {
            lines.append("Repaired:")
            lines += report.repairs.map { "  " + $0 }
        }
        if !report.notes.isEmpty {
            lines.append("Notes:")
            lines += report.notes.map { "  " + $0 }
        }
        lines.append(report.isHealthy ? "Healthy." : "Not healthy.")
        return lines.joined(separator: "\n")
    }
}
