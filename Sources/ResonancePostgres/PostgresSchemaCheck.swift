import Foundation
import Logging
import PostgresNIO
import Resonance

extension PostgresIndexSchema {
    /// What a database holds, read before anything is written.
    enum State {
        case empty
        case index(version: Int)
        case foreign(tables: [String])
    }

    static func state(_ connection: PostgresConnection, _ logger: Logger) async throws -> State {
        let tables = try await connection.query(
            """
            SELECT c.relname::text AS relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
            ORDER BY c.relname COLLATE "C"
            """, logger: logger
        ).all().map { try $0.value("relname", as: String.self) }
        if tables.isEmpty { return .empty }
        guard tables.contains("resonance_index_meta") else { return .foreign(tables: tables) }
        let meta = try await connection.query("SELECT key, value FROM resonance_index_meta", logger: logger).all()
        var values: [String: String] = [:]
        for row in meta { values[try row.value("key")] = try row.value("value", as: String.self) }
        guard values["application"] == application, let version = values["schema_version"].flatMap({ Int($0) }) else {
            return .foreign(tables: tables)
        }
        // A newer version may add tables; an older or equal one must have all of its own.
        if version <= Self.version, !Self.tables(ofVersion: version).isSubset(of: tables) { return .foreign(tables: tables) }
        return .index(version: version)
    }

    /// For readers: the database must hold a master index this tool can read.
    static func checkReadable(_ url: String) -> @Sendable (PostgresConnection, Logger) async throws -> Void {
        { connection, logger in
            switch try await state(connection, logger) {
            case .empty: throw PostgresIndexError(location: url, problem: .notAnIndex)
            case .foreign(let tables): throw PostgresIndexError(location: url, problem: .foreignDatabase(tables: tables))
            case .index(let found) where found > version:
                throw PostgresIndexError(location: url, problem: .newerSchema(found: found, supported: version))
            case .index: return
            }
        }
    }

    /// For writers: creates the schema in an empty database, upgrades an older one, and
    /// refuses (changing nothing) another application's database or a newer schema. Two
    /// writers creating at once are serialized by an advisory lock; the second finds the
    /// first's schema.
    static func ensureWritable(_ url: String) -> @Sendable (PostgresConnection, Logger) async throws -> Void {
        { connection, logger in
            func check() async throws -> Int? {
                switch try await state(connection, logger) {
                case .empty: return nil
                case .foreign(let tables): throw PostgresIndexError(location: url, problem: .foreignDatabase(tables: tables))
                case .index(let found) where found > version:
                    throw PostgresIndexError(location: url, problem: .newerSchema(found: found, supported: version))
                case .index(let found): return found
                }
            }
            if try await check() == version { return }
            try await connection.query("BEGIN", logger: logger)
            do {
                try await connection.query("SELECT pg_advisory_xact_lock(8271653409)", logger: logger)
                let found = try await check()
                if found == nil {
                    for statement in createStatements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                } else if let found, found < version {
                    for step in migrations where step.version > found {
                        for statement in step.statements {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await connection.query(
                            "UPDATE resonance_index_meta SET value = \(String(step.version)) WHERE key = 'schema_version'", logger: logger)
                    }
                }
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }
}
