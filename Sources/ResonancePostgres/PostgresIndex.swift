import Foundation
import JSONValue
import Logging
import PostgresNIO
import Resonance

/// Reads a master index on a PostgreSQL server: the same answers as ``MasterIndex`` gives for a
/// SQLite file holding the same beamtimes.
///
/// ```swift
/// let index = try PostgresIndex(url: "postgres://reader@db.example.org/resonance").open()
/// for hit in try index.search(IndexQuery(tag: "polymer", limit: 20)) { print(hit.uid) }
/// ```
///
/// Every search reads one snapshot (one statement, or a read-only transaction when a
/// substring looks up sample names first), so it sees each beamtime either before or after
/// an indexer's transaction, never half of it. Calls block; see ``Blocking`` for the rule.
public final class PostgresIndex: MasterIndexReading {
    /// The URL without its password.
    public var location: String { session.url.redacted }
    let session: PostgresSession

    /// A reader of the database at `url`; nothing is touched until ``open()``.
    ///
    /// Throws ``PostgresIndexError`` (`.invalidURL`) for a URL that cannot be parsed.
    public init(url: String) throws {
        session = PostgresSession(url: try PostgresURL(url))
    }

    /// Connects and checks that the database holds a master index.
    /// Opening an open index does nothing.
    ///
    /// Throws ``PostgresIndexError`` for an unreachable server, refused credentials, a
    /// missing or empty database, another application's tables or a newer schema.
    @discardableResult
    public func open() throws -> PostgresIndex {
        try session.open(check: PostgresIndexSchema.checkReadable(location))
        return self
    }

    /// Closes the connection; later calls throw ``IndexError/notOpen(_:)`` until ``open()``.
    public func close() throws { try session.close() }

    public func researchers() throws -> [ResearcherInfo] {
        try session.run { connection, logger in
            try await connection.query(
                #"SELECT id, name, root_path, email, orcid, affiliation FROM researchers ORDER BY name COLLATE "C""#, logger: logger
            ).all().map {
                ResearcherInfo(
                    id: try $0.value("id"), name: try $0.value("name"), rootPath: try $0.value("root_path"),
                    email: try $0.value("email"), orcid: try $0.value("orcid"), affiliation: try $0.value("affiliation"))
            }
        }
    }

    public func beamtimes(researcher: String? = nil) throws -> [BeamtimeInfo] {
        try session.run { connection, logger in
            guard let researcher else { return try await Self.fetchBeamtimes(connection, logger, whereSQL: "true", binds: PostgresBindings()) }
            let id = try await Self.researcherID(connection, logger, name: researcher)
            var binds = PostgresBindings()
            binds.append(id)
            return try await Self.fetchBeamtimes(connection, logger, whereSQL: "b.researcher_id = $1", binds: binds)
        }
    }

