import Foundation
import Glibc
import Resonance
import ResonancePostgres
import TestSupport
import Testing

/// Many indexers and searchers at once on one server, as at a facility.
@Suite("PostgreSQL index under load", .enabled(if: TestServer.enabled))
struct PostgresLoadTests {
    static let seconds = ProcessInfo.processInfo.environment["RESONANCE_POSTGRES_LOAD_SECONDS"].flatMap { Double($0) } ?? 10
    static let beamtimes = 12
    static let runsPerBeamtime = 300

    /// Version `version` of beamtime `b`: the same uids every time, every run of one version
    /// with the same plan, so a search that saw half a re-indexing would see two plans.
    static func runs(beamtime b: Int, version: Int) -> [MasterIndexWriter.RunEntry] {
        (0..<runsPerBeamtime).map { k in
            MasterIndexWriter.RunEntry(
                uid: "bt\(b)-run\(k)", planName: "v\(version)", sampleName: "sample-\(b)",
                timeStart: 1_772_700_000 + Double(b * runsPerBeamtime + k), tags: ["bt\(b)", version % 2 == 0 ? "even" : "odd"])
        }
    }

    final class Tally: @unchecked Sendable {
        let lock = NSLock()
        var errors: [String] = []
        var inconsistent: [String] = []
        var indexings = 0
        var searches = 0
        func add(_ body: (Tally) -> Void) { lock.withLock { body(self) } }
    }

    /// 8 indexers (two per beamtime at a time, on separate connections as from separate
    /// machines) and 32 searchers: no error, no duplicate, every answer whole.
    @Test func eightIndexersAndThirtyTwoSearchers() throws {
        let db = try TestDatabase("load")
        let setup = try PostgresIndexWriter(url: db.url).open()
        let ada = try setup.registerResearcher(name: "Ada", rootPath: "/data/ada")
        try setup.close()
        let tally = Tally()
        let deadline = Date().addingTimeInterval(Self.seconds)
        let url = db.url
        var threads: [Thread] = []
        let group = DispatchGroup()
        for i in 0..<8 {
            group.enter()
            threads.append(Thread {
                defer { group.leave() }
                var rng = SplitMix64(seed: UInt64(i + 1))
                do {
                    let writer = try PostgresIndexWriter(url: url).open()
                    defer { try? writer.close() }
                    var version = 0
                    while Date() < deadline {
                        // Indexers i and i+4 share beamtimes: the same file from two machines.
                        let b = (i % 4) * 3 + Int(rng.next() % 3)
                        version += 1
                        let result = try writer.indexBeamtime(
                            dbPath: "/data/ada/bt\(b).db", researcherID: ada, label: nil, runs: Self.runs(beamtime: b, version: version))
                        if result.beamtime.runCount != Self.runsPerBeamtime {
                            tally.add { $0.inconsistent.append("indexer saw \(result.beamtime.runCount) runs in bt\(b)") }
                        }
                        tally.add { $0.indexings += 1 }
                    }
                } catch {
                    tally.add { $0.errors.append("indexer \(i): \(error)") }
                }
            })
        }
        for s in 0..<32 {
            group.enter()
            threads.append(Thread {
                defer { group.leave() }
                var rng = SplitMix64(seed: UInt64(100 + s))
                do {
                    // Readers may start before the first beamtime is in: the schema is there.
                    let index = try PostgresIndex(url: url).open()
                    while Date() < deadline {
                        let b = Int(rng.next() % UInt64(Self.beamtimes))
                        let query = switch rng.next() % 3 {
                        case 0: IndexQuery(sample: .exactly("sample-\(b)"), limit: nil)
                        case 1: IndexQuery(tag: "bt\(b)", limit: nil)
                        default: IndexQuery(sample: .containing("SAMPLE-\(b)"), researcher: "Ada", limit: nil)
                        }
                        let hits = try index.search(query).filter { $0.sampleName == "sample-\(b)" }
                        let plans = Set(hits.map(\.planName))
                        let uids = Set(hits.map(\.uid))
                        if !(hits.isEmpty || (hits.count == Self.runsPerBeamtime && plans.count == 1 && uids.count == hits.count)) {
                            tally.add { $0.inconsistent.append("bt\(b): \(hits.count) hits, plans \(plans.sorted()), \(uids.count) uids") }
                        }
                        tally.add { $0.searches += 1 }
                    }
                } catch {
                    tally.add { $0.errors.append("searcher \(s): \(error)") }
                }
            })
        }
        for thread in threads { thread.start() }
        #expect(group.wait(timeout: .now() + Self.seconds + 120) == .success)
        #expect(tally.errors == [])
        #expect(tally.inconsistent == [])
        #expect(tally.indexings >= 8)
        #expect(tally.searches >= 32)
        // One copy of each run: every beamtime indexed holds exactly its runs, nothing else.
        let counts = try db.strings("SELECT b.db_path || ' ' || count(r.uid) FROM beamtimes b LEFT JOIN runs_index r ON r.beamtime_id = b.id GROUP BY b.db_path")
        #expect(counts.allSatisfy { $0.hasSuffix(" \(Self.runsPerBeamtime)") }, "\(counts)")
        #expect(try db.strings("SELECT (count(*) - count(DISTINCT uid))::text FROM runs_index").first == "0")
        #expect(try db.strings("SELECT count(*)::text FROM beamtimes").first.flatMap { Int($0) } == counts.count)
        print("load: \(tally.indexings) beamtimes indexed, \(tally.searches) searches in \(Self.seconds) s")
    }

    /// `kill -9` of `resonance index add` between two chunks of one beamtime: the index
    /// holds that beamtime as before (or after), never half of it.
    @Test func aKilledIndexerLeavesTheBeamtimeWhole() throws {
        let db = try TestDatabase("kill")
        let dir = TempDir()
        let path = dir.file("bt.db")
        let uids = try makeBeamtime(path, samples: [("PS", ["polymer"]), ("P3HT", [])], runsPerSample: 12)
        func count() throws -> Int {
            Int(try db.strings("SELECT count(*)::text FROM runs_index").first ?? "") ?? -1
        }
        try PostgresIndexWriter(url: db.url).open()  // so that the kills land in the beamtime's transaction
        var outcomes: [Int] = []
        for delay in [0.3, 0.8, 1.5] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: builtExecutable("resonance"))
            process.arguments = ["index", "add", db.url, "--researcher", "Ada", path]
            var environment = ProcessInfo.processInfo.environment
            environment["RESONANCE_POSTGRES_CHUNK_RUNS"] = "1"  // one INSERT per run,
            environment["RESONANCE_POSTGRES_TEST_PAUSE_MS"] = "100"  // 100 ms apart: ~2.4 s per beamtime
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            let n = try count()
            outcomes.append(n)
            #expect(n == 0, "a killed first indexing left \(n) of \(uids.count) runs")
        }
        // Completed once, then killed while re-indexing: still all of it.
        #expect(try resonance("index", "add", db.url, "--researcher", "Ada", path).status == 0)
        #expect(try count() == uids.count)
        let process = try startCommand(builtExecutable("resonance"), ["index", "add", db.url, "--researcher", "Ada", path])
        Thread.sleep(forTimeInterval: 0.2)
        kill(process.process.processIdentifier, SIGKILL)
        _ = process.wait()
        #expect(try count() == uids.count)
        #expect(try PostgresIndex(url: db.url).open().search(limit: nil).map(\.uid).sorted() == uids.sorted())
    }
}
