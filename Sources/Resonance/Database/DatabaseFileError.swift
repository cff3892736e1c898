import Foundation

/// A database file that cannot be used, with the path and what is wrong with it.
///
/// Files refused this way are left byte-for-byte untouched.
public struct DatabaseFileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong with the file.
    public enum Problem: Sendable, Equatable {
        /// Nothing is at the path (readers do not create files).
        case missing
        /// The path is a directory where a database file is expected.
        case isDirectory
        /// The folder that should hold the file does not exist.
        case missingFolder
        /// The file is not an SQLite database (its header is given, printable part only).
        case notSQLite(header: String)
        /// The file is empty: no database was ever written to it.
        case empty
        /// The file is SQLite but belongs to another application (its tables are listed).
        case foreignDatabase(tables: [String])
        /// The file was written by a newer program with a schema this one does not know.
        case newerSchema(found: Int, supported: Int)
        /// SQLite could not read the file (truncated, corrupt, unreadable).
        case unreadable(reason: String)
        /// A crashed writer left a journal that needs a writable folder to be rolled back.
        case needsRecovery(reason: String)
        /// Another live writer holds this beamtime.
        case lockedByAnotherWriter
        /// A table lacks a column its schema version must have, and no known repair adds it.
        case missingColumn(table: String, column: String, version: Int)
        /// The Zarr store was removed while a writer had it open.
        case storeRemoved
        /// A file-system call on the Zarr store failed (`operation` is e.g. "open" or "syncfs").
        case storeUnusable(operation: String, errno: Int32)
        /// The writer lock on the Zarr store could not be taken for a reason other than
        /// another writer holding it.
        case lockFailed(errno: Int32)

        /// The POSIX error number of a failed file-system call.
        public var errno: Int32? {
            switch self {
            case .storeUnusable(_, let code), .lockFailed(let code): return code
            default: return nil
            }
        }
    }

    /// The path of the file.
    public var path: String
    /// What is wrong with it.
    public var problem: Problem

    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case .missing: return "\(path): no such file"
        case .isDirectory: return "\(path): is a directory, not a database file"
        case .missingFolder: return "\(path): the folder that should hold it does not exist"
        case .notSQLite(let header): return "\(path): not an SQLite database (file starts with \(header.debugDescription))"
        case .empty: return "\(path): empty file, not a beamtime database"
        case .foreignDatabase(let tables):
            return "\(path): an SQLite database of another application (tables: \(tables.joined(separator: ", ")))"
        case .newerSchema(let found, let supported):
            return "\(path): schema version \(found) is newer than this program supports (\(supported)); upgrade resonance to open it"
        case .unreadable(let reason): return "\(path): cannot be read: \(reason)"
        case .needsRecovery(let reason):
            return "\(path): a crashed writer left it needing recovery, which needs write access to its folder (\(reason)); run `resonance check --repair` as a user who can write there, or copy the .db and its -wal/-journal files to a writable folder"
        case .missingColumn(let table, let column, let version):
            return "\(path): table \(table) has no column \(column), which schema version \(version) must have; the file was changed by another program and is left as it is"
        case .storeRemoved:
            return "\(path): the Zarr store was removed while the writer had it open; frames cannot be stored"
        case .storeUnusable(let operation, let code):
            return "\(path): \(operation) of the Zarr store failed: \(String(cString: strerror(code)))"
        case .lockFailed(let code):
            return "\(path): cannot take the writer lock: \(String(cString: strerror(code)))"
        case .lockedByAnotherWriter:
            return "\(path): another writer has this beamtime open; close it first (one writer per beamtime)"
        }
    }
}
