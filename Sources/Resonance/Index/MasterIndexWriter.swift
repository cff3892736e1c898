import Concurrency
import Foundation
import GRDB

/// Writes the master index (docs/format.md, "The master index"): researchers, their beamtimes, and one
/// summary row per run, so runs can be found without opening every beamtime file.
///
/// ```swift
/// let index = try MasterIndexWriter(indexDBPath: "/data/index.db").open()
/// let ada = try index.registerResearcher(name: "Ada", rootPath: "/data/ada")
/// let summary = try index.indexBeamtime(dbPath: "/data/ada/2026-03-05.db", researcherID: ada)
/// print(summary.runCount, "runs indexed")
/// ```
///
/// Registering is idempotent: a researcher is known by name and a beamtime by its
/// absolute, standardized `db_path`; registering again returns the same id and updates
/// the fields that were given. The file is opened by ``open()`` and stays open until ``close()``.
public final class MasterIndexWriter: Openable, Sendable {
    /// Path of the index file.
    public let indexDBPath: String

    private let lifecycle = Lifecycle<DatabaseQueue>()

    /// A writer for the index at `indexDBPath`; nothing is touched until ``open()``.
    public init(indexDBPath: String) {
        self.indexDBPath = indexDBPath
    }

    deinit {
        try? close()
    }

    /// Opens the index, creating the file and its schema if it is new, or checking (and
    /// completing) an existing one. Opening an open writer does nothing.
    ///
    /// Throws ``DatabaseFileError`` for a file that is not a master index; it is left untouched.
    @discardableResult
    public func open() throws -> MasterIndexWriter {
        try lifecycle.open { try DatabaseFile.openForWriting(indexDBPath, schema: IndexSchema.self) }
        return self
    }

    /// Closes the file; later calls throw ``IndexError/notOpen(_:)`` until ``open()``.
    ///
    /// The file goes back to rollback-journal mode (as a beamtime does when its writer
    /// closes): readers then leave no `-wal`/`-shm` beside it and can open it read-only. With
    /// another connection open (a reader, another indexer) it stays in WAL mode, after a
    /// wait of one second at most.
    public func close() throws {
        guard let queue = lifecycle.close() else { return }
        DatabaseFile.leaveWALMode(queue)
        try queue.close()
    }

    private func openQueue() throws -> DatabaseQueue {
        try lifecycle.resource(notOpen: IndexError.notOpen(indexDBPath), closed: IndexError.notOpen(indexDBPath))
    }

    // MARK: Researchers and beamtimes

    /// Registers a researcher, or updates the one with this name, and returns its id.
    ///
    /// ```swift
    /// let id = try index.registerResearcher(name: "Ada", rootPath: "/data/ada", email: "ada@example.org")
    /// try index.registerResearcher(name: "Ada", orcid: "0000-0002-1825-0097")  // same id; email kept
    /// ```
    ///
    /// - Parameters:
    ///   - rootPath: the folder under which the researcher's beamtimes live (stored absolute);
    ///     required for a new researcher.
    ///   - email, orcid, affiliation: nil leaves a known researcher's value as it is.
    @discardableResult
    public func registerResearcher(
        name: String, rootPath: String? = nil, email: String? = nil, orcid: String? = nil, affiliation: String? = nil
    ) throws -> Int64 {
        try openQueue().write { db in
            try Self.registerResearcher(
                db, name: name, rootPath: rootPath, email: email, orcid: orcid, affiliation: affiliation)
        }
    }

    /// Registers a beamtime file, or updates the one at this path, and returns its id.
    ///
    /// ```swift
    /// let beamtime = try index.registerBeamtime(researcherID: ada, dbPath: "2026-03-05.db")  // label "2026-03-05"
    /// ```
    ///
    /// - Parameters:
    ///   - researcherID: the owner. Changing the owner of a known beamtime moves its runs too.
    ///   - label: e.g. "2026-03-05"; for a new beamtime nil means the file name without
    ///     its suffix, for a known one nil leaves the label as it is.
    ///   - dbPath: the beamtime's .db file, stored absolute and standardized (no `.`, `..`).
    ///   - timeStart: Unix seconds; nil leaves it as it is.
    @discardableResult
    public func registerBeamtime(researcherID: Int64, label: String? = nil, dbPath: String, timeStart: Double? = nil) throws -> Int64 {
        try openQueue().write { db in
            try Self.registerBeamtime(db, researcherID: researcherID, label: label, dbPath: dbPath, timeStart: timeStart)
        }
    }

    // MARK: Runs

