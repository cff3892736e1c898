import Foundation
import JSONValue
import Logging
import PostgresNIO
import Resonance

/// Writes a master index on a PostgreSQL server, with the rules of ``MasterIndexWriter``.
///
/// ```swift
/// let index = try PostgresIndexWriter(url: "postgres://indexer@db.example.org/resonance").open()
/// let ada = try index.registerResearcher(name: "Ada", rootPath: "/data/ada")
/// try index.indexBeamtime(dbPath: "/data/ada/2026-03-05.db", researcherID: ada)
/// ```
///
/// Made for several indexers at once, on one machine or many: every call is one
/// transaction (SERIALIZABLE; a whole beamtime READ COMMITTED under an advisory lock on
/// the beamtime), retried from the start on a serialization failure, a deadlock or a
/// concurrent insert of the same key, so indexing the same beamtime twice at once leaves
/// one copy of each run (a run uid is the key), and a reader sees a beamtime before or
/// after, never half. A killed indexer
/// leaves nothing: the server rolls its transaction back. Calls block; see ``Blocking``.
public final class PostgresIndexWriter: MasterIndexWriting {
    /// The URL without its password.
    public var location: String { session.url.redacted }
    let session: PostgresSession

    /// A writer of the database at `url`; nothing is touched until ``open()``.
    ///
    /// Throws ``PostgresIndexError`` (`.invalidURL`) for a URL that cannot be parsed.
    public init(url: String) throws {
        session = PostgresSession(url: try PostgresURL(url))
    }

    /// Connects and checks that the database holds a master index (creating the schema in an empty one).
    /// Opening an open index does nothing.
    ///
    /// Throws ``PostgresIndexError`` for an unreachable server, refused credentials, a
    /// missing or empty database, another application's tables or a newer schema.
    @discardableResult
    public func open() throws -> PostgresIndexWriter {
        try session.open(check: PostgresIndexSchema.ensureWritable(location))
        return self
    }

    /// Closes the connection; later calls throw ``IndexError/notOpen(_:)`` until ``open()``.
    public func close() throws { try session.close() }


    /// Runs `body` in a retried transaction, after the schema check.
    private func transaction<T: Sendable>(
        isolation: PostgresSession.Isolation = .serializable, _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) throws -> T {
        try session.run(check: PostgresIndexSchema.ensureWritable(location)) { connection, logger in
            try await PostgresSession.transaction(connection, logger, isolation: isolation) { try await body($0, logger) }
        }
    }

