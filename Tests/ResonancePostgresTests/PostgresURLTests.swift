import Foundation
import Resonance
@testable import ResonancePostgres
import TestSupport
import Testing

/// Parsing and redaction need no server.
@Suite("PostgreSQL locations")
struct PostgresURLTests {
    @Test func aPathIsAFileAndAURLIsAServer() {
        #expect(IndexLocation("/data/index.db") == .file("/data/index.db"))
        #expect(IndexLocation("index.db") == .file("index.db"))
        #expect(IndexLocation("postgres://a@h/db") == .postgres("postgres://a@h/db"))
        #expect(IndexLocation("PostgreSQL://a@h/db") == .postgres("PostgreSQL://a@h/db"))
    }

    @Test func redactionRemovesEveryPassword() {
        #expect(IndexLocation.redacted("postgres://ada:s3cret@db:5432/idx") == "postgres://ada@db:5432/idx")
        #expect(IndexLocation.redacted("postgresql://ada:p@ss:w@rd@db/idx?sslmode=disable&password=x")
            == "postgresql://ada@db/idx?sslmode=disable")
        #expect(IndexLocation.redacted("postgres://db/idx?password=x") == "postgres://db/idx")
        #expect(IndexLocation.redacted("postgres://ada@db/idx") == "postgres://ada@db/idx")
        #expect(IndexLocation.redacted("/data/index.db") == "/data/index.db")
        #expect(IndexLocation.postgres("postgres://a:b@h/d").description == "postgres://a@h/d")
        let error = PostgresIndexError(location: "postgres://ada:s3cret@db/idx", problem: .notAnIndex)
        #expect(!error.description.contains("s3cret"))
    }

    @Test func partsComeFromTheURLThenTheEnvironment() throws {
        let url = try PostgresURL("postgres://ada:pw%40x@db.example.org:6543/resonance", environment: [:])
        #expect(url.user == "ada")
        #expect(url.host == "db.example.org")
        #expect(url.port == 6543)
        #expect(url.database == "resonance")
        #expect(url.password == "pw@x")
        let env = ["PGUSER": "grace", "PGPORT": "5555", "PGPASSWORD": "fromenv", "PGHOST": "/run/postgresql"]
        let bare = try PostgresURL("postgresql:///index", environment: env)
        #expect(bare.user == "grace")
        #expect(bare.port == 5555)
        #expect(bare.socketDirectory == "/run/postgresql")
        #expect(bare.host == nil)
        #expect(bare.database == "index")
        #expect(bare.password == "fromenv")
        let socket = try PostgresURL("postgres://ada@/idx?host=/tmp/pg&port=55432", environment: [:])
        #expect(socket.socketDirectory == "/tmp/pg")
        #expect(socket.port == 55432)
    }

    @Test func thePasswordFileIsReadAsLibpqReadsIt() throws {
        let dir = TempDir()
        let file = dir.file("pgpass")
        try """
            # comment
            other:5432:*:ada:wrong
            db.example.org:5432:resonance:ada:pa\\:ss
            *:*:*:*:fallback
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let env = ["PGPASSFILE": file]
        #expect(try PostgresURL("postgres://ada@db.example.org/resonance", environment: env).password == "pa:ss")
        #expect(try PostgresURL("postgres://grace@db.example.org/resonance", environment: env).password == "fallback")
        #expect(try PostgresURL("postgres://ada:given@db.example.org/resonance", environment: env).password == "given")
    }

    @Test func aBadURLIsAClearErrorWithoutThePassword() {
        #expect {
            try PostgresURL("postgres://ada:s3cret@db:notaport/idx", environment: [:])
        } throws: { error in
            let text = "\(error)"
            return text.contains("postgres://ada@db:notaport/idx") && text.contains("port") && !text.contains("s3cret")
        }
    }
}