    /// Indexes one run, or updates its row when the uid is already indexed.
    ///
    /// The beamtime's time range grows to include `timeStart`.
    ///
    /// ```swift
    /// try index.indexRun(uid: uid, researcherID: ada, beamtimeID: beamtime, planName: "nexafs",
    ///                    sampleName: "PS", timeStart: 1772700000, tags: ["polymer"], metadata: ["edge": "C K"])
    /// ```
    ///
    /// Of `metadata` the index keeps what a search can match (``RunEntry/indexedMetadata``).
    ///
    /// Throws ``IndexError/unknownResearcher(id:)`` or ``IndexError/unknownBeamtime(id:)``
    /// for ids that are not registered, and ``IndexError/beamtimeOfAnotherResearcher(beamtimeID:researcherID:ownerID:)``
    /// when the beamtime is not the researcher's.
    public func indexRun(
        uid: String, researcherID: Int64, beamtimeID: Int64, planName: String, sampleName: String? = nil,
        timeStart: Double, tags: [String] = [], metadata: JSONObject = [:]
    ) throws {
        let run = RunEntry(uid: uid, planName: planName, sampleName: sampleName, timeStart: timeStart, tags: tags, metadata: metadata)
        let queue = try openQueue()
        try queue.write { db in
            try Self.indexRun(db, run, researcherID: researcherID, beamtimeID: beamtimeID)
        }
        try? Self.refreshStatistics(queue)  // committed already; see indexBeamtime
    }

    static func indexRun(_ db: Database, _ run: RunEntry, researcherID: Int64, beamtimeID: Int64) throws {
        try checkOwner(db, researcherID: researcherID, beamtimeID: beamtimeID)
        try upsertRun(db, run, researcherID: researcherID, beamtimeID: beamtimeID)
        try db.execute(
            sql: """
                UPDATE beamtimes SET time_start = min(coalesce(time_start, :t), :t),
                                     time_stop = max(coalesce(time_stop, :t), :t)
                WHERE id = :id
                """,
            arguments: ["t": run.timeStart, "id": beamtimeID])
    }

    /// The index's summary of one run (what every backend stores in `runs_index`).
    public struct RunEntry: Sendable, Equatable {
        public var uid: String
        public var planName: String
        public var sampleName: String?
        public var timeStart: Double
        public var tags: [String]
        /// The run's metadata (`runs.metadata` of its beamtime); the index keeps ``indexedMetadata``.
        public var metadata: JSONObject

        public init(uid: String, planName: String, sampleName: String?, timeStart: Double, tags: [String], metadata: JSONObject = [:]) {
            self.uid = uid
            self.planName = planName
            self.sampleName = sampleName
            self.timeStart = timeStart
            self.tags = tags
            self.metadata = metadata
        }

        /// What the index stores of ``metadata``: the top-level members a search can match
        /// (``IndexQuery/metadata``), i.e. strings, numbers, booleans and null. Arrays and
        /// objects are left out (no search matches them, and a start document's nested
        /// parts would make every row large), and so are members PostgreSQL's jsonb cannot
        /// hold and SQLite's json_valid refuses: NaN and infinities, NUL characters.
        ///
        /// ```swift
        /// RunEntry(uid: u, planName: "nexafs", sampleName: nil, timeStart: t, tags: [],
        ///          metadata: ["edge": "C K", "motors": ["x", "y"], "i0": .double(.nan)]).indexedMetadata  // ["edge": "C K"]
        /// ```
        public var indexedMetadata: JSONObject {
            metadata.filter { Self.isIndexable(key: $0.key, value: $0.value) }
        }

        /// Whether the index stores a member `key`: `value` (see ``indexedMetadata``).
        static func isIndexable(key: String, value: JSONValue) -> Bool {
            if key.utf8.contains(0) { return false }
            switch value {
            case .null, .bool, .int: return true
            case .double(let number): return number.isFinite
            case .string(let text): return !text.utf8.contains(0)
            case .array, .object: return false
            }
        }

        /// Throws ``IndexError/invalidValue(kind:value:reason:)`` for a value no backend stores.
        public func validate() throws(IndexError) {
            try MasterIndexWriter.checkText(uid, kind: "run uid")
            try MasterIndexWriter.checkText(planName, kind: "plan name")
            guard timeStart.isFinite else {
                throw .invalidValue(kind: "time_start of run \(uid)", value: "\(timeStart)", reason: "must be finite Unix seconds")
            }
        }
    }

    // MARK: Whole beamtimes

    /// Registers a beamtime file and makes its indexed runs exactly the runs it holds,
    /// in one transaction: new runs are added, known ones updated, runs no longer in
    /// the file removed, and the beamtime's time range set to its first and last run start.
    ///
    /// ```swift
    /// let result = try index.indexBeamtime(dbPath: "/data/ada/2026-03-05.db", researcherID: ada)
    /// print("\(result.runCount) runs, \(result.added) new, \(result.removed) removed")
    /// ```
    ///
    /// Running it again on an unchanged file changes nothing.
    @discardableResult
    public func indexBeamtime(dbPath: String, researcherID: Int64, label: String? = nil) throws -> BeamtimeIndexing {
        let runs = try Self.readRuns(ofBeamtime: dbPath)
        let queue = try openQueue()
        let result = try queue.write { db in
            try Self.replaceRuns(db, dbPath: dbPath, researcherID: researcherID, label: label, runs: runs)
        }
        // Committed already: a failed refresh (say, a busy file) only leaves statistics stale.
        try? Self.refreshStatistics(queue)
        return result
    }

