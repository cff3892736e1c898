import Foundation
import Resonance
import ResonancePostgres
import TestSupport
import Testing

/// `resonance index add|search` with a URL instead of INDEX.db.
@Suite("PostgreSQL index on the command line", .enabled(if: TestServer.enabled))
struct PostgresCLITests {
    let dir = TempDir()

    @Test func addAndSearchAnswerAsWithAFile() throws {
        let db = try TestDatabase("cli")
        try dir.makeFolder("ada")
        try makeBeamtime(dir.file("ada/2026-03-05.db"), samples: [("PS", ["polymer"]), ("P3HT", ["blend"])])
        try makeBeamtime(dir.file("ada/2026-04-01.db"), samples: [("gold", [])])
        for index in [dir.file("index.db"), db.url] {
            let add = try resonance("index", "add", index, "--researcher", "Ada", dir.file("ada"))
            #expect(add.status == 0, "\(add.stderr)")
            #expect(add.stdout.contains("indexed 2 beamtimes, 6 runs for Ada in \(index)"))
        }
        for filters in [["--tag", "polymer"], ["--sample-contains", "p"], ["--plan", "rsoxs", "--limit", "2"], ["--researcher", "Ada"]] {
            let file = try resonance(["index", "search", dir.file("index.db"), "--json"] + filters)
            let server = try resonance(["index", "search", db.url, "--json"] + filters)
            #expect(server.status == 0, "\(server.stderr)")
            #expect(server.stdout == file.stdout)
            #expect(server.stderr == file.stderr)
        }
        let unknown = try resonance("index", "search", db.url, "--researcher", "Bob")
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains(#"no researcher named "Bob" in the index (known: Ada)"#))
    }

    /// `--where` on whole beamtimes (`index add` reads each run's metadata): the same hits
    /// from a file and a server, and the same as `resonance runs --where` in the beamtime.
    @Test func whereMatchesMetadataAsWithAFileAndAsInTheBeamtime() throws {
        let db = try TestDatabase("cliwhere")
        let beamtime = dir.file("bt.db")
        let metadata: [JSONObject] = [
            ["edge": "C K", "repeat": 1, "ok": true], ["edge": "C K", "repeat": 1.0, "ok": false],
            ["edge": "N K", "repeat": "1", "note": .null], ["edge": "C K", "repeat": 2],
        ]
        try RunWriter(dbPath: beamtime, sample: SampleMetadata(name: "PS")).open { w in
            for (k, m) in metadata.enumerated() {
                _ = try w.openRun("nexafs", metadata: m, time: 1_772_700_000 + Double(k))
                try w.closeRun()
            }
        }
        for index in [dir.file("index.db"), db.url] {
            let add = try resonance("index", "add", index, "--researcher", "Ada", beamtime)
            #expect(add.status == 0, "\(add.stderr)")
        }
        let cases: [([String], Int)] = [
            (["--where", "edge=C K"], 3), (["--where", "repeat=1"], 2), (["--where", "repeat=1.0"], 2),
            (["--where", #"repeat="1""#], 1), (["--where", "edge=C K", "--where", "ok=true"], 1), (["--where", "note=null"], 1),
            (["--where", "edge=O K"], 0),
        ]
        for (filters, count) in cases {
            let file = try resonance(["index", "search", dir.file("index.db"), "--json"] + filters)
            let server = try resonance(["index", "search", db.url, "--json"] + filters)
            #expect(file.status == 0, "\(file.stderr)")
            #expect(server.status == 0, "\(server.stderr)")
            #expect(server.stdout == file.stdout, "\(filters)")
            let hits = try JSONValue(parsing: server.stdout).arrayValue ?? []
            #expect(hits.count == count, "\(filters)")
            let runs = try resonance(["runs", beamtime, "--json"] + filters)
            #expect(hits.compactMap { $0["uid"]?.stringValue } == (try JSONValue(parsing: runs.stdout).arrayValue ?? []).compactMap { $0["uid"]?.stringValue })
        }
        let refused = try resonance("index", "search", db.url, "--where", "edge=[1]")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("only strings, numbers, booleans and null can be matched"))
    }

    /// A password given in the URL is used, and never printed: not on success, not in errors.
    @Test func aPasswordInTheURLIsNeverPrinted() throws {
        let db = try TestDatabase("secret")
        let server = try PostgresURL(db.url)
        let password = try #require(ProcessInfo.processInfo.environment["PGPASSWORD"], "scripts/postgres.sh sets PGPASSWORD")
        let host = "\(server.host ?? "127.0.0.1"):\(server.port)"
        try makeBeamtime(dir.file("bt.db"), samples: [("PS", [])])
        let good = "postgres://\(server.user):\(password)@\(host)/\(db.name)"
        let bad = "postgres://\(server.user):\(password)-WRONG@\(host)/\(db.name)"
        let runs = [
            try resonance("index", "add", good, "--researcher", "Ada", dir.file("bt.db")),
            try resonance("index", "search", good, "--json"),
            try resonance("index", "add", bad, "--researcher", "Ada", dir.file("bt.db")),
            try resonance("index", "search", bad),
            try resonance("index", "search", "postgres://\(server.user):\(password)@127.0.0.1:1/\(db.name)"),
            try resonance("index", "search", good, "--researcher", "nobody"),
        ]
        #expect(runs.map(\.status).map { $0 == 0 } == [true, true, false, false, false, false])
        for run in runs {
            #expect(!run.stdout.contains(password) && !run.stderr.contains(password), "\(run.stdout)\n\(run.stderr)")
        }
        #expect(runs[0].stdout.contains("postgres://\(server.user)@\(host)/\(db.name)"))
        #expect(runs[2].stderr.contains("postgres://\(server.user)@\(host)/\(db.name)"))
        #expect(runs[2].stderr.contains("refused user"))
        #expect(runs[4].stderr.contains("cannot reach"))
    }
}
