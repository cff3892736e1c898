import CommandLineSupport
import ResonanceFormats
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
              resonance runs 2026-03-05.db --status open
              resonance runs 2026-03-05.db --since 2026-03-05T14:00 --where edge="C K" --where repeat=2
              resonance runs 2026-03-05.db --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
            """
    )

    @Argument(help: "The beamtime database (.db).")
    var db: String

    @Option(help: ArgumentHelp("Only runs of the sample with this name.", valueName: "name"))
    var sample: String?

    @Option(help: ArgumentHelp("Only runs of this plan (e.g. nexafs).", valueName: "plan"))
    var plan: String?

    @Option(help: ArgumentHelp("Only runs in this state: open (still written, or its writer died), success, aborted, failed, or another exit status.", valueName: "status"))
    var status: String?

    @Option(help: ArgumentHelp("Only runs started at or after this date (local time unless it names a zone).", valueName: "date"))
    var since: DateText?

    @Option(help: ArgumentHelp("Only runs started before this date; a bare date includes that day.", valueName: "date"))
    var until: DateText?

    @Option(name: .customLong("where"), help: ArgumentHelp(
        "Only runs whose metadata has this top-level key with this value (a JSON number, true, false or null, otherwise text). Repeatable.",
        valueName: "key=value"))
    var metadata: [MetadataMatch] = []

    @Option(help: ArgumentHelp("At most this many runs (the newest).", valueName: "n"))
    var limit: Int?

    @Flag(help: "Print JSON for programs instead of a table.")
    var json = false

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must not be negative (got \(limit))") }
    }

    func run() throws {
        let catalog = try Catalog(dbPath: db).open()
        var query = RunQuery(sample: sample, plan: plan, status: status.map(RunQuery.Status.init),
                             since: since.map { Date(timeIntervalSince1970: $0.start) },
                             until: until.map { Date(timeIntervalSince1970: $0.endForUntil) }, limit: limit)
        for match in metadata { query.metadata[match.key] = match.value }
        let runs = try catalog.runs(query)
        let all = try catalog.runs(RunQuery(order: .oldestFirst))
        if json {
            Output.printJSON(.array(runs.map(RunDescription.summary)))
            return
        }
        guard !runs.isEmpty else {
            let filters = [sample.map { "sample \($0.debugDescription)" }, plan.map { "plan \($0.debugDescription)" },
                           status.map { "status \($0)" }, since.map { _ in "--since" }, until.map { _ in "--until" }].compactMap { $0 }
                + metadata.map { "\($0.key)=\($0.value.jsonText)" }
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

    /// "12.3 s", "4m 05s", "2h 03m".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 60 else { return Format.seconds(max(seconds, 0)) }
        let s = Int(seconds.rounded())
        return s < 3600 ? String(format: "%dm %02ds", s / 60, s % 60) : String(format: "%dh %02dm", s / 3600, s % 3600 / 60)
    }
}

/// A `--where key=value` filter (``MetadataMatching/condition(_:)`` reads it).
struct MetadataMatch: ExpressibleByArgument {
    var key: String
    var value: JSONValue

    init?(argument: String) {
        guard let condition = MetadataMatching.condition(argument) else { return nil }
        key = condition.key
        value = condition.value
    }
}
