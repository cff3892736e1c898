import Concurrency
import Foundation
import Logging
import PostgresNIO
import Resonance

/// One connection to the server, used by one reader or writer, one call at a time.
///
/// Calls block (see ``Blocking`` for the threads they may come from). ``open(check:)``
/// connects and checks the schema; a connection the server drops later is made again by
/// the next call; after ``close()`` calls throw ``IndexError/notOpen(_:)``.
final class PostgresSession: @unchecked Sendable {
    let url: PostgresURL
    let logger: Logger
    private let lock = Lock()
    private var connection: PostgresConnection?
    private var checked = false
    private var isOpen = false

    init(url: PostgresURL) {
        self.url = url
        // PostgresNIO logs nothing unless asked (RESONANCE_POSTGRES_LOG=debug): its lines
        // name hosts and users, never passwords, but stay out of the CLI's output.
        var logger = Logger(label: "resonance.postgres")
        if let level = ProcessInfo.processInfo.environment["RESONANCE_POSTGRES_LOG"].flatMap(Logger.Level.init(rawValue:)) {
            logger.logLevel = level
        } else {
            logger = Logger(label: "resonance.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        }
        self.logger = logger
    }

    deinit {
        // Closing is asynchronous: the completion handler keeps the connection alive until
        // it is closed (PostgresNIO asserts that a connection is closed before it goes).
        if let connection {
            let closing: EventLoopFuture<Void> = connection.close()
            closing.whenComplete { _ in withExtendedLifetime(connection) {} }
        }
    }

    /// Connects and runs `check` (the schema check of a reader or a writer); opening an
    /// open session does nothing. On failure nothing stays connected.
    func open(check: @escaping @Sendable (PostgresConnection, Logger) async throws -> Void) throws {
        try lock.withLock {
            if isOpen { return }
            isOpen = true
        }
        do {
            try run(check: check) { _, _ in }
        } catch {
            try? close()
            throw error
        }
    }

    /// Runs `body` on the connection (connected again if the server dropped it, and
    /// schema-checked first if it has not been), mapping PostgresNIO errors to
    /// ``PostgresIndexError`` naming the redacted URL.
    func run<T: Sendable>(
        check: (@Sendable (PostgresConnection, Logger) async throws -> Void)? = nil,
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) throws -> T {
        try lock.withLock {
            guard isOpen else { throw IndexError.notOpen(url.redacted) }
            let configuration = url.configuration
            let logger = logger
            let existing = connection
            let needsCheck = !checked
            do {
                let connection = try Blocking.wait {
                    if let existing, !existing.isClosed { return existing }
                    return try await PostgresConnection.connect(
                        on: Blocking.eventLoopGroup.next(), configuration: configuration, id: 1, logger: logger)
                }
                self.connection = connection
                if needsCheck, let check {
                    try Blocking.wait { try await check(connection, logger) }
                    checked = true
                }
                return try Blocking.wait { try await body(connection, logger) }
            } catch {
                if let connection, connection.isClosed { self.connection = nil }
                throw PostgresIndexError.wrap(error, url: url)
            }
        }
    }

    func close() throws {
        lock.withLock {
            isOpen = false
            guard let connection else { return }
            self.connection = nil
            checked = false
            try? Blocking.wait { try await connection.close() }
        }
    }

    /// How a transaction isolates itself from concurrent ones.
    enum Isolation: String {
        /// For the small writes (a researcher, a beamtime, a run).
        case serializable = "SERIALIZABLE"
        /// For whole beamtimes, which take an advisory lock on the beamtime first: SSI's
        /// page-level predicate locks would make indexers of *different* beamtimes fail
        /// each other on a small index, and the lock already orders those of the same one.
        case readCommitted = "READ COMMITTED"
        /// For a search made of several statements: one snapshot for all of them.
        case snapshot = "REPEATABLE READ READ ONLY"
    }

    /// Runs `body` in a transaction, again (from the start, after a short random pause)
    /// when the server reports a serialization failure, a deadlock or a concurrent insert
    /// of the same key; other errors roll back and are thrown.
    static func transaction<T: Sendable>(
        _ connection: PostgresConnection, _ logger: Logger, isolation: Isolation = .serializable,
        _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            try await connection.query(PostgresQuery(unsafeSQL: "BEGIN ISOLATION LEVEL " + isolation.rawValue), logger: logger)
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                guard attempt < maxAttempts, isRetryable(error) else { throw error }
                let ceiling = min(200, 2 << min(attempt, 7))  // ms
                try await Task.sleep(nanoseconds: UInt64.random(in: 1...UInt64(ceiling)) * 1_000_000)
            }
        }
    }

    static let maxAttempts = 40

    static func isRetryable(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return ["40001", "40P01", "23505"].contains(state)
    }
}

extension PostgresRowSequence {
    /// Every row, each as a random-access row.
    func all() async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in self { rows.append(row.makeRandomAccess()) }
        return rows
    }
}

extension PostgresRandomAccessRow {
    func value<T: PostgresDecodable>(_ column: String, as: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }
}
