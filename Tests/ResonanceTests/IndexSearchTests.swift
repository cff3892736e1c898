import Foundation
import GRDB
@testable import Resonance
import Testing

@Suite("Index search")
struct IndexSearchTests {
    let dir = TempDir()
    var indexPath: String { dir.file("index.db") }

    /// Two researchers, three beamtimes, eight runs at t = 100, 200, ... 800.
    /// Returns the run uids by time.
    @discardableResult
    func makeIndex() throws -> [Double: String] {
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.file("ada"))
        let grace = try writer.registerResearcher(name: "Grace", rootPath: dir.file("grace"))
        let march = try writer.registerBeamtime(researcherID: ada, dbPath: dir.file("ada/2026-03-05.db"))
        let april = try writer.registerBeamtime(researcherID: ada, dbPath: dir.file("ada/2026-04-01.db"))
        let may = try writer.registerBeamtime(researcherID: grace, dbPath: dir.file("grace/2026-05-10.db"))
        let runs: [(Double, Int64, Int64, String, String?, [String])] = [
            (100, ada, march, "nexafs", "PS", ["polymer"]),
            (200, ada, march, "rsoxs", "PS", ["polymer"]),
            (300, ada, march, "nexafs", "P3HT:PCBM", ["polymer", "blend"]),
            (400, ada, april, "nexafs", "PS-b-PMMA", ["polymers"]),
            (500, ada, april, "align", nil, []),
            (600, grace, may, "nexafs", "PS", ["polymer", "naïve \"quoted\""]),
            (700, grace, may, "rsoxs", "gold_100%", ["calibration"]),
            (800, grace, may, "rsoxs", "ps", ["Polymer"]),
        ]
        var uids: [Double: String] = [:]
        for (t, researcher, beamtime, plan, sample, tags) in runs {
            let uid = UID.make()
            uids[t] = uid
            try writer.indexRun(uid: uid, researcherID: researcher, beamtimeID: beamtime, planName: plan, sampleName: sample, timeStart: t, tags: tags)
        }
        try writer.close()
        return uids
    }

    func times(_ hits: [IndexedRun]) -> [Double] { hits.map(\.timeStart) }

    @Test func everythingNewestFirstWithALimit() throws {
        try makeIndex()
        let index = try MasterIndex(path: indexPath).open()
        #expect(times(try index.search()) == [800, 700, 600, 500, 400, 300, 200, 100])
        #expect(times(try index.search(limit: 3)) == [800, 700, 600])
        #expect(times(try index.search(limit: nil)).count == 8)
        #expect(throws: IndexError.invalidValue(kind: "limit", value: "0", reason: "must be positive (nil for no limit)")) {
            try index.search(limit: 0)
        }
    }

    @Test func aHitNamesItsBeamtimeFileAndResearcher() throws {
        let uids = try makeIndex()
        let hit = try #require(try MasterIndex(path: indexPath).open().search(sample: .exactly("P3HT:PCBM")).first)
        #expect(hit == IndexedRun(
            uid: uids[300]!, planName: "nexafs", sampleName: "P3HT:PCBM", timeStart: 300, tags: ["polymer", "blend"],
            researcher: "Ada", beamtimeLabel: "2026-03-05", dbPath: dir.file("ada/2026-03-05.db")))
    }

    @Test func sampleNameExactIsCaseSensitive() throws {
        try makeIndex()
        let index = try MasterIndex(path: indexPath).open()
        #expect(times(try index.search(sample: .exactly("PS"))) == [600, 200, 100])
        #expect(times(try index.search(sample: .exactly("ps"))) == [800])
        #expect(try index.search(sample: .exactly("P")).isEmpty)
    }

    @Test func sampleNameSubstringIgnoresASCIICaseAndTakesWildcardsLiterally() throws {
        try makeIndex()
        let index = try MasterIndex(path: indexPath).open()
        #expect(times(try index.search(sample: .containing("PS"))) == [800, 600, 400, 200, 100])
        #expect(times(try index.search(sample: .containing("pcbm"))) == [300])
        #expect(times(try index.search(sample: .containing("100%"))) == [700])
        #expect(try index.search(sample: .containing("%")).map(\.sampleName) == ["gold_100%"])
        #expect(try index.search(sample: .containing("_")).map(\.sampleName) == ["gold_100%"])
    }

    @Test func planName() throws {
        try makeIndex()
        let index = try MasterIndex(path: indexPath).open()
        #expect(times(try index.search(plan: "nexafs")) == [600, 400, 300, 100])
        #expect(times(try index.search(plan: "rsoxs")) == [800, 700, 200])
        #expect(try index.search(plan: "nex").isEmpty)
    }

    @Test func researcherByNameAndUnknownNamesAreAnError() throws {
        try makeIndex()
        let index = try MasterIndex(path: indexPath).open()
        #expect(times(try index.search(researcher: "Grace")) == [800, 700, 600])
        #expect(throws: IndexError.unknownResearcherName("Linus", known: ["Ada", "Grace"])) {
            try index.search(researcher: "Linus")
        }
    }

    @Test func tagMatchesOneElementExactly() throws {
        try makeIndex()
        let index = try MasterIndex(path: indexPath).open()
        #expect(times(try index.search(tag: "polymer")) == [600, 300, 200, 100])  // not "polymers", not "Polymer"
        #expect(times(try index.search(tag: "Polymer")) == [800])
        #expect(times(try index.search(tag: "blend")) == [300])
        #expect(try index.search(tag: "poly").isEmpty)
        #expect(times(try index.search(tag: "naïve \"quoted\"")) == [600])  // stored as "na\u00efve \"quoted\""
    }

    @Test func tagsWrittenByPythonAndMalformedTagsAreHandled() throws {
        let uids = try makeIndex()
        let queue = try DatabaseQueue(path: indexPath)
        try queue.write { db in
            // Python's json.dumps(["ça va", "x"]) escapes non-ASCII; a broken row must not fail searches.
            try db.execute(sql: "UPDATE runs_index SET tags = ? WHERE uid = ?", arguments: [#"["\u00e7a va", "x"]"#, uids[100]!])
            try db.execute(sql: "UPDATE runs_index SET tags = ? WHERE uid = ?", arguments: ["not json", uids[200]!])
            try db.execute(sql: "UPDATE runs_index SET tags = NULL WHERE uid = ?", arguments: [uids[300]!])
        }
        try queue.close()
        let index = try MasterIndex(path: indexPath).open()
        #expect(times(try index.search(tag: "ça va")) == [100])
        #expect(times(try index.search(tag: "x")) == [100])
        #expect(times(try index.search(tag: "polymer")) == [600])
        #expect(try index.search(sample: .exactly("PS")).map(\.tags) == [["polymer", "naïve \"quoted\""], [], ["ça va", "x"]])
    }

    @Test func timeRangeIncludesSinceAndExcludesUntil() throws {
        try makeIndex()
        let index = try MasterIndex(path: indexPath).open()
        #expect(times(try index.search(since: 300, until: 600)) == [500, 400, 300])
        #expect(times(try index.search(since: 750)) == [800])
        #expect(times(try index.search(until: 200)) == [100])
    }

    @Test func filtersCombine() throws {
        try makeIndex()
        let index = try MasterIndex(path: indexPath).open()
        #expect(times(try index.search(sample: .exactly("PS"), plan: "nexafs")) == [600, 100])
        #expect(times(try index.search(sample: .exactly("PS"), researcher: "Ada", tag: "polymer", since: 150)) == [200])
        #expect(times(try index.search(sample: .containing("ps"), plan: "rsoxs", researcher: "Grace")) == [800])
        #expect(times(try index.search(plan: "nexafs", researcher: "Ada", until: 400)) == [300, 100])
        #expect(times(try index.search(plan: "nexafs", tag: "polymer", since: 100, until: 600, limit: 1)) == [300])
    }

    @Test func beamtimesOfAResearcherNewestFirst() throws {
        try makeIndex()
        let index = try MasterIndex(path: indexPath).open()
        let ada = try index.beamtimes(researcher: "Ada")
        #expect(ada.map(\.label) == ["2026-04-01", "2026-03-05"])
        #expect(ada.map(\.runCount) == [2, 3])
        #expect(ada[1].timeStart == 100)
        #expect(ada[1].timeStop == 300)
        #expect(ada[1].dbPath == dir.file("ada/2026-03-05.db"))
        #expect(try index.beamtimes().map(\.label) == ["2026-05-10", "2026-04-01", "2026-03-05"])
        #expect(throws: IndexError.self) { try index.beamtimes(researcher: "Nobody") }
        #expect(try index.researchers().map(\.name) == ["Ada", "Grace"])
    }

    @Test func aMissingOrWrongFileIsATypedError() throws {
        let missing = #expect(throws: DatabaseFileError.self) { try MasterIndex(path: indexPath).open() }
        #expect(missing?.problem == .missing)
        #expect(missing?.path == indexPath)
        let beamtime = dir.file("beamtime.db")
        try RunWriter(dbPath: beamtime, sample: SampleMetadata(name: "PS")).open { _ in }
        let error = #expect(throws: DatabaseFileError.self) { try MasterIndex(path: beamtime).open() }
        guard case .foreignDatabase = error?.problem else { Issue.record("\(String(describing: error))"); return }
    }

    /// Deterministic check that each indexed filter walks an index in time order
    /// (no full scan, no sort); timings at a million runs are in scripts/bench-index.
    @Test func indexedFiltersUseAnIndexInTimeOrder() throws {
        try makeIndex()
        let index = try MasterIndex(path: indexPath).open()
        let expectations: [(IndexQuery, String)] = [
            (IndexQuery(sample: .exactly("PS")), "idx_runs_index_sample_tstart (sample_name=?)"),
            (IndexQuery(sample: .exactly("PS"), plan: "nexafs", researcher: "Ada"), "idx_runs_index_sample_tstart (sample_name=?)"),
            (IndexQuery(plan: "nexafs"), "idx_runs_index_plan_tstart (plan_name=?)"),
            (IndexQuery(researcher: "Ada"), "idx_runs_index_researcher_tstart (researcher_id=?)"),
            (IndexQuery(since: 1, until: 2), "idx_runs_index_tstart (time_start>? AND time_start<?)"),
            (IndexQuery(plan: "nexafs", since: 1), "idx_runs_index_plan_tstart (plan_name=? AND time_start>?)"),
            (IndexQuery(), "idx_runs_index_tstart"),
            (IndexQuery(tag: "polymer"), "idx_runs_index_tstart"),
            (IndexQuery(sample: .containing("PS")), "idx_runs_index_tstart"),
        ]
        for (query, expected) in expectations {
            let plan = try index.queryPlan(query)
            #expect(plan.first?.hasSuffix("USING INDEX " + expected) == true, "\(query): \(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(query): \(plan)")
            #expect(plan.contains("SEARCH b USING INTEGER PRIMARY KEY (rowid=?)"), "\(query): \(plan)")
        }
    }
}
