import Foundation
import JSONValue
import Resonance

/// A beamtime's runs as the children of its Tiled container: filtered, sorted and paged.
///
/// Filter keys are read as databroker reads them, against the start document: `plan_name`,
/// `sample_name`, `uid`, `time`, `num_events` and `exit_status` (also with a `start.` /
/// `stop.` prefix) come from the runs table; any other key from the run's metadata (for
/// a run that came from Bluesky, its start document), dotted paths going into objects.
///
/// What ``RunQuery`` can say (sample, plan, a top-level metadata key equal to a scalar, a
/// start time bound) runs in SQL with the paging and the count, so a page of a beamtime of
/// thousands of runs reads only that page. Anything else is checked run by run.
enum TiledRuns {
    /// What a page needs: the runs it holds and how many match in all.
    struct Page {
        var count: Int
        var runs: [RunSummary]
    }

    /// Keys answered from the runs table, not the metadata.
    static let tableKeys: Set<String> = ["uid", "plan_name", "time", "timestamp", "num_events", "exit_status", "sample_name", "sample"]

    static func count(_ catalog: Catalog, filters: [TiledFilter]) throws -> Int {
        try page(catalog, filters: filters, sort: "_", offset: 0, limit: 0).count
    }

    /// Runs in natural order (`_`: oldest first), `-_` newest first; also `time` /
    /// `start.time`, `plan_name`, `sample_name`, each with `-` for descending.
    static func page(_ catalog: Catalog, filters: [TiledFilter], sort: String, offset: Int, limit: Int) throws -> Page {
        let descending = sort.hasPrefix("-")
        let sortKey = descending ? String(sort.dropFirst()) : sort
        var query = RunQuery(order: descending ? .newestFirst : .oldestFirst)
        var rest: [TiledFilter] = []
        var lookup: String?
        for filter in filters {
            switch filter {
            case .lookup(let key):
                lookup = key
            case .eq(let key, let value):
                let k = normalized(key)
                if (k == "sample_name" || k == "sample"), let s = value.stringValue, query.sample == nil {
                    query.sample = s
                } else if k == "plan_name", let s = value.stringValue, query.plan == nil {
                    query.plan = s
                } else if !k.contains("."), !tableKeys.contains(k), value.isScalar, query.metadata[k] == nil {
                    query.metadata[k] = value
                } else {
                    rest.append(filter)
                }
            case .comparison(let op, let key, let value) where ["time", "timestamp"].contains(normalized(key)) && (op == "ge" || op == "lt"):
                guard let t = TiledFilter.number(value) else { rest.append(filter); continue }
                if op == "ge" { query.since = max(query.since ?? .distantPast, Date(timeIntervalSince1970: t)) }
                else { query.until = min(query.until ?? .distantFuture, Date(timeIntervalSince1970: t)) }
            default:
                rest.append(filter)
            }
        }
        let natural = ["_", "", "time", "start.time"].contains(sortKey)

        // A lookup (`node.search(...)["uid"]`) reads one run instead of listing them.
        if let lookup {
            guard let run = try? catalog.run(lookup) else { return Page(count: 0, runs: []) }
            let others = filters.filter { if case .lookup = $0 { return false }; return true }
            let runs = try passes(run.summary, others, catalog) ? [run.summary] : []
            return Page(count: runs.count, runs: offset == 0 && limit > 0 ? runs : [])
        }
        if rest.isEmpty && natural {
            let count = try catalog.count(query)
            guard limit > 0, offset < count else { return Page(count: count, runs: []) }
            query.offset = offset
            query.limit = limit
            return Page(count: count, runs: try catalog.runs(query))
        }
        var runs = try catalog.runs(query).filter { try passes($0, rest, catalog) }
        switch sortKey {
        case "_", "", "time", "start.time": break
        case "plan_name", "start.plan_name": runs.sort { descending ? $0.planName > $1.planName : $0.planName < $1.planName }
        case "sample_name", "start.sample_name":
            runs.sort { descending ? ($0.sampleName ?? "") > ($1.sampleName ?? "") : ($0.sampleName ?? "") < ($1.sampleName ?? "") }
        default: throw TiledError.badRequest("cannot sort runs by \(sortKey.debugDescription): sort by _, time, plan_name or sample_name (- for descending)")
        }
        let count = runs.count
        let start = min(offset, count), end = min(count, start + max(limit, 0))
        return Page(count: count, runs: Array(runs[start..<end]))
    }

    static func normalized(_ key: String) -> String {
        if key.hasPrefix("start.") { return String(key.dropFirst(6)) }
        if key.hasPrefix("summary.") { return String(key.dropFirst(8)) }
        return key
    }

    /// Whether a run passes filters that SQL did not check; its metadata is read only if a
    /// filter needs it.
    static func passes(_ summary: RunSummary, _ filters: [TiledFilter], _ catalog: Catalog) throws -> Bool {
        if filters.isEmpty { return true }
        var loaded: Run?
        func metadata() throws -> JSONObject {
            if loaded == nil { loaded = try catalog.run(summary.uid) }
            return loaded!.metadata
        }
        for filter in filters {
            let ok = try filter.matches(key: summary.uid, specs: ["BlueskyRun"], family: "container") { key in
                try value(key, summary, metadata)
            }
            if !ok { return false }
        }
        return true
    }

    /// The value of a filter key for a run.
    static func value(_ key: String, _ run: RunSummary, _ metadata: () throws -> JSONObject) throws -> JSONValue? {
        let k = normalized(key)
        switch k {
        case "uid": return .string(run.uid)
        case "plan_name": return .string(run.planName)
        case "time", "timestamp": return .double(run.timeStart)
        case "stop.time": return run.timeStop.map(JSONValue.double)
        case "num_events": return .int(Int64(run.numEvents))
        case "exit_status", "stop.exit_status": return run.exitStatus.map { .string($0.rawValue) }
        case "sample_name", "sample":
            if let name = run.sampleName { return .string(name) }
        default: break
        }
        return TiledFilter.lookup(k, in: try metadata())
    }
}

extension JSONValue {
    /// A string, number, boolean or null.
    var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }
}
