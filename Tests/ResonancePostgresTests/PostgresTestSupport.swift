import Foundation
import Resonance
import ResonancePostgres
import TestSupport
import Testing

/// The test server: `RESONANCE_TEST_POSTGRES_URL` (scripts/postgres.sh starts one and sets
/// it, with PGPASSWORD). Tests that need it are enabled when it is set, and always in CI
/// (CI=true), where a missing variable fails them with this message instead of skipping.
enum TestServer {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["RESONANCE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    /// Whether server tests run: with a server, or in CI (where they fail without one).
    static let enabled = url != nil || environment["CI"] == "true"

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "RESONANCE_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh (or `bash scripts/postgres.sh swift test`), which starts a private PostgreSQL server"
        }
    }

    static func server() throws -> PostgresServer {
        guard let url else { throw Missing() }
        return try PostgresServer(url: url)
    }
}

/// A database of the test's own on the test server, dropped when the test ends.
final class TestDatabase: Sendable {
    let name: String
    let url: String
    let server: PostgresServer

    init(_ label: String) throws {
        server = try TestServer.server()
        name = "rt_" + label.lowercased().filter { $0.isLetter || $0.isNumber } + "_" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        try server.createDatabase(name)
        url = server.url(ofDatabase: name)
    }

    deinit { try? server.dropDatabase(name) }

    /// The first column of each row of `sql` in this database, as text.
    func strings(_ sql: String) throws -> [String] { try server.strings(sql, database: name) }

    func execute(_ sql: String) throws { try server.execute(sql, database: name) }
}

/// A beamtime written by RunWriter: `samples` samples with tags, `runsPerSample` runs each.
/// Returns the run uids in order.
@discardableResult
func makeBeamtime(_ path: String, samples: [(String, [String])], runsPerSample: Int = 2) throws -> [String] {
    var uids: [String] = []
    for (name, tags) in samples {
        try RunWriter(dbPath: path, sample: SampleMetadata(name: name, tags: tags)).open { w in
            for k in 0..<runsPerSample {
                uids.append(try w.openRun(k % 2 == 0 ? "nexafs" : "rsoxs"))
                try w.closeRun()
            }
        }
    }
    return uids
}
