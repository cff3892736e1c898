import Foundation
import GRDB
import GRDBSQLite

/// A schema this program can create and upgrade: the beamtime schema or the master index.
protocol DatabaseSchema {
    static var version: Int { get }
    static var createSQL: String { get }
    static var migrations: [SchemaMigration] { get }
    static var requiredTables: Set<String> { get }
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

    /// Connection settings every writer connection shares.
    static func writerConfiguration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        // The RunWriter keeps a transaction open between commits on purpose.
        config.allowsUnsafeTransactions = true
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            // WAL + NORMAL: a committed transaction survives a process crash; a power cut
            // may lose the last commits but never corrupts the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return config
    }

    /// An SQLite URI that opens `path` immutable: no locks, no `-shm`, no `-wal`. Only safe
    /// when no `-wal` exists and nobody can write the file meanwhile.
    static func immutableURI(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        return "file:" + (path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path) + "?immutable=1"
    }

    /// Reads `user_version` and the table names without changing anything on disk.
    ///
    /// With no `-wal` beside it, the file alone is the database: it is opened immutable,
    /// so SQLite creates no `-shm` or `-wal` file and takes no lock.
    static func survey(_ path: String) throws(DatabaseFileError) -> (version: Int, tables: Set<String>) {
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
        var code = sqlite3_open_v2(name, &connection, flags, nil)
        guard code == SQLITE_OK, let connection else { throw failure(code) }
        var version = 0
        var tables: Set<String> = []
        for (sql, isVersion) in [("PRAGMA user_version", true), ("SELECT name FROM sqlite_master WHERE type = 'table'", false)] {
            var statement: OpaquePointer?
            code = sqlite3_prepare_v2(connection, sql, -1, &statement, nil)
            guard code == SQLITE_OK else { throw failure(code) }
            defer { sqlite3_finalize(statement) }
            while true {
                code = sqlite3_step(statement)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else { throw failure(code) }
                if isVersion {
                    version = Int(sqlite3_column_int64(statement, 0))
                } else if let text = sqlite3_column_text(statement, 0) {
                    tables.insert(String(cString: text))
                }
            }
        }
        return (version, tables)
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
            let (version, tables) = try survey(path)
            try check(path: path, version: version, tables: tables, schema: schema)
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
                    let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                    let tables = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
                    try check(path: path, version: version, tables: tables, schema: schema)
                    if tables.isDisjoint(with: schema.requiredTables) {
                        try db.execute(sql: schema.createSQL)
                    } else {
                        // A file without user_version but with our tables predates versioning: version 1.
                        let from = max(version, 1)
                        for migration in schema.migrations where migration.version > from {
                            try migration.apply(db)
                        }
                        try db.execute(sql: schema.createSQL)  // indexes a lenient writer may have skipped
                    }
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

    static func check<Schema: DatabaseSchema>(
        path: String, version: Int, tables: Set<String>, schema: Schema.Type
    ) throws(DatabaseFileError) {
        // Tables first: a beamtime (version 2) opened as a master index (version 1) is
        // another kind of file, not a newer one.
        let userTables = tables.filter { !$0.hasPrefix("sqlite_") }
        if !userTables.isEmpty, !schema.requiredTables.isSubset(of: userTables) {
            throw DatabaseFileError(path: path, problem: .foreignDatabase(tables: userTables.sorted()))
        }
        if version > schema.version {
            throw DatabaseFileError(path: path, problem: .newerSchema(found: version, supported: schema.version))
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
        let (version, tables) = try survey(path)
        try check(path: path, version: version, tables: tables, schema: schema)
        if !schema.requiredTables.isSubset(of: tables) {
            throw DatabaseFileError(path: path, problem: .foreignDatabase(tables: tables.sorted()))
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
