import CommandLineSupport
import ArgumentParser
import Concurrency
import Foundation
import GRDB
import Resonance
import ResonancePostgres

/// `resonance-bench index`: times searches on a synthetic index of many runs (hidden;
/// run from a release build: `swift run -c release resonance-bench index`).
struct IndexBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Time index searches on a synthetic index of many runs.",
        discussion: """
            Builds (or reuses) an index of --runs runs: 20 researchers, 200 beamtimes, 20,000
            samples, 100 plans, one run every 30 s. Tags: "polymer" on ~30% of runs, "blend"
            on ~10%, one of 500 rare tags on ~20%. Metadata: scan_id (unique), edge (one of 5),
            repeat (0-4), proposal (one of 2,000), dry_run (true on ~1%), exposure (a float).
            Prints the median and 95th percentile of
            each search. With --postgres URL the same runs are also indexed into a fresh
            database "resonance_index_bench" on that server (through PostgresIndexWriter, one
            transaction per beamtime, timed) and every search runs on both backends, which
            must give the same hits.
            """,
        shouldDisplay: false
    )

    @Option(help: "Runs in the synthetic index.")
    var runs = 1_000_000

    @Option(help: "Where to keep the index (reused when it already holds --runs runs).")
    var path = NSTemporaryDirectory() + "resonance-index-bench.db"

    @Option(help: "Repetitions of each search (the median and 95th percentile are printed).")
    var repeats = 20

    @Option(help: "A PostgreSQL server (postgres://user@host:port/db) to compare with; the bench creates its own database there.")
    var postgres: String?

    @Option(name: .customLong("postgres-writers"), help: "Indexers at once into PostgreSQL (each its own connection and beamtimes), as several machines would.")
    var postgresWriters = 1

    func run() throws {
        let data = Self.syntheticRuns(runs)
        try build(data)
        let index = try MasterIndex(path: path).open()
        var pgIndex: PostgresIndex?
        if let postgres {
            pgIndex = try buildPostgres(data, server: postgres)
        }
        let t0 = 1_700_000_000.0
        let day = 86_400.0
        let middle = t0 + Double(runs) * 15
        let searches: [(String, IndexQuery)] = [
            ("no filter", IndexQuery()),
            ("sample exact", IndexQuery(sample: .exactly("sample00123"))),
            ("sample exact, absent", IndexQuery(sample: .exactly("nobody"))),
            ("sample substring, ~2,500 runs", IndexQuery(sample: .containing("ample0012"))),
            ("sample substring, absent (scan)", IndexQuery(sample: .containing("zzz"))),
            ("plan", IndexQuery(plan: "plan42")),
            ("researcher", IndexQuery(researcher: "researcher07")),
            ("tag common", IndexQuery(tag: "polymer")),
            ("tag rare (~400 runs)", IndexQuery(tag: "t77")),
            ("tag absent (scan)", IndexQuery(tag: "absent")),
            ("time range, one day", IndexQuery(since: middle, until: middle + day)),
            ("time range, one day, no limit", IndexQuery(since: middle, until: middle + day, limit: nil)),
            ("sample exact + plan", IndexQuery(sample: .exactly("sample00123"), plan: "nexafs")),
            ("plan + researcher", IndexQuery(plan: "plan42", researcher: "researcher07")),
            ("plan + researcher + one week", IndexQuery(plan: "plan42", researcher: "researcher07", since: middle, until: middle + 7 * day)),
            ("tag rare + researcher", IndexQuery(researcher: "researcher07", tag: "t77")),
            ("sample substring + plan", IndexQuery(sample: .containing("ample0012"), plan: "nexafs")),
            ("metadata common (edge, ~20%)", IndexQuery(metadata: ["edge": "N K"])),
            ("metadata number, 2.0 = 2 (~20%)", IndexQuery(metadata: ["repeat": 2.0])),
            ("metadata rare (proposal, ~500)", IndexQuery(metadata: ["proposal": "P-0123"])),
            ("metadata unique (scan_id)", IndexQuery(metadata: ["scan_id": .int(Int64(runs / 2))])),
            ("metadata absent", IndexQuery(metadata: ["proposal": "P-9999"])),
            ("metadata two keys, ~1% + ~20%", IndexQuery(metadata: ["dry_run": true, "edge": "C K"])),
            ("metadata rare + plan", IndexQuery(plan: "nexafs", metadata: ["proposal": "P-0123"])),
        ]
        Output.print("index: \(path), \(runs) runs; \(repeats) repetitions; limit 100 unless noted; times in ms")
        let header = "search".padding(toLength: 36, withPad: " ", startingAt: 0) + "  sqlite p50  sqlite p95     hits"
        Output.print(header + (pgIndex == nil ? "  sqlite plan" : "  postgres p50  postgres p95  same hits"))
        for (name, query) in searches {
            let (sqliteTimes, sqliteHits) = try Self.time(repeats) { try index.search(query) }
            var line = name.padding(toLength: 36, withPad: " ", startingAt: 0)
                + String(format: "  %10.2f  %10.2f  %7d", Self.percentile(sqliteTimes, 0.5), Self.percentile(sqliteTimes, 0.95), sqliteHits.count)
            if let pgIndex {
                let (pgTimes, pgHits) = try Self.time(repeats) { try pgIndex.search(query) }
                line += String(format: "  %12.2f  %12.2f  %@", Self.percentile(pgTimes, 0.5), Self.percentile(pgTimes, 0.95),
                               pgHits == sqliteHits ? "yes" : "NO (\(pgHits.count) hits)")
            } else {
                line += "  " + (try index.queryPlan(query).first ?? "")
            }
            Output.print(line)
        }
        try timeIndexRun()
    }

    static func time(_ repeats: Int, _ search: () throws -> [IndexedRun]) throws -> ([Double], [IndexedRun]) {
        var times: [Double] = []
        var hits: [IndexedRun] = []
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            hits = try search()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return (times, hits)
    }

    /// The nearest-rank percentile.
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
    }

    /// Cost of indexing one run in a large index: what RunWriter adds to each closeRun.
    private func timeIndexRun() throws {
        let writer = try MasterIndexWriter(indexDBPath: path).open()
        defer { try? writer.close() }
        let researcher = try writer.registerResearcher(name: "researcher00")
        let beamtime = try writer.registerBeamtime(researcherID: researcher, dbPath: "/bench/bt000.db")
        let n = 200
        let start = DispatchTime.now().uptimeNanoseconds
        for k in 0..<n {
            try writer.indexRun(
                uid: String(format: "ffffffff%024x", k), researcherID: researcher, beamtimeID: beamtime, planName: "nexafs",
                sampleName: "bench", timeStart: 1_600_000_000 + Double(k), tags: ["polymer"])
        }
        let perRun = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(n)
        Output.print(String(format: "indexRun into the index, one transaction each: %.2f ms per run", perRun))
    }

    /// The synthetic runs, the same for a seed: (beamtime number, run).
    static func syntheticRuns(_ runs: Int) -> [(beamtime: Int, run: MasterIndexWriter.RunEntry)] {
        var rng = SeededGenerator(seed: 1)
        // A generator of its own: the runs' other fields stay those of earlier benchmarks.
        var metaRNG = SeededGenerator(seed: 2)
        let perBeamtime = max(1, runs / 200)
        return (0..<runs).map { i in
            let metadata: JSONObject = [
                "scan_id": .int(Int64(i)), "edge": .string(["C K", "N K", "O K", "F K", "Ca L"][Int(metaRNG.next() % 5)]),
                "repeat": .int(Int64(metaRNG.next() % 5)), "proposal": .string(String(format: "P-%04d", Int(metaRNG.next() % 2000))),
                "dry_run": .bool(metaRNG.next() % 100 == 0), "exposure": .double(Double(metaRNG.next() % 1000) / 100),
            ]
            var tags: [String] = []
            if rng.next() % 10 < 3 { tags.append("polymer") }
            if rng.next() % 10 < 1 { tags.append("blend") }
            if rng.next() % 10 < 2 { tags.append("t\(rng.next() % 500)") }
            let plan = rng.next() % 2 == 0 ? ["nexafs", "rsoxs", "en_scan", "align", "count"][Int(rng.next() % 5)] : "plan\(rng.next() % 100)"
            let uid = String(format: "%016llx%016llx", rng.next(), rng.next())
            let sample = String(format: "sample%05d", Int(rng.next() % 20_000))
            let time = 1_700_000_000 + Double(i) * 30 + Double(rng.next() % 1000) / 1000
            return (min(i / perBeamtime, 199), MasterIndexWriter.RunEntry(
                uid: uid, planName: plan, sampleName: sample, timeStart: time, tags: tags, metadata: metadata))
        }
    }

    /// Registers the 20 researchers and 200 beamtimes in `writer`: (beamtime id, researcher id).
    private func registerOwners(_ writer: any MasterIndexWriting) throws -> [(id: Int64, researcher: Int64)] {
        var researchers: [Int64] = []
        for r in 0..<20 {
            researchers.append(try writer.registerResearcher(
                name: String(format: "researcher%02d", r), rootPath: "/bench/r\(r)", email: nil, orcid: nil, affiliation: nil))
        }
        return try (0..<200).map { b in
            let researcher = researchers[b % researchers.count]
            return (try writer.registerBeamtime(researcherID: researcher, label: nil, dbPath: String(format: "/bench/bt%03d.db", b), timeStart: nil), researcher)
        }
    }

    /// Indexes the same runs into a fresh database on the server, one beamtime per
    /// transaction, and prints the rate.
    private func buildPostgres(_ data: [(beamtime: Int, run: MasterIndexWriter.RunEntry)], server url: String) throws -> PostgresIndex {
        let server = try PostgresServer(url: url)
        try server.createDatabase("resonance_index_bench")
        let benchURL = server.url(ofDatabase: "resonance_index_bench")
        let writers = try (0..<max(1, postgresWriters)).map { _ in try PostgresIndexWriter(url: benchURL).open() }
        defer { for writer in writers { try? writer.close() } }
        let beamtimes = try registerOwners(writers[0])
        var byBeamtime = [[MasterIndexWriter.RunEntry]](repeating: [], count: beamtimes.count)
        for (b, run) in data { byBeamtime[b].append(run) }
        let start = Date()
        // Writer w indexes beamtimes w, w + n, w + 2n, ...
        try parallelFor(writers.count) { w in
            for b in stride(from: w, to: byBeamtime.count, by: writers.count) where !byBeamtime[b].isEmpty {
                try writers[w].indexBeamtime(
                    dbPath: String(format: "/bench/bt%03d.db", b), researcherID: beamtimes[b].researcher, label: nil, runs: byBeamtime[b])
            }
        }
        let seconds = Date().timeIntervalSince(start)
        // What autovacuum does soon after a bulk load: ANALYZE for the planner, and VACUUM,
        // which also moves the GIN indexes' pending entries into their trees (a search
        // reads the whole pending list).
        try server.execute("VACUUM ANALYZE", database: "resonance_index_bench")
        Output.print(String(format: "postgres: indexed %d runs in %.1f s (%.0f runs/s, PostgresIndexWriter.indexBeamtime, one transaction per beamtime, %d writer%@ at once)",
                     data.count, seconds, Double(data.count) / seconds, writers.count, writers.count == 1 ? "" : "s"))
        return try PostgresIndex(url: benchURL).open()
    }

    /// Writes the synthetic index unless `path` already holds it.
    private func build(_ data: [(beamtime: Int, run: MasterIndexWriter.RunEntry)]) throws {
        if FileManager.default.fileExists(atPath: path),
            // A file of an earlier bench (no metadata column, or runs without metadata) is rebuilt.
            let count = try? DatabaseQueue(path: path).read({
                try Int.fetchOne($0, sql: "SELECT count(*) FROM runs_index WHERE uid NOT LIKE 'ffffffff%' AND metadata IS NOT NULL")
            }),
            count == runs
        {
            return
        }
        try? FileManager.default.removeItem(atPath: path)
        let writer = try MasterIndexWriter(indexDBPath: path).open()
        let beamtimes = try registerOwners(writer)
        try writer.close()

        let start = Date()
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            let insert = try db.makeStatement(sql: """
                INSERT INTO runs_index (uid, researcher_id, beamtime_id, plan_name, sample_name, time_start, tags, metadata)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for (b, run) in data {
                let beamtime = beamtimes[b]
                try insert.execute(arguments: [
                    run.uid, beamtime.researcher, beamtime.id, run.planName, run.sampleName, run.timeStart, JSONValue(run.tags).jsonText,
                    run.indexedMetadata.jsonText,
                ])
            }
        }
        try queue.writeWithoutTransaction { try $0.execute(sql: "ANALYZE") }  // as MasterIndexWriter does when an index doubles
        try queue.close()
        let seconds = Date().timeIntervalSince(start)
        Output.print(String(format: "sqlite: built %d runs in %.1f s (%.0f runs/s, raw INSERTs in one transaction)", runs, seconds, Double(runs) / seconds))
    }
}
