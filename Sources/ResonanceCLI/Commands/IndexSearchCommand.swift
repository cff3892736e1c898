import CommandLineSupport
import ResonanceFormats
import ArgumentParser
import Foundation
import Resonance
import ResonancePostgres

/// `resonance index search INDEX.db|URL [filters] [--limit N] [--json]`
struct IndexSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find runs in a master index, newest first.",
        discussion: """
            Every filter given must match. Dates are in the local time zone unless they
            carry one (Z or +02:00): YYYY-MM-DD, or an ISO 8601 date-time such as
            2026-03-05T14:30, 2026-03-05T14:30:15 or 2026-03-05T14:30:15Z. --since includes
            its moment; --until excludes it, and a bare date for --until includes that whole day.

            Examples:
              resonance index search index.db --sample PS
              resonance index search index.db --sample-contains pcbm --plan nexafs --limit 20
              resonance index search index.db --researcher "Ada" --since 2026-03-01 --until 2026-03-31
              resonance index search index.db --tag polymer --json
              resonance index search index.db --where edge="C K" --where repeat=2
              resonance index search postgres://reader@db.example.org/resonance --tag polymer
            """
    )

    @Argument(help: ArgumentHelp("The master index file, or a postgres:// URL (password from PGPASSWORD or ~/.pgpass).", valueName: "index.db|url"))
    var indexPath: String

    @Option(help: ArgumentHelp("Runs of the sample with exactly this name.", valueName: "name"))
    var sample: String?

    @Option(name: .customLong("sample-contains"), help: ArgumentHelp("Runs of samples whose name contains this (ignoring ASCII case).", valueName: "text"))
    var sampleContains: String?

    @Option(help: ArgumentHelp("Runs of this plan.", valueName: "plan"))
    var plan: String?

    @Option(help: ArgumentHelp("Runs of this researcher.", valueName: "name"))
    var researcher: String?

    @Option(help: ArgumentHelp("Runs whose sample has this tag (exact).", valueName: "tag"))
    var tag: String?

    @Option(help: ArgumentHelp("Runs started at or after this date (local time).", valueName: "date"))
    var since: DateText?

    @Option(help: ArgumentHelp("Runs started before this date (local time); a bare date includes that day.", valueName: "date"))
    var until: DateText?

    @Option(name: .customLong("where"), help: ArgumentHelp(
        "Runs whose metadata has this top-level key with this value (a JSON number, true, false or null, otherwise text), as `resonance runs --where`. Repeatable.",
        valueName: "key=value"))
    var metadata: [MetadataMatch] = []

    @Option(help: ArgumentHelp("Show at most this many runs.", valueName: "n"))
    var limit: Int = 100

    @Flag(help: "Print a JSON array of objects (uid, plan_name, sample_name, time_start, researcher, beamtime_label, db_path).")
    var json = false

    func validate() throws {
        if sample != nil, sampleContains != nil { throw ValidationError("Give --sample or --sample-contains, not both.") }
        if limit < 1 { throw ValidationError("--limit must be at least 1 (got \(limit)).") }
    }

    func run() throws {
        var query = IndexQuery(plan: plan, researcher: researcher, tag: tag, limit: limit)
        if let sample { query.sample = .exactly(sample) }
        if let sampleContains { query.sample = .containing(sampleContains) }
        query.since = since?.start
        query.until = until?.endForUntil
        for match in metadata { query.metadata[match.key] = match.value }
        let hits: [IndexedRun]
        do {
            hits = try MasterIndexes.reader(at: indexPath).open().search(query)
        } catch {
            throw describeIndexError(error, indexPath: indexPath)
        }
        if json {
            Output.print(Self.jsonText(hits))
        } else if hits.isEmpty {
            Output.message("no runs match")
        } else {
            Output.print(Self.table(hits))
        }
        if hits.count == limit { Output.message("showing the newest \(limit) runs; --limit shows more") }
    }

    static func jsonText(_ hits: [IndexedRun]) -> String {
        if hits.isEmpty { return "[]" }
        let objects = hits.map { hit -> String in
            let object: JSONObject = [
                "uid": .string(hit.uid), "plan_name": .string(hit.planName), "sample_name": hit.sampleName.map(JSONValue.string) ?? .null,
                "time_start": .double(hit.timeStart), "researcher": .string(hit.researcher),
                "beamtime_label": .string(hit.beamtimeLabel), "db_path": .string(hit.dbPath),
            ]
            return "  " + JSONValue.object(object).jsonText
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]"
    }

    static func table(_ hits: [IndexedRun]) -> String {
        var table = TextTable(["uid", "plan", "sample", "started", "researcher", "beamtime"])
        for hit in hits {
            table.append([hit.uid, hit.planName, hit.sampleName ?? "-", Format.time(hit.timeStart), hit.researcher, hit.beamtimeLabel])
        }
        return table.render()
    }
}
