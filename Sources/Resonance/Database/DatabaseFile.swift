import Foundation
import GRDB
import GRDBSQLite

/// A schema this program can create and upgrade: the beamtime schema or the master index.
protocol DatabaseSchema {
    static var version: Int { get }
    static var createSQL: String { get }
    static var migrations: [SchemaMigration] { get }
    static var requiredTables: Set<String> { get }
    /// Every column of the latest schema, by table: what a file's columns are checked against.
    static var columns: [String: [String]] { get }
    /// Columns a file may lack and a writer adds back (a migration's work a lenient writer
    /// skipped while stamping the new version).
    static var repairableColumns: [ColumnRepair] { get }
}

/// A column a writer adds when a file lacks it, with the statement that adds it.
struct ColumnRepair: Sendable {
    var table: String
    var column: String
    var addSQL: String

    /// Adds the column if `db` lacks it (idempotent, so a migration can use it too).
    func apply(_ db: Database) throws {
        if try !db.columns(in: table).contains(where: { $0.name == column }) {
            try db.execute(sql: addSQL)
        }
    }
}

/// What a first, read-only look at a database found: its version, tables and the columns
/// of the tables the schema needs.
struct SchemaSurvey: Sendable {
    var version: Int
    var tables: Set<String>
    var columns: [String: Set<String>]
}

extension BeamtimeSchema: DatabaseSchema {}
extension IndexSchema: DatabaseSchema {}

/// Opens database files after checks that leave a wrong file untouched.
enum DatabaseFile {
    static let sqliteMagic = Array("SQLite format 3\0".utf8)

    /// What a first look at the path found.
    enum State { case absent, empty, sqlite }

