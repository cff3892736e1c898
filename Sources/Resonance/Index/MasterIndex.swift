import Foundation
import GRDB

/// Reads the master index: researchers, beamtimes, and searches over every indexed run.
///
/// ```swift
/// let index = try MasterIndex(path: "/data/index.db").open()
/// for hit in try index.search(sample: .containing("PS"), tag: "polymer", limit: 20) {
///     print(hit.uid, hit.planName, hit.beamtimeLabel)
///     let run = try Catalog(dbPath: hit.dbPath).open().run(hit.uid)
/// }
/// ```
///
/// Searches are newest first. Filters on the sample name (exact), plan, researcher and
/// time range use indexes and take under a millisecond at a million runs. A substring
/// of a sample name and a tag are checked run by run, newest first, until `limit` hits
/// are found: immediate when they match many recent runs, ~0.3 s at a million runs when
/// they match none. `resonance index bench` measures them.
public final class MasterIndex: Openable, Sendable {
    /// Path of the index file.
    public let path: String
    private let lifecycle = Lifecycle<DatabaseQueue>()

    /// A reader of the index at `path`; nothing is read until ``open()``.
    public init(path: String) {
        self.path = path
    }

    deinit {
        try? lifecycle.close()?.close()
    }

    /// Opens the existing index for reading; opening an open index does nothing.
    ///
    /// Throws ``DatabaseFileError`` when the file is missing, not SQLite, not a master
    /// index, or of a newer schema version.
    @discardableResult
    public func open() throws -> MasterIndex {
        try lifecycle.open { try DatabaseFile.openForReading(path, schema: IndexSchema.self) }
        return self
    }

    /// Closes the file; later calls throw ``IndexError/notOpen(_:)`` until ``open()``.
    public func close() throws {
        try lifecycle.close()?.close()
    }

    private var queue: DatabaseQueue {
        get throws { try lifecycle.resource(notOpen: IndexError.notOpen(path), closed: IndexError.notOpen(path)) }
    }

