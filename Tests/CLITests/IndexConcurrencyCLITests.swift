import Foundation
import Resonance
import Testing

/// `resonance index add` as people and cron jobs run it: from the beamtime's folder, and
/// several at once on one index.
@Suite("resonance index add, as users run it")
struct IndexAddUsageTests {
    let dir = TempDir()

    func writeBeamtime(_ path: String, sample: String, runs: Int) throws {
        try RunWriter(dbPath: path, sample: SampleMetadata(name: sample)).open { w in
            for _ in 0..<runs {
                try w.openRun("nexafs")
                try w.openStream("primary")
                try w.writeEvent(["energy": 270.0])
                try w.closeRun()
            }
        }
    }

    @Test func aBareFileNameInTheCurrentFolderIsIndexed() throws {
        try writeBeamtime(dir.file("beamtime.db"), sample: "PS", runs: 2)
        let add = try resonance(["index", "add", "i.db", "--researcher", "Grace", "beamtime.db"], in: dir.path)
        #expect(add.status == 0, "\(add.stderr)")
        let search = try resonance(["index", "search", "i.db", "--json"], in: dir.path)
        let hits = try #require(try JSONValue(parsing: search.stdout).arrayValue)
        #expect(hits.count == 2)
        let researchers = try MasterIndex(path: dir.file("i.db")).open().researchers()
        // The root is the folder the file is in, stored absolute.
        #expect(researchers.map(\.rootPath) == [URL(fileURLWithPath: dir.path).standardizedFileURL.path])
    }

    @Test func severalIndexersAtOnceAllSucceed() throws {
        // A cron job, a writer's automatic indexing and a person, on one folder and one
        // new index: the index is created, surveyed and written by all of them at once.
        let folder = try dir.makeFolder("beamtimes")
        for k in 0..<4 { try writeBeamtime(folder + "/bt\(k).db", sample: "S\(k)", runs: 20) }
        for round in 0..<3 {
            let index = dir.file("index-\(round).db")
            let started = try (0..<4).map { _ in
                try startCommand(builtExecutable("resonance"), ["index", "add", index, "--researcher", "Ada", folder])
            }
            for (k, result) in started.map({ $0.wait() }).enumerated() {
                #expect(result.status == 0, "round \(round), indexer \(k): \(result.stderr)")
            }
            let search = try resonance("index", "search", index, "--limit", "1000", "--json")
            #expect(try #require(try JSONValue(parsing: search.stdout).arrayValue).count == 4 * 20)
        }
    }

    @Test func errorsNameTheIndexAsItWasGiven() throws {
        try "not a database".write(toFile: dir.file("notes.db"), atomically: true, encoding: .utf8)
        try writeBeamtime(dir.file("bt.db"), sample: "PS", runs: 1)
        let add = try resonance(["index", "add", "notes.db", "--researcher", "Ada", "bt.db"], in: dir.path)
        #expect(add.status != 0)
        #expect(add.stderr.contains("notes.db: not an SQLite database"), "\(add.stderr)")
        #expect(!add.stderr.contains(dir.path), "\(add.stderr)")
    }
}
