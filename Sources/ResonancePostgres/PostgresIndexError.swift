import Foundation
import NIOCore
import PostgresNIO
import Resonance

/// A PostgreSQL master index that could not be used. Nothing was changed.
///
/// Every message names the index by its URL without the password
/// (``IndexLocation/redacted(_:)``).
public struct PostgresIndexError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The URL, without its password.
    public var location: String
    public var problem: Problem

    public enum Problem: Sendable, Equatable {
        /// The URL cannot be parsed.
        case invalidURL(reason: String)
        /// No server answers there (refused, timed out, unknown host).
        case unreachable(reason: String)
        /// The server refused the user or the password.
        case authenticationFailed(user: String, reason: String)
        /// The server has no such database.
        case noSuchDatabase(String)
        /// The database holds tables of another application (listed) and no master index.
        case foreignDatabase(tables: [String])
        /// The database is empty: nothing to read yet (a writer creates the schema).
        case notAnIndex
        /// The index was written by a newer Resonance.
        case newerSchema(found: Int, supported: Int)
        /// The server refused a statement (SQLSTATE and message).
        case server(sqlState: String, message: String)
    }

    public init(location: String, problem: Problem) {
        self.location = IndexLocation.redacted(location)
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case .invalidURL(let reason):
            return "\(location): not a usable PostgreSQL URL: \(reason) (use postgres://user@host:port/database; the password comes from PGPASSWORD or ~/.pgpass)"
        case .unreachable(let reason):
            return "\(location): cannot reach the PostgreSQL server: \(reason)"
        case .authenticationFailed(let user, let reason):
            return "\(location): the PostgreSQL server refused user \(user.debugDescription): \(reason) (the password comes from the URL, PGPASSWORD or ~/.pgpass)"
        case .noSuchDatabase(let name):
            return "\(location): the PostgreSQL server has no database \(name.debugDescription) (create it: createdb \(name))"
        case .foreignDatabase(let tables):
            let list = tables.prefix(8).joined(separator: ", ") + (tables.count > 8 ? ", ..." : "")
            return "\(location): not a master index: the database holds tables of another application (\(list)); nothing was changed"
        case .notAnIndex:
            return "\(location): not a master index yet (the database is empty; `resonance index add` creates one)"
        case .newerSchema(let found, let supported):
            return "\(location): master index schema version \(found) is newer than this tool supports (\(supported)): upgrade Resonance; nothing was changed"
        case .server(let state, let message):
            return "\(location): PostgreSQL error \(state): \(message)"
        }
    }

    /// Turns what PostgresNIO threw into an error naming `url` (redacted); other errors
    /// (``IndexError``, ``DatabaseFileError``) are returned as they are.
    static func wrap(_ error: any Error, url: PostgresURL) -> any Error {
        if error is PostgresIndexError || error is IndexError || error is DatabaseFileError { return error }
        let location = url.redacted
        if let error = error as? PSQLError {
            if let info = error.serverInfo, let state = info[.sqlState] {
                let message = info[.message] ?? "no message"
                switch state {
                case "28P01", "28000":
                    return PostgresIndexError(location: location, problem: .authenticationFailed(user: url.user, reason: message))
                case "3D000":
                    return PostgresIndexError(location: location, problem: .noSuchDatabase(url.database))
                default:
                    return PostgresIndexError(location: location, problem: .server(sqlState: state, message: message))
                }
            }
            switch error.code {
            case .authMechanismRequiresPassword:
                return PostgresIndexError(
                    location: location, problem: .authenticationFailed(user: url.user, reason: "the server asks for a password and none was given"))
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
                return PostgresIndexError(location: location, problem: .unreachable(reason: describe(error.underlying) ?? "\(error.code)"))
            default:
                return PostgresIndexError(location: location, problem: .unreachable(reason: "\(error.code)" + (describe(error.underlying).map { ": " + $0 } ?? "")))
            }
        }
        return PostgresIndexError(location: location, problem: .unreachable(reason: describe(error) ?? "unknown error"))
    }

    private static func describe(_ error: (any Error)?) -> String? {
        guard let error else { return nil }
        if let error = error as? IOError { return error.description }
        let text = String(describing: error)
        return text.isEmpty ? nil : text
    }
}
