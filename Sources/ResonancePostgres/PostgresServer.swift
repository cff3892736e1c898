import Foundation
import PostgresNIO
import Resonance

/// Administration of the server behind a URL, for tests and benchmarks: databases of
/// their own, and plain SQL. Calls block; see ``Blocking``.
public struct PostgresServer: Sendable {
    public let url: PostgresURL

    public init(url: String) throws {
        self.url = try PostgresURL(url)
    }

    /// The URL of database `name` on the same server, with the same credentials (the
    /// password is not part of it: it comes from the environment or the password file).
    public func url(ofDatabase name: String) -> String {
        url.withDatabase(name).text
    }

    /// Creates database `name` (dropping one of that name first).
    public func createDatabase(_ name: String) throws {
        try dropDatabase(name)
        try execute("CREATE DATABASE \(Self.quoted(name))")
    }

    /// Drops database `name` if it exists, ending its sessions.
    public func dropDatabase(_ name: String) throws {
        try execute("DROP DATABASE IF EXISTS \(Self.quoted(name)) WITH (FORCE)")
    }

    /// Runs each statement in the URL's database (or `database`), outside a transaction.
    public func execute(_ statements: String..., database: String? = nil) throws {
        let target = database.map { url.withDatabase($0) } ?? url
        let session = PostgresSession(url: target)
        try session.open { _, _ in }
        defer { try? session.close() }
        for statement in statements {
            try session.run { connection, logger in
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                return ()
            }
        }
    }

    /// The first column of every row of `sql`, as text.
    public func strings(_ sql: String, database: String? = nil) throws -> [String] {
        let target = database.map { url.withDatabase($0) } ?? url
        let session = PostgresSession(url: target)
        try session.open { _, _ in }
        defer { try? session.close() }
        return try session.run { connection, logger in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).all().map { try $0[0].decode(String.self) }
        }
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