    /// Orders the transactions that change one beamtime's runs, on every machine: held
    /// until commit or rollback (or until the server sees a killed client's socket close).
    static func lockBeamtime(_ connection: PostgresConnection, _ logger: Logger, _ beamtimeID: Int64) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(827165, \(Int32(truncatingIfNeeded: beamtimeID)))", logger: logger)
    }


    @discardableResult
    public func registerResearcher(
        name: String, rootPath: String? = nil, email: String? = nil, orcid: String? = nil, affiliation: String? = nil
    ) throws -> Int64 {
        try MasterIndexWriter.checkText(name, kind: "researcher name")
        let root = try rootPath.map { path throws(IndexError) in
            try MasterIndexWriter.checkText(path, kind: "root path")
            return MasterIndexWriter.standardizedPath(path)
        }
        return try transaction { connection, logger in
            try await Self.registerResearcher(
                connection, logger, name: name, root: root, email: email, orcid: orcid, affiliation: affiliation)
        }
    }

    static func registerResearcher(
        _ connection: PostgresConnection, _ logger: Logger, name: String, root: String?, email: String?, orcid: String?,
        affiliation: String?
    ) async throws -> Int64 {
        let updated = try await connection.query(
            """
            UPDATE researchers SET root_path = coalesce(\(root), root_path), email = coalesce(\(email), email),
                orcid = coalesce(\(orcid), orcid), affiliation = coalesce(\(affiliation), affiliation)
            WHERE name = \(name) RETURNING id
            """, logger: logger
        ).all()
        if let row = updated.first { return try row.value("id") }
        guard let root else { throw IndexError.rootPathRequired(researcher: name) }
        let inserted = try await connection.query(
            """
            INSERT INTO researchers (name, root_path, email, orcid, affiliation)
            VALUES (\(name), \(root), \(email), \(orcid), \(affiliation)) RETURNING id
            """, logger: logger
        ).all()
        return try inserted[0].value("id")
    }

    @discardableResult
    public func registerBeamtime(researcherID: Int64, label: String? = nil, dbPath: String, timeStart: Double? = nil) throws -> Int64 {
        try MasterIndexWriter.checkText(dbPath, kind: "beamtime path")
        if let label { try MasterIndexWriter.checkText(label, kind: "beamtime label") }
        return try transaction { connection, logger in
            try await Self.registerBeamtime(connection, logger, researcherID: researcherID, label: label, dbPath: dbPath, timeStart: timeStart)
        }
    }

    static func registerBeamtime(
        _ connection: PostgresConnection, _ logger: Logger, researcherID: Int64, label: String?, dbPath: String, timeStart: Double?
    ) async throws -> Int64 {
        guard try await !connection.query("SELECT 1 FROM researchers WHERE id = \(researcherID)", logger: logger).all().isEmpty else {
            throw IndexError.unknownResearcher(id: researcherID)
        }
        let path = MasterIndexWriter.standardizedPath(dbPath)
        if let row = try await connection.query("SELECT id, researcher_id FROM beamtimes WHERE db_path = \(path)", logger: logger).all().first {
            let id: Int64 = try row.value("id")
            try await connection.query(
                """
                UPDATE beamtimes SET researcher_id = \(researcherID), label = coalesce(\(label), label),
                    time_start = coalesce(\(timeStart), time_start)
                WHERE id = \(id)
                """, logger: logger)
            if try row.value("researcher_id", as: Int64.self) != researcherID {
                // A run belongs to the beamtime's researcher; keep the two in step.
                try await connection.query("UPDATE runs_index SET researcher_id = \(researcherID) WHERE beamtime_id = \(id)", logger: logger)
            }
            return id
        }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let inserted = try await connection.query(
            """
            INSERT INTO beamtimes (researcher_id, label, db_path, time_start)
            VALUES (\(researcherID), \(label ?? stem), \(path), \(timeStart)) RETURNING id
            """, logger: logger
        ).all()
        return try inserted[0].value("id")
    }

    static func checkOwner(_ connection: PostgresConnection, _ logger: Logger, researcherID: Int64, beamtimeID: Int64) async throws {
        guard try await !connection.query("SELECT 1 FROM researchers WHERE id = \(researcherID)", logger: logger).all().isEmpty else {
            throw IndexError.unknownResearcher(id: researcherID)
        }
        guard let row = try await connection.query("SELECT researcher_id FROM beamtimes WHERE id = \(beamtimeID)", logger: logger).all().first
        else { throw IndexError.unknownBeamtime(id: beamtimeID) }
        let owner: Int64 = try row.value("researcher_id")
        if owner != researcherID {
            throw IndexError.beamtimeOfAnotherResearcher(beamtimeID: beamtimeID, researcherID: researcherID, ownerID: owner)
        }
    }

    // MARK: Runs

    public func indexRun(
        uid: String, researcherID: Int64, beamtimeID: Int64, planName: String, sampleName: String? = nil,
        timeStart: Double, tags: [String] = [], metadata: JSONObject = [:]
    ) throws {
        let run = MasterIndexWriter.RunEntry(
            uid: uid, planName: planName, sampleName: sampleName, timeStart: timeStart, tags: tags, metadata: metadata)
        try run.validate()
        try transaction { connection, logger in
            try await Self.checkOwner(connection, logger, researcherID: researcherID, beamtimeID: beamtimeID)
            try await Self.lockBeamtime(connection, logger, beamtimeID)
            try await Self.upsert(connection, logger, [run], researcherID: researcherID, beamtimeID: beamtimeID)
            try await connection.query(
                """
                UPDATE beamtimes SET time_start = least(coalesce(time_start, \(timeStart)), \(timeStart)),
                                     time_stop = greatest(coalesce(time_stop, \(timeStart)), \(timeStart))
                WHERE id = \(beamtimeID)
                """, logger: logger)
        }
    }

    /// Runs per INSERT statement in ``indexBeamtime(dbPath:researcherID:label:)``.
    static let chunkSize = ProcessInfo.processInfo.environment["RESONANCE_POSTGRES_CHUNK_RUNS"].flatMap { Int($0) } ?? 5000
    /// Tests only: a pause between two chunks of one beamtime, so a test can kill the
    /// indexer mid-beamtime (`RESONANCE_POSTGRES_TEST_PAUSE_MS`).
    static let testPause = ProcessInfo.processInfo.environment["RESONANCE_POSTGRES_TEST_PAUSE_MS"].flatMap { UInt64($0) } ?? 0

    /// Inserts or updates `runs` in one statement: the runs travel as one JSON array,
    /// expanded by `jsonb_to_recordset` (thousands of runs per round trip).
    static func upsert(
        _ connection: PostgresConnection, _ logger: Logger, _ runs: some Collection<MasterIndexWriter.RunEntry>,
        researcherID: Int64, beamtimeID: Int64
    ) async throws {
        let rows = runs.map { run -> JSONValue in
            .object([
                "uid": .string(run.uid), "plan_name": .string(run.planName), "sample_name": run.sampleName.map(JSONValue.string) ?? .null,
                "time_start": .double(run.timeStart), "tags": .array(run.tags.map(JSONValue.string)),
                "metadata": .object(run.indexedMetadata),
            ])
        }
        let json = JSONValue.array(rows).jsonText
        // The sample names go to `sample_names` in the same statement (in name order, so two
        // indexers adding the same new names wait for each other instead of deadlocking).
        try await connection.query(
            """
            WITH x AS MATERIALIZED (
                SELECT * FROM jsonb_to_recordset(\(json)::jsonb)
                    AS x(uid text, plan_name text, sample_name text, time_start float8, tags text[], metadata jsonb)
            ), names AS (
                INSERT INTO sample_names (name)
                SELECT DISTINCT sample_name FROM x WHERE sample_name IS NOT NULL ORDER BY sample_name
                ON CONFLICT (name) DO NOTHING
            )
            INSERT INTO runs_index (uid, researcher_id, beamtime_id, plan_name, sample_name, time_start, tags, metadata)
            SELECT x.uid, \(researcherID), \(beamtimeID), x.plan_name, x.sample_name, x.time_start, x.tags, x.metadata FROM x
            ON CONFLICT (uid) DO UPDATE SET
                researcher_id = excluded.researcher_id, beamtime_id = excluded.beamtime_id,
                plan_name = excluded.plan_name, sample_name = excluded.sample_name,
                time_start = excluded.time_start, tags = excluded.tags, metadata = excluded.metadata
            """, logger: logger)
    }

    // MARK: Whole beamtimes

    /// Makes the beamtime's indexed runs exactly the runs its file holds, in one
    /// transaction; see ``MasterIndexWriter/indexBeamtime(dbPath:researcherID:label:)``.
    @discardableResult
    public func indexBeamtime(dbPath: String, researcherID: Int64, label: String? = nil) throws -> BeamtimeIndexing {
        try indexBeamtime(dbPath: dbPath, researcherID: researcherID, label: label, runs: MasterIndexWriter.readRuns(ofBeamtime: dbPath))
    }

    /// The same for runs already read (``MasterIndexWriter/readRuns(ofBeamtime:)``), or made by a benchmark.
    @discardableResult
    public func indexBeamtime(dbPath: String, researcherID: Int64, label: String?, runs: [MasterIndexWriter.RunEntry]) throws -> BeamtimeIndexing {
        try MasterIndexWriter.checkText(dbPath, kind: "beamtime path")
        if let label { try MasterIndexWriter.checkText(label, kind: "beamtime label") }
        for run in runs { try run.validate() }
        // One row per uid (the last wins, as successive upserts would leave it).
        var seen = Set<String>()
        let unique = Array(runs.reversed().filter { seen.insert($0.uid).inserted }.reversed())
        return try transaction(isolation: .readCommitted) { connection, logger in
            let beamtimeID = try await Self.registerBeamtime(
                connection, logger, researcherID: researcherID, label: label, dbPath: dbPath, timeStart: nil)
            // Read committed: each statement after the lock sees what the previous indexer committed.
            try await Self.lockBeamtime(connection, logger, beamtimeID)
            let before = Set(try await connection.query("SELECT uid FROM runs_index WHERE beamtime_id = \(beamtimeID)", logger: logger)
                .all().map { try $0.value("uid", as: String.self) })
            let newUIDs = unique.map(\.uid).filter { !before.contains($0) }
            let elsewhere = try await connection.query("SELECT count(*) AS n FROM runs_index WHERE uid = ANY(\(newUIDs))", logger: logger)
                .all()[0].value("n", as: Int64.self)
            var start = unique.startIndex
            while start < unique.endIndex {
                if start > unique.startIndex, Self.testPause > 0 { try await Task.sleep(nanoseconds: Self.testPause * 1_000_000) }
                let end = min(start + Self.chunkSize, unique.endIndex)
                try await Self.upsert(connection, logger, unique[start..<end], researcherID: researcherID, beamtimeID: beamtimeID)
                start = end
            }
            let gone = Array(before.subtracting(unique.map(\.uid)))
            if !gone.isEmpty { try await connection.query("DELETE FROM runs_index WHERE uid = ANY(\(gone))", logger: logger) }
            if let first = unique.map(\.timeStart).min(), let last = unique.map(\.timeStart).max() {
                try await connection.query(
                    "UPDATE beamtimes SET time_start = \(first), time_stop = \(last) WHERE id = \(beamtimeID)", logger: logger)
            }
            var binds = PostgresBindings()
            binds.append(beamtimeID)
            let beamtime = try await PostgresIndex.fetchBeamtimes(connection, logger, whereSQL: "b.id = $1", binds: binds)[0]
            return BeamtimeIndexing(
                beamtime: beamtime, runCount: runs.count, added: newUIDs.count - Int(elsewhere), removed: gone.count,
                reassigned: Int(elsewhere))
        }
    }
}

/// Opens a master index by its location: a file path is SQLite (``MasterIndexWriter``,
/// ``MasterIndex``), a `postgres://` or `postgresql://` URL is PostgreSQL (``PostgresIndexWriter``,
/// ``PostgresIndex``).
public enum MasterIndexes {
    /// A writer for `location`, not open yet (see ``Openable``).
    public static func writer(at location: String) throws -> any MasterIndexWriting {
        switch IndexLocation(location) {
        case .file(let path): return MasterIndexWriter(indexDBPath: path)
        case .postgres(let url): return try PostgresIndexWriter(url: url)
        }
    }

    /// A reader of the existing index at `location`, not open yet (see ``Openable``).
    public static func reader(at location: String) throws -> any MasterIndexReading {
        switch IndexLocation(location) {
        case .file(let path): return MasterIndex(path: path)
        case .postgres(let url): return try PostgresIndex(url: url)
        }
    }
}
