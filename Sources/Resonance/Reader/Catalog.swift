import Concurrency
import Foundation
import GRDB
import GRDBSQLite
import JSONValue

/// Read-only access to one beamtime: its SQLite file and the Zarr store beside it.
///
/// ```swift
/// let catalog = try Catalog(dbPath: "2026-03-05.db").open()
/// for summary in try catalog.recent(5) {
///     print(summary.uid, summary.planName, summary.numEvents)
/// }
/// let run = try catalog.run("79c8c292")            // a unique uid prefix is enough
/// let table = try run.table()                      // the "primary" stream
/// let energy = try table.doubles("Energy")          // [Double?]
/// let ccd = try run.frames(field: "ccd")
/// let last = try ccd.frame(-1)                      // a FrameBlock of one frame
/// ```
///
/// A catalog opens while a writer is writing (every read sees the events committed so far)
/// and after a writer crashed. It never writes the database, with one exception: when a
/// crashed non-WAL writer (Python's default `sqlite3`) left a hot `-journal`, SQLite must roll
/// it back before anyone can read; if the folder is writable the catalog does so through a
/// brief read-write connection (see ``Options/rollsBackHotJournal``), otherwise it throws
/// ``DatabaseFileError/Problem/needsRecovery(reason:)``.
///
/// Files that are missing, empty, not SQLite, of another application, or of a newer schema
/// version are refused with ``DatabaseFileError`` and left untouched.
///
/// Calls block (SQLite reads, frame decoding on all cores) and may come from any thread.
/// Async code must not make them on an event loop or a task's thread: it runs them on
/// threads of their own and awaits the result (docs/concurrency.md).
public final class Catalog: Openable, Sendable {
    /// How a catalog opens its file.
    public struct Options: Sendable {
        /// Roll back a hot journal left by a crashed non-WAL writer, when the folder is
        /// writable. With false, such a file is refused with `.needsRecovery`.
        public var rollsBackHotJournal: Bool

        public init(rollsBackHotJournal: Bool = true) {
            self.rollsBackHotJournal = rollsBackHotJournal
        }
    }

    /// Path of the SQLite file.
    public let dbPath: String
    /// Path of the Zarr store: the database path with its suffix replaced by `.zarr`.
    public let zarrPath: String

    /// Bytes of the file SQLite may map into memory.
    static let mmapSize = 1 << 30

    private let options: Options
    private let lifecycle = Lifecycle<DatabaseQueue>()

    /// A catalog of the beamtime at `dbPath`; nothing is read until ``open()``.
    public init(dbPath: String, options: Options = Options()) {
        self.dbPath = dbPath
        self.zarrPath = RunWriter.zarrPath(forDatabase: dbPath)
        self.options = options
    }

    deinit {
        try? lifecycle.close()?.close()
    }

    /// Opens the beamtime for reading; opening an open catalog does nothing.
    ///
    /// Throws ``DatabaseFileError`` for a file that cannot be read as a beamtime.
    @discardableResult
    public func open() throws -> Catalog {
        try lifecycle.open {
            if try DatabaseFile.inspect(dbPath) == .sqlite, options.rollsBackHotJournal, Self.hasHotJournal(dbPath) {
                try Self.rollBackHotJournal(dbPath)
            }
            let queue = try DatabaseFile.openForReading(dbPath, schema: BeamtimeSchema.self)
            do {
                // Touch the file now, so a problem shows here rather than at the first query.
                _ = try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sqlite_master") }
                // Event tables read tens of MB; mapping the file spares a read() call and a copy
                // per page, and keeps pages cached between reads.
                try queue.inDatabase { try $0.execute(sql: "PRAGMA mmap_size = \(Self.mmapSize)") }
            } catch let error as DatabaseError {
                try? queue.close()
                throw DatabaseFileError(path: dbPath, problem: DatabaseFile.classify(error))
            }
            return queue
        }
        return self
    }

    /// Closes the database. Later calls on the catalog, its runs and tables throw
    /// ``CatalogError/closed``; ``open()`` opens it again.
    public func close() throws {
        try lifecycle.close()?.close()
    }