    static func fetchBeamtimes(
        _ connection: PostgresConnection, _ logger: Logger, whereSQL: String, binds: PostgresBindings
    ) async throws -> [BeamtimeInfo] {
        let sql = """
            SELECT b.id, b.researcher_id, b.label, b.db_path, b.time_start, b.time_stop, b.description,
                   (SELECT count(*) FROM runs_index r WHERE r.beamtime_id = b.id) AS run_count
            FROM beamtimes b WHERE \(whereSQL)
            ORDER BY b.time_start IS NULL, b.time_start DESC, b.label COLLATE "C"
            """
        return try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).all().map {
            BeamtimeInfo(
                id: try $0.value("id"), researcherID: try $0.value("researcher_id"), label: try $0.value("label"),
                dbPath: try $0.value("db_path"), timeStart: try $0.value("time_start"), timeStop: try $0.value("time_stop"),
                description: try $0.value("description"), runCount: Int(try $0.value("run_count", as: Int64.self)))
        }
    }

    static func researcherID(_ connection: PostgresConnection, _ logger: Logger, name: String) async throws -> Int64 {
        if let row = try await connection.query("SELECT id FROM researchers WHERE name = \(name)", logger: logger).all().first {
            return try row.value("id")
        }
        let known = try await connection.query(#"SELECT name FROM researchers ORDER BY name COLLATE "C""#, logger: logger).all()
        throw IndexError.unknownResearcherName(name, known: try known.map { try $0.value("name") })
    }

    // MARK: Searching

    public func search(_ query: IndexQuery) throws -> [IndexedRun] {
        try inSnapshot(query) { connection, logger in
            let sql = try await Self.searchSQL(connection, logger, query)
            return try await connection.query(sql, logger: logger).all().map { row in
                IndexedRun(
                    uid: try row.value("uid"), planName: try row.value("plan_name"), sampleName: try row.value("sample_name"),
                    timeStart: try row.value("time_start"), tags: try row.value("tags"), researcher: try row.value("researcher"),
                    beamtimeLabel: try row.value("label"), dbPath: try row.value("db_path"))
            }
        }
    }

    /// PostgreSQL's plan for `query` (`EXPLAIN`), one line per step.
    public func queryPlan(_ query: IndexQuery) throws -> [String] {
        try inSnapshot(query) { connection, logger in
            var sql = try await Self.searchSQL(connection, logger, query)
            sql.sql = "EXPLAIN " + sql.sql
            return try await connection.query(sql, logger: logger).all().map { try $0.value("QUERY PLAN", as: String.self) }
        }
    }

    /// Runs `body`, which reads for `query`: in one read-only snapshot when the search is
    /// more than one statement (a substring looks up sample names first), so it still sees
    /// each beamtime's indexing whole or not at all.
    private func inSnapshot<T: Sendable>(
        _ query: IndexQuery, _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) throws -> T {
        guard case .containing? = query.sample else { return try session.run(body) }
        return try session.run { connection, logger in
            try await PostgresSession.transaction(connection, logger, isolation: .snapshot) { try await body($0, logger) }
        }
    }

    /// Above this many sample names matching a substring, the search filters runs by the
    /// pattern instead (newest first: a substring of so many names finds its hits at once;
    /// and a longer array only makes planning slow, 30 ms for 13,000 names).
    static let sampleNameLimit = 1000

    /// The sample names that contain `part` (ASCII case folded, as SQLite's LIKE), from
    /// `sample_names` (schema version 2); nil without that table or above ``sampleNameLimit``.
    static func sampleNames(containing part: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> [String]? {
        let present = try await connection.query("SELECT to_regclass('sample_names') IS NOT NULL AS present", logger: logger).all()
        guard try present.first?.value("present", as: Bool.self) == true else { return nil }
        var binds = PostgresBindings()
        binds.append(likePattern(part))
        binds.append(Int64(sampleNameLimit + 1))
        let sql = "SELECT name FROM sample_names WHERE \(PostgresIndexSchema.lowered("name")) LIKE $1 LIMIT $2"
        let names = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).all()
            .map { try $0.value("name", as: String.self) }
        return names.count > sampleNameLimit ? nil : names
    }

    /// `%part%` for LIKE on ASCII-lowered text: `%`, `_` and `\` in `part` match only themselves.
    static func likePattern(_ part: String) -> String {
        "%" + MasterIndex.likeEscaped(asciiLowercased(part)) + "%"
    }

    /// The search as one statement (after looking up the researcher's id and, for a
    /// substring, the matching sample names), with the same meaning as the SQLite one
    /// (`MasterIndex.searchSQL`): LIKE folds ASCII case only, a tag is one exact element.
    static func searchSQL(_ connection: PostgresConnection, _ logger: Logger, _ query: IndexQuery) async throws -> PostgresQuery {
        var conditions: [String] = []
        var binds = PostgresBindings()
        func bind(_ value: some PostgresNonThrowingEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        switch query.sample {
        case .exactly(let name)?:
            conditions.append("r.sample_name = \(bind(name))")
        case .containing(let part)?:
            if let names = try await sampleNames(containing: part, connection, logger) {
                // The planner sees the names: a few walk their (sample_name, time) index.
                conditions.append("r.sample_name = ANY(\(bind(names)))")
            } else {
                conditions.append("\(PostgresIndexSchema.lowered("r.sample_name")) LIKE \(bind(likePattern(part)))")
            }
        case nil: break
        }
        if let plan = query.plan { conditions.append("r.plan_name = \(bind(plan))") }
        if let researcher = query.researcher {
            let id = try await researcherID(connection, logger, name: researcher)
            conditions.append("r.researcher_id = \(bind(id))")
        }
        if let tag = query.tag { conditions.append("r.tags @> ARRAY[\(bind(tag))]::text[]") }
        if !query.metadata.isEmpty {
            // One containment test for all pairs, served by the jsonb_path_ops GIN index. It
            // has the SQLite rule: a top-level key (a nested one is another level of the
            // object), strings exactly, numbers by value (jsonb compares numerics, so 1 @> 1.0),
            // true, false, null; an array member never contains a scalar below the top level.
            try query.checkMetadata()
            conditions.append("r.metadata @> \(bind(JSONValue.object(query.metadata).jsonText))::jsonb")
        }
        if let since = query.since { conditions.append("r.time_start >= \(bind(since))") }
        if let until = query.until { conditions.append("r.time_start < \(bind(until))") }
        var limitSQL = ""
        if let limit = query.limit {
            guard limit > 0 else { throw IndexError.invalidValue(kind: "limit", value: "\(limit)", reason: "must be positive (nil for no limit)") }
            limitSQL = "LIMIT \(bind(Int64(limit)))"
        }
        let sql = """
            SELECT r.uid, r.plan_name, r.sample_name, r.time_start, r.tags, p.name AS researcher, b.label, b.db_path
            FROM runs_index r
            JOIN beamtimes b ON b.id = r.beamtime_id
            JOIN researchers p ON p.id = r.researcher_id
            WHERE \(conditions.isEmpty ? "true" : conditions.joined(separator: " AND "))
            ORDER BY r.time_start DESC, r.id DESC
            \(limitSQL)
            """
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    static func asciiLowercased(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { (65...90).contains($0.value) ? Unicode.Scalar($0.value + 32)! : $0 }))
    }
}
