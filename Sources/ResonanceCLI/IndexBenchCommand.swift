import ArgumentParser
import Foundation
import GRDB
import Resonance

/// `resonance index bench`: times searches on a synthetic index of many runs (hidden;
/// run from a release build: `swift run -c release resonance index bench`).
struct IndexBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time index searches on a synthetic index of many runs.",
        discussion: """
            Builds (or reuses) an index of --runs runs: 20 researchers, 200 beamtimes, 20,000
            samples, 100 plans, one run every 30 s. Tags: "polymer" on ~30% of runs, "blend"
            on ~10%, one of 500 rare tags on ~20%. Prints the median time of each search.
            """,
        shouldDisplay: false
    )

    @Option(help: "Runs in the synthetic index.")
    var runs = 1_000_000

    @Option(help: "Where to keep the index (reused when it already holds --runs runs).")
    var path = NSTemporaryDirectory() + "resonance-index-bench.db"

    @Option(help: "Repetitions of each search (the median is printed).")
    var repeats = 7

    func run() throws {
        try build()
        let index = try Index(path: path)
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
        ]
        print("index: \(path), \(runs) runs; median of \(repeats); limit 100 unless noted")
        for (name, query) in searches {
            var times: [Double] = []
            var count = 0
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                count = try index.search(query).count
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            let median = times.sorted()[times.count / 2]
            let plan = try index.queryPlan(query).first ?? ""
            print(name.padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: "%9.2f ms  %7d hits  ", median, count) + plan)
        }
        try timeIndexRun()
    }

    /// Cost of indexing one run in a large index: what RunWriter adds to each closeRun.
    private func timeIndexRun() throws {
        let writer = IndexWriter(indexDBPath: path)
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
        print(String(format: "indexRun into the index, one transaction each: %.2f ms per run", perRun))
    }

    /// Writes the synthetic index unless `path` already holds it.
    private func build() throws {
        if FileManager.default.fileExists(atPath: path),
            let count = try? DatabaseQueue(path: path).read({ try Int.fetchOne($0, sql: "SELECT count(*) FROM runs_index WHERE uid NOT LIKE 'ffffffff%'") }),
            count == runs
        {
            return
        }
        try? FileManager.default.removeItem(atPath: path)
        let writer = IndexWriter(indexDBPath: path)
        var researchers: [Int64] = []
        for r in 0..<20 {
            researchers.append(try writer.registerResearcher(name: String(format: "researcher%02d", r), rootPath: "/bench/r\(r)"))
        }
        var beamtimes: [(id: Int64, researcher: Int64)] = []
        for b in 0..<200 {
            let researcher = researchers[b % researchers.count]
            beamtimes.append((try writer.registerBeamtime(researcherID: researcher, dbPath: String(format: "/bench/bt%03d.db", b)), researcher))
        }
        try writer.close()

        let start = Date()
        var rng = SeededGenerator(seed: 1)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            let insert = try db.makeStatement(sql: """
                INSERT INTO runs_index (uid, researcher_id, beamtime_id, plan_name, sample_name, time_start, tags)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            let perBeamtime = max(1, runs / beamtimes.count)
            for i in 0..<runs {
                let beamtime = beamtimes[min(i / perBeamtime, beamtimes.count - 1)]
                var tags: [String] = []
                if rng.next() % 10 < 3 { tags.append("polymer") }
                if rng.next() % 10 < 1 { tags.append("blend") }
                if rng.next() % 10 < 2 { tags.append("t\(rng.next() % 500)") }
                let plan = rng.next() % 2 == 0 ? ["nexafs", "rsoxs", "en_scan", "align", "count"][Int(rng.next() % 5)] : "plan\(rng.next() % 100)"
                try insert.execute(arguments: [
                    String(format: "%016llx%016llx", rng.next(), rng.next()), beamtime.researcher, beamtime.id, plan,
                    String(format: "sample%05d", Int(rng.next() % 20_000)), 1_700_000_000 + Double(i) * 30 + Double(rng.next() % 1000) / 1000,
                    JSONValue(tags).jsonText,
                ])
            }
        }
        try queue.writeWithoutTransaction { try $0.execute(sql: "ANALYZE") }  // as IndexWriter does when an index doubles
        try queue.close()
        print(String(format: "built %d runs in %.1f s", runs, Date().timeIntervalSince(start)))
    }
}
