import Foundation
import GRDB
@testable import Resonance
import Testing

@Suite("Index whole beamtimes")
struct IndexBeamtimeTests {
    let dir = TempDir()
    var indexPath: String { dir.file("index.db") }

    /// A beamtime written by RunWriter: two samples, three runs. Returns the run uids in order.
    @discardableResult
    func makeBeamtime(_ path: String) throws -> [String] {
        var uids: [String] = []
        try RunWriter(dbPath: path, sample: SampleMetadata(name: "PS", tags: ["polymer", "reference"])).open { w in
            for plan in ["nexafs", "rsoxs"] {
                uids.append(try w.openRun(plan))
                try w.openStream("primary")
                try w.writeEvent(["energy": 270.0])
                try w.closeRun()
            }
        }
        try RunWriter(dbPath: path, sample: SampleMetadata(name: "P3HT")).open { w in
            uids.append(try w.openRun("nexafs"))
        }
        return uids
    }

    /// The index's rows, for comparing before and after.
    func dump() throws -> [String] {
        try inspect(indexPath) { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs_index ORDER BY uid").map(\.description)
                + Row.fetchAll(db, sql: "SELECT * FROM beamtimes ORDER BY id").map(\.description)
        }
    }

    @Test func everyRunIsIndexedWithItsSampleTagsAndTimes() throws {
        let path = dir.file("2026-03-05.db")
        let uids = try makeBeamtime(path)
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path)
        let result = try writer.indexBeamtime(dbPath: path, researcherID: ada)
        #expect(result.runCount == 3)
        #expect(result.added == 3)
        #expect(result.removed == 0)
        #expect(result.beamtime.label == "2026-03-05")
        #expect(result.beamtime.dbPath == path)
        #expect(result.beamtime.runCount == 3)