    /// Reads every run of a beamtime file with its sample's name and tags and its metadata: what
    /// ``indexBeamtime(dbPath:researcherID:label:)`` indexes, on any backend.
    public static func readRuns(ofBeamtime dbPath: String) throws -> [RunEntry] {
        let catalog = try Catalog(dbPath: dbPath).open()
        defer { try? catalog.close() }
        // Writers reuse the first sample row of a name, so that row's tags are the sample's.
        var tagsByName: [String: [String]] = [:]
        for sample in try catalog.samples() where tagsByName[sample.name] == nil {
            tagsByName[sample.name] = sample.tags
        }
        // Malformed metadata in one run (a hand-edited file) leaves that run without any, as
        // Catalog's metadata filter treats it, instead of failing the beamtime.
        let metadataByUID = try catalog.read { db in
            var byUID: [String: JSONObject] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT uid, metadata FROM runs") {
                let text: String? = row["metadata"]
                if let text, let object = (try? JSONValue(parsing: text))?.objectValue { byUID[row["uid"]] = object }
            }
            return byUID
        }
        return try catalog.allRuns().map { run in
            RunEntry(
                uid: run.uid, planName: run.planName, sampleName: run.sampleName, timeStart: run.timeStart,
                tags: run.sampleName.flatMap { tagsByName[$0] } ?? [], metadata: metadataByUID[run.uid] ?? [:])
        }
    }

    static func replaceRuns(
        _ db: Database, dbPath: String, researcherID: Int64, label: String?, runs: [RunEntry]
    ) throws -> BeamtimeIndexing {
        let beamtimeID = try registerBeamtime(db, researcherID: researcherID, label: label, dbPath: dbPath, timeStart: nil)
        let before = Set(try String.fetchAll(db, sql: "SELECT uid FROM runs_index WHERE beamtime_id = ?", arguments: [beamtimeID]))
        var added = 0, reassigned = 0
        let ownerOf = try db.cachedStatement(sql: "SELECT beamtime_id FROM runs_index WHERE uid = ?")
        for run in runs where !before.contains(run.uid) {
            if try Int64.fetchOne(ownerOf, arguments: [run.uid]) == nil { added += 1 } else { reassigned += 1 }
        }
        for run in runs {
            try upsertRun(db, run, researcherID: researcherID, beamtimeID: beamtimeID)
        }
        let gone = before.subtracting(runs.map(\.uid))
        let delete = try db.cachedStatement(sql: "DELETE FROM runs_index WHERE uid = ?")
        for uid in gone { try delete.execute(arguments: [uid]) }
        if let first = runs.map(\.timeStart).min(), let last = runs.map(\.timeStart).max() {
            try db.execute(
                sql: "UPDATE beamtimes SET time_start = ?, time_stop = ? WHERE id = ?", arguments: [first, last, beamtimeID])
        }
        let beamtime = try MasterIndex.fetchBeamtimes(db, whereSQL: "b.id = ?", arguments: [beamtimeID])[0]
        return BeamtimeIndexing(beamtime: beamtime, runCount: runs.count, added: added, removed: gone.count, reassigned: reassigned)
    }

    /// Refreshes the planner's statistics (`sqlite_stat1`) when the index has grown to
    /// twice the size they were taken at. Without them SQLite cannot tell a plan (~10,000
    /// runs each at a million runs) from a researcher (~50,000) when a search filters on
    /// both. A full ANALYZE takes ~0.5 s at a million runs; doubling keeps the total cost
    /// of all refreshes under twice that. (`analysis_limit` is no help: a sample of 1000
    /// rows of a low-cardinality column sees one value and rates every such index alike.)
    static func refreshStatistics(_ queue: DatabaseQueue) throws {
        try queue.writeWithoutTransaction { db in
            // max(rowid) is a cheap upper bound of the row count (count(*) reads an index).
            let rows = try Int64.fetchOne(db, sql: "SELECT max(rowid) FROM runs_index") ?? 0
            let hasStats = try db.tableExists("sqlite_stat1")
            let stat = hasStats ? try String.fetchOne(db, sql: "SELECT stat FROM sqlite_stat1 WHERE tbl = 'runs_index' LIMIT 1") : nil
            let counted = stat.flatMap { Int64($0.split(separator: " ").first ?? "") } ?? 0
            guard rows > 2 * counted else { return }
            try db.execute(sql: "ANALYZE")
        }
    }

    // MARK: Rules shared by the single-row calls and indexBeamtime

    static func registerResearcher(
        _ db: Database, name: String, rootPath: String?, email: String?, orcid: String?, affiliation: String?
    ) throws -> Int64 {
        try checkText(name, kind: "researcher name")
        let root = try rootPath.map { path throws(IndexError) in
            try checkText(path, kind: "root path")
            return standardizedPath(path)
        }
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM researchers WHERE name = ?", arguments: [name]) {
            try db.execute(
                sql: """
                    UPDATE researchers SET root_path = coalesce(?, root_path), email = coalesce(?, email),
                        orcid = coalesce(?, orcid), affiliation = coalesce(?, affiliation)
                    WHERE id = ?
                    """,
                arguments: [root, email, orcid, affiliation, id])
            return id
        }
        guard let root else { throw IndexError.rootPathRequired(researcher: name) }
        try db.execute(
            sql: "INSERT INTO researchers (name, root_path, email, orcid, affiliation, extra) VALUES (?, ?, ?, ?, ?, '{}')",
            arguments: [name, root, email, orcid, affiliation])
        return db.lastInsertedRowID
    }

    static func registerBeamtime(
        _ db: Database, researcherID: Int64, label: String?, dbPath: String, timeStart: Double?
    ) throws -> Int64 {
        try checkText(dbPath, kind: "beamtime path")
        if let label { try checkText(label, kind: "beamtime label") }
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM researchers WHERE id = ?", arguments: [researcherID]) == true else {
            throw IndexError.unknownResearcher(id: researcherID)
        }
        let path = standardizedPath(dbPath)
        if let row = try Row.fetchOne(db, sql: "SELECT id, researcher_id FROM beamtimes WHERE db_path = ?", arguments: [path]) {
            let id: Int64 = row["id"]
            try db.execute(
                sql: "UPDATE beamtimes SET researcher_id = ?, label = coalesce(?, label), time_start = coalesce(?, time_start) WHERE id = ?",
                arguments: [researcherID, label, timeStart, id])
            if row["researcher_id"] != researcherID {
                // A run belongs to the beamtime's researcher; keep the two in step.
                try db.execute(sql: "UPDATE runs_index SET researcher_id = ? WHERE beamtime_id = ?", arguments: [researcherID, id])
            }
            return id
        }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        try db.execute(
            sql: "INSERT INTO beamtimes (researcher_id, label, db_path, time_start, extra) VALUES (?, ?, ?, ?, '{}')",
            arguments: [researcherID, label ?? stem, path, timeStart])
        return db.lastInsertedRowID
    }

    /// SQLite would refuse an unknown id too, but without saying which one.
    static func checkOwner(_ db: Database, researcherID: Int64, beamtimeID: Int64) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM researchers WHERE id = ?", arguments: [researcherID]) == true else {
            throw IndexError.unknownResearcher(id: researcherID)
        }
        guard let owner = try Int64.fetchOne(db, sql: "SELECT researcher_id FROM beamtimes WHERE id = ?", arguments: [beamtimeID]) else {
            throw IndexError.unknownBeamtime(id: beamtimeID)
        }
        if owner != researcherID {
            throw IndexError.beamtimeOfAnotherResearcher(beamtimeID: beamtimeID, researcherID: researcherID, ownerID: owner)
        }
    }

    static func upsertRun(_ db: Database, _ run: RunEntry, researcherID: Int64, beamtimeID: Int64) throws {
        try run.validate()
        let statement = try db.cachedStatement(sql: """
            INSERT INTO runs_index (uid, researcher_id, beamtime_id, plan_name, sample_name, time_start, tags, metadata)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(uid) DO UPDATE SET
                researcher_id = excluded.researcher_id, beamtime_id = excluded.beamtime_id,
                plan_name = excluded.plan_name, sample_name = excluded.sample_name,
                time_start = excluded.time_start, tags = excluded.tags, metadata = excluded.metadata
            """)
        try statement.execute(arguments: [
            run.uid, researcherID, beamtimeID, run.planName, run.sampleName, run.timeStart, JSONValue(run.tags).jsonText,
            run.indexedMetadata.jsonText,
        ])
    }

    /// Refuses an empty text or one with a control character (every backend's rule for
    /// names, labels, paths, uids and plan names).
    public static func checkText(_ value: String, kind: String) throws(IndexError) {
        if value.isEmpty { throw .invalidValue(kind: kind, value: value, reason: "must not be empty") }
        if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw .invalidValue(kind: kind, value: value, reason: "contains a control character")
        }
    }

    /// Absolute, with `.` and `..` resolved (symbolic links are kept as they are).
    public static func standardizedPath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