    /// Every researcher, by name.
    public func researchers() throws -> [ResearcherInfo] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, root_path, email, orcid, affiliation FROM researchers ORDER BY name").map {
                ResearcherInfo(
                    id: $0["id"], name: $0["name"], rootPath: $0["root_path"], email: $0["email"], orcid: $0["orcid"],
                    affiliation: $0["affiliation"])
            }
        }
    }

    /// The beamtimes of one researcher (by name), or of everyone; newest first.
    ///
    /// ```swift
    /// for beamtime in try index.beamtimes(researcher: "Ada") { print(beamtime.label, beamtime.runCount) }
    /// ```
    public func beamtimes(researcher: String? = nil) throws -> [BeamtimeInfo] {
        try queue.read { db in
            guard let researcher else { return try Self.fetchBeamtimes(db, whereSQL: "1", arguments: []) }
            let id = try Self.researcherID(db, name: researcher)
            return try Self.fetchBeamtimes(db, whereSQL: "b.researcher_id = ?", arguments: [id])
        }
    }

    static func fetchBeamtimes(_ db: Database, whereSQL: String, arguments: StatementArguments) throws -> [BeamtimeInfo] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT b.id, b.researcher_id, b.label, b.db_path, b.time_start, b.time_stop, b.description,
                       (SELECT count(*) FROM runs_index r WHERE r.beamtime_id = b.id) AS run_count
                FROM beamtimes b WHERE \(whereSQL)
                ORDER BY b.time_start IS NULL, b.time_start DESC, b.label
                """,
            arguments: arguments
        ).map {
            BeamtimeInfo(
                id: $0["id"], researcherID: $0["researcher_id"], label: $0["label"], dbPath: $0["db_path"],
                timeStart: $0["time_start"], timeStop: $0["time_stop"], description: $0["description"], runCount: $0["run_count"])
        }
    }

    static func researcherID(_ db: Database, name: String) throws -> Int64 {
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM researchers WHERE name = ?", arguments: [name]) { return id }
        throw IndexError.unknownResearcherName(name, known: try String.fetchAll(db, sql: "SELECT name FROM researchers ORDER BY name"))
    }

    // MARK: Searching

    // search(sample:plan:researcher:tag:since:until:limit:) is MasterIndexReading's, for every backend.

    /// Runs matching `query`, newest first.
    public func search(_ query: IndexQuery) throws -> [IndexedRun] {
        try queue.read { db in
            let (sql, arguments) = try Self.searchSQL(db, query)
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                let tagsText: String? = row["tags"]
                return IndexedRun(
                    uid: row["uid"], planName: row["plan_name"], sampleName: row["sample_name"], timeStart: row["time_start"],
                    tags: Self.decodeTags(tagsText), researcher: row["researcher"], beamtimeLabel: row["label"],
                    dbPath: row["db_path"])
            }
        }
    }

    /// SQLite's plan for `query` (`EXPLAIN QUERY PLAN`), one line per step, e.g.
    /// `SEARCH r USING INDEX idx_runs_index_sample_tstart (sample_name=?)`.
    public func queryPlan(_ query: IndexQuery) throws -> [String] {
        try queue.read { db in
            let (sql, arguments) = try Self.searchSQL(db, query)
            return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] }
        }
    }

    static func searchSQL(_ db: Database, _ query: IndexQuery) throws -> (String, StatementArguments) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        // An exact sample name picks few runs: make it the only usable index (a unary `+`
        // hides a column from the planner) so SQLite does not walk a plan's many runs.
        let other = if case .exactly = query.sample { "+" } else { "" }
        switch query.sample {
        case .exactly(let name)?:
            conditions.append("r.sample_name = ?")
            arguments += [name]
        case .containing(let part)?:
            conditions.append(#"r.sample_name LIKE ? ESCAPE '\'"#)
            arguments += ["%" + likeEscaped(part) + "%"]
        case nil: break
        }
        if let plan = query.plan {
            conditions.append("\(other)r.plan_name = ?")
            arguments += [plan]
        }
        if let researcher = query.researcher {
            conditions.append("\(other)r.researcher_id = ?")
            arguments += [try researcherID(db, name: researcher)]
        }
        if let tag = query.tag {
            // Exact element match. A plain tag appears in the JSON text as "tag" whichever
            // side wrote it, so instr() skips most runs before the JSON is parsed;
            // json_valid keeps one malformed row from failing the whole search.
            if let quoted = Self.plainJSONString(tag) {
                conditions.append("instr(r.tags, ?) > 0")
                arguments += [quoted]
            }
            conditions.append("""
                EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(r.tags) THEN r.tags ELSE '[]' END) AS t
                        WHERE t.type = 'text' AND t.value = ?)
                """)
            arguments += [tag]
        }
        if !query.metadata.isEmpty {
            try query.checkMetadata()
            if try db.columns(in: "runs_index").contains(where: { $0.name == "metadata" }) {
                for (key, value) in query.metadata {
                    // As for tags: a plain key, and a plain text value, appear in the JSON
                    // text as "key" and "value" (the writer's JSON), so instr() skips most
                    // runs before json_each parses their metadata. A number has many spellings.
                    for text in [key, value.stringValue].compactMap({ $0 }) {
                        if let quoted = Self.plainJSONString(text) {
                            conditions.append("instr(r.metadata, ?) > 0")
                            arguments += [quoted]
                        }
                    }
                    let (term, termArguments) = MetadataMatching.sqliteCondition(column: "r.metadata", key: key, value: value)
                    conditions.append(term)
                    arguments += termArguments
                }
            } else {
                conditions.append("0")  // a version-1 file a reader did not migrate: no run has metadata
            }
        }
        if let since = query.since {
            conditions.append("r.time_start >= ?")
            arguments += [since]
        }
        if let until = query.until {
            conditions.append("r.time_start < ?")
            arguments += [until]
        }
        var limitSQL = ""
        if let limit = query.limit {
            guard limit > 0 else { throw IndexError.invalidValue(kind: "limit", value: "\(limit)", reason: "must be positive (nil for no limit)") }
            limitSQL = "LIMIT ?"
            arguments += [limit]
        }
        // CROSS JOIN keeps runs_index the outer loop, so the planner walks a runs index in
        // time order and stops at the limit instead of starting from researchers.
        let sql = """
            SELECT r.uid, r.plan_name, r.sample_name, r.time_start, r.tags, p.name AS researcher, b.label, b.db_path
            FROM runs_index r
            CROSS JOIN beamtimes b ON b.id = r.beamtime_id
            CROSS JOIN researchers p ON p.id = r.researcher_id
            WHERE \(conditions.isEmpty ? "1" : conditions.joined(separator: " AND "))
            ORDER BY r.time_start DESC, r.rowid DESC
            \(limitSQL)
            """
        return (sql, arguments)
    }

    /// `"text"` when the index's JSON writer writes `text` as it is (printable ASCII without
    /// a quote or backslash), so that an `instr()` on the stored JSON can rule out a row.
    static func plainJSONString(_ text: String) -> String? {
        text.unicodeScalars.allSatisfy({ (0x20...0x7E).contains($0.value) && $0 != "\"" && $0 != "\\" }) ? "\"" + text + "\"" : nil
    }

    /// `text` for a `LIKE ... ESCAPE '\'` pattern: `%`, `_` and `\` match only themselves.
    /// Both index backends build their substring searches with it.
    public static func likeEscaped(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// Tags as stored: a JSON array of strings. Anything else reads as no tags.
    static func decodeTags(_ text: String?) -> [String] {
        guard let text, let value = try? JSONValue(parsing: text), let array = value.arrayValue else { return [] }
        return array.compactMap(\.stringValue)
    }
}