    /// Runs `body` in one read transaction: a consistent view of what writers committed.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try lifecycle.resource(notOpen: CatalogError.notOpen, closed: CatalogError.closed).read(body)
    }

    // MARK: Crash recovery

    /// Whether a rollback journal that may be hot lies beside the file. SQLite treats a
    /// journal as hot when it is non-empty, its first byte is not zero (journal_mode=PERSIST
    /// zeroes the header) and no writer holds a lock; the lock it checks itself.
    static func hasHotJournal(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path + "-journal") else { return false }
        defer { try? handle.close() }
        guard let first = try? handle.read(upToCount: 1), let byte = first.first else { return false }
        return byte != 0
    }

    /// Lets SQLite roll back a crashed writer's journal, if the folder and file are writable.
    /// A read-only folder is left alone: opening then fails with `.needsRecovery`.
    static func rollBackHotJournal(_ path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        guard access(folder.isEmpty ? "." : folder, W_OK) == 0, access(path, W_OK) == 0 else { return }
        // Refuse a newer or foreign file before writing to it. The survey reads the file as it
        // is; if the crash left it unreadable, the rollback may be what repairs it.
        if let survey = try? DatabaseFile.survey(path, schema: BeamtimeSchema.self) {
            try DatabaseFile.check(path: path, survey, schema: BeamtimeSchema.self)
        }
        var connection: OpaquePointer?
        defer { sqlite3_close_v2(connection) }
        var code = sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE, nil)
        if code == SQLITE_OK, let connection {
            sqlite3_busy_timeout(connection, 10_000)
            // Any read takes a shared lock, and SQLite rolls a hot journal back before it.
            var statement: OpaquePointer?
            code = sqlite3_prepare_v2(connection, "SELECT COUNT(*) FROM sqlite_master", -1, &statement, nil)
            if code == SQLITE_OK { code = sqlite3_step(statement) }
            sqlite3_finalize(statement)
            if code == SQLITE_ROW || code == SQLITE_DONE { return }
        }
        let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        throw DatabaseFileError(path: path, problem: .needsRecovery(reason: "rolling back the hot journal failed: \(message)"))
    }

    // MARK: Runs

    /// The runs `query` selects, in its order. Every filter, the order and the paging run
    /// in SQLite.
    ///
    /// ```swift
    /// for run in try catalog.runs(RunQuery(plan: "nexafs", limit: 5)) { print(run.uid.prefix(8)) }
    /// ```
    ///
    /// Throws ``RunQueryError`` for a negative limit or offset or a metadata value that is
    /// an array or object.
    public func runs(_ query: RunQuery = RunQuery()) throws -> [RunSummary] {
        let (condition, arguments) = try Self.whereClause(query)
        if let limit = query.limit, limit < 0 { throw RunQueryError("limit must not be negative (got \(limit))") }
        guard query.offset >= 0 else { throw RunQueryError("offset must not be negative (got \(query.offset))") }
        let direction = query.order == .newestFirst ? "DESC" : "ASC"
        let sql = Self.summarySQL + condition + " ORDER BY r.time_start \(direction), r.rowid \(direction) LIMIT ? OFFSET ?"
        return try read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments + [query.limit ?? -1, query.offset]).map(Self.summary)
        }
    }

    /// How many runs `query` selects, ignoring its limit and offset.
    public func count(_ query: RunQuery = RunQuery()) throws -> Int {
        let (condition, arguments) = try Self.whereClause(query)
        return try read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs r LEFT JOIN samples s ON s.id = r.sample_id" + condition, arguments: arguments) ?? 0
        }
    }

    /// The `n` most recently started runs, newest first.
    public func recent(_ n: Int = 10) throws -> [RunSummary] {
        try runs(RunQuery(limit: max(n, 0)))
    }

    /// The runs of the sample named `name`, newest first; empty for an unknown sample.
    public func bySample(_ name: String) throws -> [RunSummary] {
        try runs(RunQuery(sample: name))
    }

    /// Every run, oldest first.
    public func allRuns() throws -> [RunSummary] {
        try runs(RunQuery(order: .oldestFirst))
    }

    /// " WHERE ..." (or nothing) and its arguments, for the tables `runs r` and `samples s`.
    static func whereClause(_ query: RunQuery) throws -> (String, StatementArguments) {
        var terms: [String] = []
        var arguments = StatementArguments()
        if let sample = query.sample { terms.append("s.name = ?"); arguments += [sample] }
        if let plan = query.plan { terms.append("r.plan_name = ?"); arguments += [plan] }
        switch query.status {
        case nil: break
        case .open: terms.append("r.time_stop IS NULL")
        case .finished(let status): terms.append("r.time_stop IS NOT NULL AND r.exit_status = ?"); arguments += [status.rawValue]
        }
        if let since = query.since { terms.append("r.time_start >= ?"); arguments += [since.timeIntervalSince1970] }
        if let until = query.until { terms.append("r.time_start < ?"); arguments += [until.timeIntervalSince1970] }
        for (key, value) in query.metadata {
            if let problem = MetadataMatching.problem(value) {
                throw RunQueryError("metadata \(key.debugDescription) = \(value.jsonText): \(problem)")
            }
            let (term, termArguments) = MetadataMatching.sqliteCondition(column: "r.metadata", key: key, value: value)
            terms.append(term)
            arguments += termArguments
        }
        return (terms.isEmpty ? "" : " WHERE " + terms.joined(separator: " AND "), arguments)
    }

    /// The run with this uid, or with this unique uid prefix (at least 8 hex digits).
    /// Case and dashes are ignored, so a UUID as Python prints it works too.
    ///
    /// ```swift
    /// let run = try catalog.run("79c8c2926b9445b5b49882321e35049e")
    /// let same = try catalog.run("79c8c292")
    /// ```
    ///
    /// Throws ``CatalogError/runNotFound(uid:)``, ``CatalogError/ambiguousRunUID(prefix:matches:)``
    /// or ``CatalogError/invalidRunUID(_:)``.
    public func run(_ uid: String) throws -> Run {
        let key = String(uid.lowercased().filter { $0 != "-" })
        guard key.count >= 8, key.count <= 32, key.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw CatalogError.invalidRunUID(uid)
        }
        return try read { db in
            let found: String
            if key.count == 32, try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE uid = ?", arguments: [key]) == true {
                found = key
            } else {
                // Hex digits sort below "g": this range is exactly the uids with the prefix,
                // and it walks the primary-key index.
                let matches = try String.fetchAll(
                    db, sql: "SELECT uid FROM runs WHERE uid >= ? AND uid < ? ORDER BY uid LIMIT 11", arguments: [key, key + "g"])
                guard let first = matches.first else { throw CatalogError.runNotFound(uid: uid) }
                guard matches.count == 1 else {
                    throw CatalogError.ambiguousRunUID(prefix: uid, matches: Array(matches.prefix(10)))
                }
                found = first
            }
            return try Run.load(uid: found, catalog: self, db: db)
        }
    }

    /// The run with this uid or unique uid prefix; see ``run(_:)``.
    public subscript(uid: String) -> Run {
        get throws { try run(uid) }
    }

    // MARK: Samples

    /// Every sample of the beamtime, in the order they were added.
    public func samples() throws -> [SampleMetadata] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM samples ORDER BY id").map(Self.sample)
        }
    }

    // MARK: Row decoding

    /// Runs with their sample name and event count. The count is `num_events` once the run
    /// is closed; a run still open (or whose writer died) counts its committed events.
    static let summarySQL = """
        SELECT r.uid, r.plan_name, s.name AS sample_name, r.time_start, r.time_stop, r.exit_status,
            CASE WHEN r.time_stop IS NULL OR r.num_events IS NULL
                THEN (SELECT COUNT(*) FROM events e JOIN streams st ON st.uid = e.stream_uid WHERE st.run_uid = r.uid)
                ELSE r.num_events END AS event_count
        FROM runs r LEFT JOIN samples s ON s.id = r.sample_id
        """

    static func summary(_ row: Row) -> RunSummary {
        RunSummary(
            uid: row["uid"], planName: row["plan_name"], sampleName: row["sample_name"],
            timeStart: row["time_start"], timeStop: row["time_stop"],
            exitStatus: (row["exit_status"] as String?).map(ExitStatus.init(rawValue:)),
            numEvents: row["event_count"])
    }

    static func sample(_ row: Row) throws -> SampleMetadata {
        let id: Int64 = row["id"]
        let tags = try parseJSON(row["tags"], location: "samples.tags of sample \(id)")?.arrayValue ?? []
        let extra = try parseJSON(row["extra"], location: "samples.extra of sample \(id)")?.objectValue ?? [:]
        return SampleMetadata(
            name: row["name"], formula: row["formula"], serial: row["serial"],
            tags: tags.compactMap(\.stringValue), beamlinePos: row["beamline_pos"], extra: extra, id: id)
    }

    /// Parses a JSON column; NULL or empty text is nil.
    static func parseJSON(_ text: String?, location: @autoclosure () -> String) throws -> JSONValue? {
        guard let text, !text.isEmpty else { return nil }
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw CatalogError.malformedJSON(location: location(), reason: error.description)
        }
    }
}
