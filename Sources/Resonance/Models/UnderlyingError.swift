import Foundation
import GRDB
import Zarr

/// The error beneath a writer's or reader's failure (SQLite, the file system, a codec),
/// kept whole so that a caller can tell a full disk from a bug: ``error`` is the original
/// error, ``sqliteResultCode`` and ``errno`` its codes where it has them. ``description``
/// is the readable message.
public struct UnderlyingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The original error.
    public let error: any Error
    /// What was being done, e.g. "syncing the frame files"; put before the message.
    public let context: String?
    /// What the caller can do about it; put after the message.
    public let advice: String?

    public init(_ error: any Error, context: String? = nil, advice: String? = nil) {
        self.error = (error as? UnderlyingError)?.error ?? error
        self.context = context
        self.advice = advice
    }

    /// SQLite's primary result code when SQLite failed, e.g. 13 (`SQLITE_FULL`) for a full
    /// disk, 5 (`SQLITE_BUSY`) for a lock held too long, 19 (`SQLITE_CONSTRAINT`) for a
    /// trigger or constraint that refused the rows.
    public var sqliteResultCode: Int32? {
        (error as? DatabaseError)?.resultCode.primaryResultCode.rawValue
    }

    /// The POSIX error number when a file-system call failed, e.g. `ENOSPC` or `EIO`.
    public var errno: Int32? {
        switch error {
        case let error as ZarrError: return error.errno
        case let error as DatabaseFileError: return error.problem.errno
        case let error as POSIXError: return error.code.rawValue
        default: return nil
        }
    }

    public var description: String {
        var text = Self.describe(error)
        if let context { text = context + ": " + text }
        if let advice { text += "; " + advice }
        return text
    }

    /// SQLite errors as "SQLite error <code>: <message>" (without the SQL GRDB adds).
    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "SQLite error \(error.resultCode.rawValue): \(error.message ?? "")"
        }
        return "\(error)"
    }

    public static func == (a: UnderlyingError, b: UnderlyingError) -> Bool {
        a.description == b.description && a.sqliteResultCode == b.sqliteResultCode && a.errno == b.errno
    }
}
