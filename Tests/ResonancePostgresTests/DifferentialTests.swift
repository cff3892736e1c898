import Foundation
import Resonance
import ResonancePostgres
import TestSupport
import Testing

/// The same beamtimes indexed into SQLite and PostgreSQL give the same answers.
@Suite("SQLite and PostgreSQL agree", .enabled(if: TestServer.enabled))
struct DifferentialTests {
    let dir = TempDir()

    static let samples = ["PS", "ps", "P3HT:PCBM", "PS-b-PMMA", "gold_100%", "naïve", "Ps_blend", "a\\b", "ZnO", "PEDOT"]
    static let plans = ["nexafs", "rsoxs", "align", "count"]
    static let tags = ["polymer", "blend", "Polymer", "calibration", "naïve \"quoted\"", "t1", "t2", "100%"]
    static let researchers = ["Ada", "Grace", "Émilie"]
    /// Metadata values a run may hold under each key: the same number as int and float, a
    /// number and its text, booleans, null, nested values (never matched), non-ASCII text.
    static let metadataValues: [String: [JSONValue]] = [
        "edge": [.string("C K"), .string("N K"), .string("c k"), .string("1")],
        "repeat": [.int(1), .double(1.0), .int(2), .double(2.5), .string("1"), .int(0), .double(-0.0)],
        "dry_run": [.bool(true), .bool(false), .null, .int(1)],
        "note": [.null, .string("naïve \"quoted\""), .string(""), .string("100%")],
        "motor.x \"a\"": [.double(1e-5), .double(12345.678), .int(Int64(1) << 40)],
        "nested": [.array([.string("C K")]), .object(["edge": .string("C K")]), .string("C K")],
        "": [.string("empty key")],
        // NaN and infinity are not indexed: the key is then absent from the run's indexed metadata.
        "i0": [.double(.nan), .double(.infinity), .double(3)],
    ]
    /// Values asked for: each stored value, and some no run holds.
    static let metadataQueries: [(String, JSONValue)] = metadataValues.sorted { $0.key < $1.key }.flatMap { key, values in
        values.filter { if case .double(let x) = $0 { x.isFinite } else { $0.isScalar } }.map { (key, $0) }
    } + [("repeat", .double(1.0000001)), ("edge", .string("C")), ("absent", .null), ("absent", .string("x")), ("i0", .int(3))]

    /// Both indexes, filled through the public writer API in the same order.
    func makeIndexes(_ db: TestDatabase, rng: inout SplitMix64) throws -> (any MasterIndexReading, any MasterIndexReading, [Double]) {
        var times: [Double] = []
        var plan: [(researcher: Int, beamtime: Int, run: MasterIndexWriter.RunEntry)] = []
        for k in 0..<600 {
            // Whole and fractional seconds, many ties (the newest-first order breaks them by index order).
            let t = 1_772_700_000 + Double(rng.next() % 400) * 3600 + (rng.next() % 3 == 0 ? 0.25 : 0)
            times.append(t)
            var tags: [String] = []
            for tag in Self.tags where rng.next() % 4 == 0 { tags.append(tag) }
            let sample: String? = rng.next() % 12 == 0 ? nil : Self.samples[Int(rng.next() % UInt64(Self.samples.count))]
            let researcher = Int(rng.next() % 3)
            var metadata: JSONObject = [:]
            for (key, values) in Self.metadataValues.sorted(by: { $0.key < $1.key }) where rng.next() % 3 != 0 {
                metadata[key] = values[Int(rng.next() % UInt64(values.count))]
            }
            plan.append((researcher, researcher * 4 + Int(rng.next() % 4),
                         MasterIndexWriter.RunEntry(
                            uid: String(format: "run%05d", k), planName: Self.plans[Int(rng.next() % 4)], sampleName: sample, timeStart: t,
                            tags: tags, metadata: metadata)))
        }
        let sqlite = try MasterIndexWriter(indexDBPath: dir.file("index.db")).open()
        let postgres = try PostgresIndexWriter(url: db.url).open()
        for writer in [sqlite, postgres] as [any MasterIndexWriting] {
            let people = try Self.researchers.map {
                try writer.registerResearcher(name: $0, rootPath: "/data/" + $0, email: nil, orcid: nil, affiliation: nil)
            }
            let beamtimes = try (0..<12).map { b in
                try writer.registerBeamtime(researcherID: people[b / 4], label: nil, dbPath: "/data/bt\(b).db", timeStart: nil)
            }
            for (r, b, run) in plan {
                try writer.indexRun(
                    uid: run.uid, researcherID: people[r], beamtimeID: beamtimes[b], planName: run.planName, sampleName: run.sampleName,
                    timeStart: run.timeStart, tags: run.tags, metadata: run.metadata)
            }
            // Re-index some runs with changes: an upsert keeps a run's place among ties, and
            // replaces the metadata.
            for (r, b, run) in plan.prefix(40) {
                try writer.indexRun(
                    uid: run.uid, researcherID: people[r], beamtimeID: beamtimes[b], planName: "rsoxs", sampleName: run.sampleName,
                    timeStart: run.timeStart, tags: run.tags + ["t2"], metadata: ["edge": "N K", "reindexed": true])
            }
            try writer.close()
        }
        return (try MasterIndex(path: dir.file("index.db")).open(), try PostgresIndex(url: db.url).open(), times)
    }