        let stored = try inspect(path) { try Row.fetchAll($0, sql: "SELECT uid, plan_name, time_start FROM runs ORDER BY time_start") }
        let hits = try MasterIndex(path: indexPath).open().search()
        #expect(hits.map(\.uid) == uids.reversed())
        #expect(hits.map(\.planName) == ["nexafs", "rsoxs", "nexafs"])
        #expect(hits.map(\.sampleName) == ["P3HT", "PS", "PS"])
        #expect(hits.map(\.tags) == [[], ["polymer", "reference"], ["polymer", "reference"]])
        #expect(hits.map(\.timeStart) == stored.map { $0["time_start"] as Double }.reversed())
        #expect(result.beamtime.timeStart == stored.first?["time_start"])
        #expect(result.beamtime.timeStop == stored.last?["time_start"])
        // A hit opens in its beamtime through the catalog.
        let run = try Catalog(dbPath: hits[1].dbPath).open().run(hits[1].uid)
        #expect(run.planName == "rsoxs")
    }

    @Test func reindexingTheSameFileChangesNothing() throws {
        let path = dir.file("2026-03-05.db")
        try makeBeamtime(path)
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path)
        let first = try writer.indexBeamtime(dbPath: path, researcherID: ada, label: "March")
        let before = try dump()
        let again = try writer.indexBeamtime(dbPath: path, researcherID: ada)
        #expect(try dump() == before)
        #expect(again.beamtime == first.beamtime)
        #expect(again.beamtime.label == "March")  // nil label kept the one given before
        #expect((again.added, again.removed, again.reassigned) == (0, 0, 0))
    }

    @Test func aRunDeletedFromTheFileDisappearsFromTheIndex() throws {
        let path = dir.file("2026-03-05.db")
        let uids = try makeBeamtime(path)
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path)
        try writer.indexBeamtime(dbPath: path, researcherID: ada)
        let queue = try DatabaseFile.openForWriting(path, schema: BeamtimeSchema.self)
        try queue.write { try $0.execute(sql: "DELETE FROM runs WHERE uid = ?", arguments: [uids[2]]) }
        try queue.close()
        let result = try writer.indexBeamtime(dbPath: path, researcherID: ada)
        #expect((result.runCount, result.added, result.removed) == (2, 0, 1))
        let index = try MasterIndex(path: indexPath).open()
        #expect(Set(try index.search().map(\.uid)) == Set(uids[0..<2]))
        #expect(result.beamtime.timeStop == (try index.search(limit: 1).first?.timeStart))
    }

    @Test func aCopiedBeamtimeTakesOverItsRunsAndSaysSo() throws {
        let path = dir.file("2026-03-05.db")
        try makeBeamtime(path)
        try FileManager.default.createDirectory(atPath: dir.file("backup"), withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: path, toPath: dir.file("backup/2026-03-05.db"))
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path)
        try writer.indexBeamtime(dbPath: path, researcherID: ada)
        let copy = try writer.indexBeamtime(dbPath: dir.file("backup/2026-03-05.db"), researcherID: ada)
        #expect((copy.runCount, copy.added, copy.reassigned) == (3, 0, 3))
        #expect(try MasterIndex(path: indexPath).open().beamtimes().map(\.runCount).sorted() == [0, 3])
    }

    @Test func anUnknownResearcherOrAMissingFileChangesNothing() throws {
        let path = dir.file("2026-03-05.db")
        try makeBeamtime(path)
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path)
        let before = try dump()
        #expect(throws: IndexError.unknownResearcher(id: ada + 1)) { try writer.indexBeamtime(dbPath: path, researcherID: ada + 1) }
        expectFileError(dir.file("nope.db"), { $0 == .missing }) {
            try writer.indexBeamtime(dbPath: dir.file("nope.db"), researcherID: ada)
        }
        #expect(try dump() == before)
    }

    @Test func plannerStatisticsAreTakenWhenTheIndexDoubles() throws {
        let path = dir.file("2026-03-05.db")
        try makeBeamtime(path)
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path)
        try writer.indexBeamtime(dbPath: path, researcherID: ada)
        func counted() throws -> String? {
            try inspect(indexPath) { try String.fetchOne($0, sql: "SELECT stat FROM sqlite_stat1 WHERE idx = 'idx_runs_index_plan_tstart'") }
        }
        #expect(try counted()?.hasPrefix("3 ") == true)
        let bt = try writer.registerBeamtime(researcherID: ada, dbPath: dir.file("other.db"))
        for k in 0..<3 { try writer.indexRun(uid: "\(k)", researcherID: ada, beamtimeID: bt, planName: "x", timeStart: 1) }
        #expect(try counted()?.hasPrefix("3 ") == true)  // 6 runs: not yet twice as many
        try writer.indexRun(uid: "3", researcherID: ada, beamtimeID: bt, planName: "x", timeStart: 1)
        #expect(try counted()?.hasPrefix("7 ") == true)
    }

    @Test func theReferenceBeamtimeWrittenByPythonIsIndexed() throws {
        let path = try copyReferenceBeamtime(to: dir)
        let expected = try JSONValue(parsing: String(contentsOfFile: fixturesDir + "/reference-beamtime/expected.json", encoding: .utf8))
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path)
        let result = try writer.indexBeamtime(dbPath: path, researcherID: ada)
        let runs = try #require(expected["runs"]?.objectValue)
        #expect(result.runCount == runs.count)
        let index = try MasterIndex(path: indexPath).open()
        for (plan, run) in runs {
            let uid = try #require(run["uid"]?.stringValue)
            let hits = try index.search(plan: plan)
            #expect(hits.map(\.uid) == [uid])
            #expect(hits.first?.sampleName == expected["sample"]?["name"]?.stringValue)
            #expect(hits.first?.beamtimeLabel == "ref_beamtime")
            #expect(try Catalog(dbPath: hits[0].dbPath).open().run(uid).uid == uid)
        }
        #expect(try index.search(sample: .exactly("PS")).count == runs.count)
    }
}
