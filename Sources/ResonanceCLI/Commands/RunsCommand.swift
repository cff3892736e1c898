import ArgumentParser
import Foundation
import JSONValue
import Resonance

/// `resonance runs`: the runs of a beamtime, newest first.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List the runs of a beamtime, newest first.",
        discussion: """
            The uid column shows the shortest prefix (8 digits or more) that tells the run \
            apart from every other run of the beamtime; `show`, `table`, `frames` and `plot` \
            accept it. --json prints every run in full as an array of objects with the keys \
            uid, plan_name, sample_name, time_start, time_stop, exit_status, num_events \
            (times in Unix seconds; null for a run still open).

            Examples:
              resonance runs 2026-03-05.db
              resonance runs 2026-03-05.db --sample PS-b-PMMA --plan nexafs --limit 5
              resonance runs 2026-03-05.db --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
            """
    )

    @Argument(help: "The beamtime database (.db).")
    var db: String

    @Option(help: ArgumentHelp("Only runs of the sample with this name.", valueName: "name"))
    var sample: String?

    @Option(help: ArgumentHelp("Only runs of this plan (e.g. nexafs).", valueName: "plan"))
    var plan: String?

    @Option(help: ArgumentHelp("At most this many runs (the newest).", valueName: "n"))
    var limit: Int?

    @Flag(help: "Print JSON for programs instead of a table.")
    var json = false

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must not be negative (got \(limit))") }
    }

    func run() throws {
        let catalog = try Catalog(dbPath: db)
        let all = try catalog.allRuns()
        var runs = all.reversed().filter { run in
            (sample == nil || run.sampleName == sample) && (plan == nil || run.planName == plan)
        }
        if let limit { runs = Array(runs.prefix(limit)) }
        if json {
            Output.printJSON(.array(runs.map(Self.json)))
            return
        }
        guard !runs.isEmpty else {
            let filters = [sample.map { "sample \($0.debugDescription)" }, plan.map { "plan \($0.debugDescription)" }].compactMap { $0 }
            Output.message(all.isEmpty ? "\(db): no runs yet"
                : filters.isEmpty ? "no runs listed (--limit 0)" : "no runs match " + filters.joined(separator: " and "))
            return
        }
        let short = RunLookup.shortUIDs(all.map(\.uid))
        var table = TextTable(["uid", "started", "plan", "sample", "events", "duration", "status"], rightAligned: [4, 5])
        for run in runs {
            table.append([
                short[run.uid] ?? run.uid, Format.time(run.timeStart), run.planName, run.sampleName ?? "-",
                String(run.numEvents), run.timeStop.map { Self.duration($0 - run.timeStart) } ?? "-",
                run.exitStatus?.rawValue ?? "open",
            ])
        }
        Output.print(table.render())
        if runs.count < all.count { Output.message("\(runs.count) of \(all.count) runs") }
    }

    static func json(_ run: RunSummary) -> JSONValue {
        [
            "uid": .string(run.uid),
            "plan_name": .string(run.planName),
            "sample_name": run.sampleName.map(JSONValue.string) ?? .null,
            "time_start": .double(run.timeStart),
            "time_stop": run.timeStop.map(JSONValue.double) ?? .null,
            "exit_status": run.exitStatus.map { .string($0.rawValue) } ?? .null,
            "num_events": .int(Int64(run.numEvents)),
        ]
    }

    /// "12.3 s", "4m 05s", "2h 03m".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 60 else { return Format.seconds(max(seconds, 0)) }
        let s = Int(seconds.rounded())
        return s < 3600 ? String(format: "%dm %02ds", s / 60, s % 60) : String(format: "%dh %02dm", s / 3600, s % 3600 / 60)
    }
}