    @Test func hundredsOfGeneratedQueriesGetIdenticalAnswers() throws {
        let db = try TestDatabase("differential")
        var rng = SplitMix64(seed: 17)
        let (sqlite, postgres, times) = try makeIndexes(db, rng: &rng)
        #expect(try sqlite.researchers() == postgres.researchers())
        #expect(try sqlite.beamtimes(researcher: nil) == postgres.beamtimes(researcher: nil))
        #expect(try sqlite.beamtimes(researcher: "Grace") == postgres.beamtimes(researcher: "Grace"))
        let substrings = ["p", "PS", "s-B", "%", "_", "100%", "\\", "ï", "NAÏ", "zzz", "", "3ht:"]
        func pick<T>(_ values: [T]) -> T { values[Int(rng.next() % UInt64(values.count))] }
        var queries: [IndexQuery] = [IndexQuery(), IndexQuery(limit: nil), IndexQuery(limit: 1)]
        // Every filter alone, then random combinations of two to five.
        for sample in Self.samples + ["absent"] { queries.append(IndexQuery(sample: .exactly(sample), limit: nil)) }
        for part in substrings { queries.append(IndexQuery(sample: .containing(part), limit: nil)) }
        for plan in Self.plans + ["absent"] { queries.append(IndexQuery(plan: plan, limit: 7)) }
        for researcher in Self.researchers { queries.append(IndexQuery(researcher: researcher, limit: nil)) }
        for tag in Self.tags + ["absent", "polymers"] { queries.append(IndexQuery(tag: tag, limit: nil)) }
        var metadataAlone = 0
        for (key, value) in Self.metadataQueries + [("reindexed", .bool(true))] {
            queries.append(IndexQuery(metadata: [key: value], limit: nil))
            if try !sqlite.search(queries.last!).isEmpty { metadataAlone += 1 }
        }
        // Most single pairs match some runs: int and float, text and number were told apart on real hits.
        #expect(metadataAlone >= Self.metadataQueries.count - 4)
        while queries.count < 500 {
            var q = IndexQuery(limit: pick([nil, 1, 3, 10, 100]))
            var filters = Set<Int>()
            let count = 2 + Int(rng.next() % 4)
            while filters.count < count { filters.insert(Int(rng.next() % 8)) }
            for filter in filters {
                switch filter {
                case 0: q.sample = rng.next() % 2 == 0 ? .exactly(pick(Self.samples)) : .containing(pick(substrings))
                case 1: q.plan = pick(Self.plans)
                case 2: q.researcher = pick(Self.researchers)
                case 3: q.tag = pick(Self.tags)
                case 4: q.since = pick(times) + pick([0, 0, -0.25, 0.25, -1e-6])  // date edges: exactly a run's start, and beside it
                case 5: q.until = pick(times) + pick([0, 0, 0.25, 1e-6, 3600])
                default:  // one or two metadata pairs (two picks of one key keep the last)
                    let (key, value) = pick(Self.metadataQueries)
                    q.metadata[key] = value
                }
            }
            queries.append(q)
        }
        var compared = 0, nonEmpty = 0
        for query in queries {
            let expected = try sqlite.search(query)
            let actual = try postgres.search(query)
            #expect(actual == expected, "\(query)")
            compared += 1
            if !expected.isEmpty { nonEmpty += 1 }
        }
        #expect(compared == 500)
        #expect(nonEmpty > 200)  // the comparison is not between empty answers
        // Ties exist, so the order of equal start times was compared too.
        #expect(Set(times).count < times.count)
    }
}