    /// Looks at `path` without opening it with SQLite.
    static func inspect(_ path: String) throws(DatabaseFileError) -> State {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .absent }
        if isDirectory.boolValue { throw DatabaseFileError(path: path, problem: .isDirectory) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DatabaseFileError(path: path, problem: .unreadable(reason: "permission denied"))
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 100)) ?? Data()
        if header.isEmpty { return .empty }
        if header.count < 16 || Array(header.prefix(16)) != sqliteMagic {
            let printable = String(decoding: header.prefix(16).map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
            throw DatabaseFileError(path: path, problem: .notSQLite(header: printable))
        }
        return .sqlite
    }

    /// Writers create files, never folders: a mistyped folder is an error, not a new tree.
    static func checkFolder(of path: String) throws(DatabaseFileError) {
        let folder = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw DatabaseFileError(path: path, problem: .missingFolder)
        }
    }

    /// Connection settings every writer connection shares. `syncEachCommit` false trades
    /// power-cut safety for speed (see ``RunWriter/CommitDurability``).
    static func writerConfiguration(syncEachCommit: Bool = true) -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        // GRDB stops the process when a database access ends inside a transaction. A
        // commit that fails and whose rollback fails too (a full disk, an I/O error) can
        // leave one open; the committer keeps its rows and retries instead.
        config.allowsUnsafeTransactions = true
        config.prepareDatabase { db in
            // WAL while a writer is open: readers see its commits live and never block it.
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            // FULL: each commit syncs the WAL before it returns, so a committed transaction
            // survives a power cut, not only a crash of the process (NORMAL would sync only
            // at checkpoints and could lose every commit since the last one).
            try db.execute(sql: syncEachCommit ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
        }
        return config
    }

    /// Whether the file's header says write-ahead-log mode (bytes 18 and 19 are 2).
    static func isInWALMode(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let header = try? handle.read(upToCount: 20), header.count == 20 else { return false }
        return header[18] == 2 && header[19] == 2
    }

    /// Puts a beamtime a writer is done with back into rollback-journal mode, so that
    /// readers who cannot write its folder (an archive, another user's files) can open it
    /// read-only: a WAL file needs its `-shm` beside it, which such a reader cannot create.
    ///
    /// The change needs every other connection gone; with a live reader it is not made and
    /// the file stays in WAL mode (returns false) — `resonance check --repair` makes it later.
    @discardableResult
    static func leaveWALMode(_ queue: DatabaseQueue) -> Bool {
        (try? queue.writeWithoutTransaction { db -> Bool in
            // A reader that holds the file makes SQLite wait for the busy timeout: a closing
            // writer waits one second at most, not the writer's ten.
            sqlite3_busy_timeout(db.sqliteConnection, 1_000)
            return try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")?.lowercased() == "delete"
        }) ?? false
    }

    /// An SQLite URI that opens `path` immutable: no locks, no `-shm`, no `-wal`. Only safe
    /// when no `-wal` exists and nobody can write the file meanwhile.
    static func immutableURI(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        return "file:" + (path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path) + "?immutable=1"
    }

    /// Reads `user_version`, the table names and the columns of `schema`'s tables without
    /// changing anything on disk.
    ///
    /// With no `-wal` beside it, the file alone is the database: it is opened immutable,
    /// so SQLite creates no `-shm` or `-wal` file and takes no lock.
    static func survey<Schema: DatabaseSchema>(_ path: String, schema: Schema.Type) throws(DatabaseFileError) -> SchemaSurvey {
        let hasWAL = FileManager.default.fileExists(atPath: path + "-wal")
        var connection: OpaquePointer?
        let name: String
        var flags = SQLITE_OPEN_READONLY
        if hasWAL {
            name = path
        } else {
            name = immutableURI(path)
            flags |= SQLITE_OPEN_URI
        }
        defer { sqlite3_close_v2(connection) }
        func failure(_ code: Int32) -> DatabaseFileError {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            return DatabaseFileError(path: path, problem: classify(DatabaseError(resultCode: ResultCode(rawValue: code), message: message)))
        }
        let code = sqlite3_open_v2(name, &connection, flags, nil)
        guard code == SQLITE_OK, let connection else { throw failure(code) }
        // Another writer (an indexer, a writer starting) may hold a lock for a moment.
        sqlite3_busy_timeout(connection, 10_000)
        func texts(_ sql: String) throws(DatabaseFileError) -> [String] {
            var statement: OpaquePointer?
            var code = sqlite3_prepare_v2(connection, sql, -1, &statement, nil)
            guard code == SQLITE_OK else { throw failure(code) }
            defer { sqlite3_finalize(statement) }
            var values: [String] = []
            while true {
                code = sqlite3_step(statement)
                if code == SQLITE_DONE { return values }
                guard code == SQLITE_ROW else { throw failure(code) }
                values.append(sqlite3_column_text(statement, 0).map { String(cString: $0) } ?? "")
            }
        }
        return try survey(schema: schema, texts: texts)
    }

    /// The same survey through an open connection (inside the writer's transaction).
    static func survey<Schema: DatabaseSchema>(_ db: Database, schema: Schema.Type) throws -> SchemaSurvey {
        try survey(schema: schema) { try String.fetchAll(db, sql: $0) }
    }

    /// The survey's queries, on whichever connection `texts` runs them (each query's first
    /// column, as text).
    private static func survey<Schema: DatabaseSchema, E: Error>(
        schema: Schema.Type, texts: (String) throws(E) -> [String]
    ) throws(E) -> SchemaSurvey {
        let version = Int(try texts("SELECT CAST(user_version AS TEXT) FROM pragma_user_version").first ?? "0") ?? 0
        let tables = Set(try texts("SELECT name FROM sqlite_master WHERE type = 'table'"))
        var columns: [String: Set<String>] = [:]
        for table in schema.columns.keys where tables.contains(table) {
            // Table names come from the schema, never from the file: safe to quote inline.
            columns[table] = Set(try texts("SELECT name FROM pragma_table_info('\(table)')"))
        }
        return SchemaSurvey(version: version, tables: tables, columns: columns)
    }

    static func classify(_ error: DatabaseError) -> DatabaseFileError.Problem {
        // A read-only connection meeting a crashed writer's hot journal (or a WAL it cannot
        // recover) reports only "attempt to write a readonly database": the extended code says why.
        switch error.extendedResultCode {
        case .SQLITE_READONLY_ROLLBACK:
            return .needsRecovery(reason: "a hot rollback journal must be rolled back")
        case .SQLITE_READONLY_RECOVERY, .SQLITE_READONLY_CANTINIT:
            return .needsRecovery(reason: "the write-ahead log must be recovered")
        default: break
        }
        switch error.resultCode {
        case .SQLITE_NOTADB: return .notSQLite(header: "SQLite format 3")
        case .SQLITE_READONLY where error.message?.contains("recovery") == true,
            .SQLITE_CANTOPEN where error.message?.contains("recovery") == true:
            return .needsRecovery(reason: error.message ?? "\(error.resultCode)")
        default: return .unreadable(reason: error.message ?? "\(error.resultCode)")
        }
    }

    /// Opens (creating or upgrading as needed) a database for writing.
    ///
    /// Refuses, without changing a byte: a directory, a non-SQLite file, a database of
    /// another application, and a schema version newer than `Schema.version`.
    static func openForWriting<Schema: DatabaseSchema>(
        _ path: String, schema: Schema.Type, configuration: Configuration = writerConfiguration()
    ) throws -> DatabaseQueue {
        try checkFolder(of: path)
        if try inspect(path) == .sqlite {
            try check(path: path, survey(path, schema: schema), schema: schema)
        }
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch let error as DatabaseError {
            throw DatabaseFileError(path: path, problem: classify(error))
        }
        do {
            try queue.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    // Look again under the write lock: another process may have just created it.
                    let found = try survey(db, schema: schema)
                    try check(path: path, found, schema: schema)
                    if found.tables.isDisjoint(with: schema.requiredTables) {
                        try db.execute(sql: schema.createSQL)
                    } else {
                        // A file without user_version but with our tables predates versioning: version 1.
                        let from = max(found.version, 1)
                        for migration in schema.migrations where migration.version > from {
                            try migration.apply(db)
                        }
                        // What a lenient writer skipped while stamping a new version.
                        for repair in schema.repairableColumns { try repair.apply(db) }
                        try db.execute(sql: schema.createSQL)  // indexes a lenient writer may have skipped
                    }
                    let version = found.version
                    if version != schema.version {
                        try db.execute(sql: "PRAGMA user_version = \(schema.version)")
                    }
                    return .commit
                }
            }
        } catch {
            try? queue.close()
            throw error
        }
        return queue
    }

    /// Refuses a file this program must not write or cannot read: another application's
    /// database, a newer schema, or a table that lacks a column no migration or repair adds.
    /// The columns are checked, not only the number: a lenient writer may stamp a version
    /// whose migration it did not run.
    static func check<Schema: DatabaseSchema>(path: String, _ survey: SchemaSurvey, schema: Schema.Type) throws(DatabaseFileError) {
        // Tables first: a beamtime opened as a master index (or the reverse) is another
        // kind of file, whatever its version says.
        let userTables = survey.tables.filter { !$0.hasPrefix("sqlite_") }
        if !userTables.isEmpty, !schema.requiredTables.isSubset(of: userTables) {
            throw DatabaseFileError(path: path, problem: .foreignDatabase(tables: userTables.sorted()))
        }
        if survey.version > schema.version {
            throw DatabaseFileError(path: path, problem: .newerSchema(found: survey.version, supported: schema.version))
        }
        for (table, expected) in schema.columns.sorted(by: { $0.key < $1.key }) {
            guard let found = survey.columns[table] else { continue }
            for column in expected where !found.contains(column)
                && !schema.repairableColumns.contains(where: { $0.table == table && $0.column == column }) {
                throw DatabaseFileError(path: path, problem: .missingColumn(table: table, column: column, version: survey.version))
            }
        }
    }

    /// Opens an existing database for reading only.
    ///
    /// The file must exist, be SQLite, hold `Schema`'s tables and have a known version.
    static func openForReading<Schema: DatabaseSchema>(_ path: String, schema: Schema.Type) throws -> DatabaseQueue {
        switch try inspect(path) {
        case .absent: throw DatabaseFileError(path: path, problem: .missing)
        case .empty: throw DatabaseFileError(path: path, problem: .empty)
        case .sqlite: break
        }
        let found = try survey(path, schema: schema)
        try check(path: path, found, schema: schema)
        if !schema.requiredTables.isSubset(of: found.tables) {
            throw DatabaseFileError(path: path, problem: .foreignDatabase(tables: found.tables.sorted()))
        }
        var config = Configuration()
        config.readonly = true
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        do {
            return try DatabaseQueue(path: path, configuration: config)
        } catch let error as DatabaseError {
            // A WAL-mode file on read-only media (or in a folder we cannot write) cannot get
            // its -shm file. With no -wal beside it the main file holds everything, and a
            // folder nobody can write has no writer: reading it immutable is safe.
            let folder = (path as NSString).deletingLastPathComponent
            if !FileManager.default.fileExists(atPath: path + "-wal"), access(folder.isEmpty ? "." : folder, W_OK) != 0,
               let queue = try? DatabaseQueue(path: immutableURI(path), configuration: config) {
                return queue
            }
            throw DatabaseFileError(path: path, problem: classify(error))
        }
    }
}
