import Foundation
import GRDB
@testable import Resonance
import Testing

@Suite("Index writer")
struct IndexWriterTests {
    let dir = TempDir()
    var indexPath: String { dir.file("index.db") }

    @Test func openCreatesAVersion2IndexWithSearchIndexes() throws {
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        try writer.open()
        try writer.open()
        try writer.close()
        let (version, indexes) = try inspect(indexPath) { db in
            (try Int.fetchOne(db, sql: "PRAGMA user_version")!,
             Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index'")))
        }
        #expect(version == 2)
        #expect(indexes.isSuperset(of: [
            "idx_researchers_name", "idx_beamtimes_db_path", "idx_runs_index_sample_tstart",
            "idx_runs_index_plan_tstart", "idx_runs_index_researcher_tstart", "idx_runs_index_tstart",
        ]))
    }

    @Test func aBeamtimeFileIsNotTakenForAnIndex() throws {
        let beamtime = dir.file("beamtime.db")
        try RunWriter(dbPath: beamtime, sample: SampleMetadata(name: "PS")).open { _ in }
        let before = try Data(contentsOf: URL(fileURLWithPath: beamtime))
        let error = #expect(throws: DatabaseFileError.self) { try MasterIndexWriter(indexDBPath: beamtime).open() }
        guard case .foreignDatabase = error?.problem else { Issue.record("\(String(describing: error))"); return }
        #expect(try Data(contentsOf: URL(fileURLWithPath: beamtime)) == before)
    }

    @Test func registeringAResearcherAgainReturnsTheSameIDAndUpdatesOnlyGivenFields() throws {
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let id = try writer.registerResearcher(name: "Ada", rootPath: dir.file("ada/../ada"), email: "ada@example.org")
        let again = try writer.registerResearcher(name: "Ada", orcid: "0000-0002-1825-0097")
        #expect(again == id)
        let other = try writer.registerResearcher(name: "Grace", rootPath: "/data/grace")
        #expect(other != id)
        let row = try inspect(indexPath) { try Row.fetchOne($0, sql: "SELECT * FROM researchers WHERE id = ?", arguments: [id])! }
        #expect(row["root_path"] as String == dir.file("ada"))  // absolute, `..` resolved
        #expect(row["email"] as String? == "ada@example.org")  // nil left it as it was
        #expect(row["orcid"] as String? == "0000-0002-1825-0097")
        try writer.registerResearcher(name: "Ada", rootPath: "/data/ada2")
        #expect(try inspect(indexPath) { try String.fetchOne($0, sql: "SELECT root_path FROM researchers WHERE id = ?", arguments: [id]) } == "/data/ada2")
        #expect(try inspect(indexPath) { try Int.fetchOne($0, sql: "SELECT count(*) FROM researchers") } == 2)
    }

    @Test func aNewResearcherNeedsARootAndAName() throws {
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        #expect(throws: IndexError.rootPathRequired(researcher: "Ada")) { try writer.registerResearcher(name: "Ada") }
        #expect(throws: IndexError.self) { try writer.registerResearcher(name: "", rootPath: "/x") }
        #expect(IndexError.rootPathRequired(researcher: "Ada").description.contains("\"Ada\""))
    }

    @Test func registeringABeamtimeAgainByAnyPathSpellingReturnsTheSameID() throws {
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path)
        let id = try writer.registerBeamtime(researcherID: ada, dbPath: dir.file("2026-03-05.db"), timeStart: 100)
        // The same file relative to the working directory (not changed: tests run in parallel).
        let depth = FileManager.default.currentDirectoryPath.split(separator: "/").count
        let relative = String(repeating: "../", count: depth) + dir.file("2026-03-05.db").dropFirst()
        #expect(try writer.registerBeamtime(researcherID: ada, dbPath: relative) == id)
        #expect(try writer.registerBeamtime(researcherID: ada, label: "March", dbPath: dir.path + "/./sub/../2026-03-05.db") == id)
        let row = try inspect(indexPath) { try Row.fetchOne($0, sql: "SELECT * FROM beamtimes WHERE id = ?", arguments: [id])! }
        #expect(row["db_path"] as String == dir.file("2026-03-05.db"))
        #expect(row["label"] as String == "March")
        #expect(row["time_start"] as Double? == 100)  // nil left it as it was
        #expect(try inspect(indexPath) { try Int.fetchOne($0, sql: "SELECT count(*) FROM beamtimes") } == 1)
    }

    @Test func aNewBeamtimeIsLabelledByItsFileName() throws {
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path)
        let id = try writer.registerBeamtime(researcherID: ada, dbPath: dir.file("2026-03-05.db"))
        #expect(try inspect(indexPath) { try String.fetchOne($0, sql: "SELECT label FROM beamtimes WHERE id = ?", arguments: [id]) } == "2026-03-05")
    }

    @Test func aBeamtimeOfAnUnknownResearcherIsRefusedByID() throws {
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        #expect(throws: IndexError.unknownResearcher(id: 42)) {
            try writer.registerBeamtime(researcherID: 42, label: "x", dbPath: dir.file("x.db"))
        }
        #expect(IndexError.unknownResearcher(id: 42).description.contains("42"))
    }

    @Test func indexingAKnownRunUpdatesItsRow() throws {
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path)
        let bt = try writer.registerBeamtime(researcherID: ada, dbPath: dir.file("a.db"))
        let uid = UID.make()
        try writer.indexRun(uid: uid, researcherID: ada, beamtimeID: bt, planName: "nexafs", sampleName: "PS", timeStart: 200, tags: ["polymer"])
        try writer.indexRun(uid: uid, researcherID: ada, beamtimeID: bt, planName: "rsoxs", sampleName: "P3HT", timeStart: 300, tags: ["a", "b"])
        let rows = try inspect(indexPath) { try Row.fetchAll($0, sql: "SELECT * FROM runs_index") }
        #expect(rows.count == 1)
        #expect(rows[0]["plan_name"] as String == "rsoxs")
        #expect(rows[0]["sample_name"] as String? == "P3HT")
        #expect(rows[0]["time_start"] as Double == 300)
        #expect(rows[0]["tags"] as String? == #"["a", "b"]"#)
        let range = try inspect(indexPath) { try Row.fetchOne($0, sql: "SELECT time_start, time_stop FROM beamtimes")! }
        #expect(range["time_start"] as Double? == 200)
        #expect(range["time_stop"] as Double? == 300)
    }

    @Test func aRunOfAnUnknownResearcherOrBeamtimeIsRefusedByID() throws {
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path)
        let grace = try writer.registerResearcher(name: "Grace", rootPath: dir.path)
        let bt = try writer.registerBeamtime(researcherID: ada, dbPath: dir.file("a.db"))
        let uid = UID.make()
        #expect(throws: IndexError.unknownResearcher(id: 99)) {
            try writer.indexRun(uid: uid, researcherID: 99, beamtimeID: bt, planName: "x", timeStart: 1)
        }
        #expect(throws: IndexError.unknownBeamtime(id: 77)) {
            try writer.indexRun(uid: uid, researcherID: ada, beamtimeID: 77, planName: "x", timeStart: 1)
        }
        #expect(throws: IndexError.beamtimeOfAnotherResearcher(beamtimeID: bt, researcherID: grace, ownerID: ada)) {
            try writer.indexRun(uid: uid, researcherID: grace, beamtimeID: bt, planName: "x", timeStart: 1)
        }
        #expect(IndexError.unknownBeamtime(id: 77).description.contains("77"))
        #expect(throws: IndexError.self) {
            try writer.indexRun(uid: uid, researcherID: ada, beamtimeID: bt, planName: "x", timeStart: .nan)
        }
        #expect(try inspect(indexPath) { try Int.fetchOne($0, sql: "SELECT count(*) FROM runs_index") } == 0)
    }

    @Test func movingABeamtimeToAnotherResearcherMovesItsRuns() throws {
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path)
        let grace = try writer.registerResearcher(name: "Grace", rootPath: dir.path)
        let bt = try writer.registerBeamtime(researcherID: ada, dbPath: dir.file("a.db"))
        try writer.indexRun(uid: UID.make(), researcherID: ada, beamtimeID: bt, planName: "x", timeStart: 1)
        #expect(try writer.registerBeamtime(researcherID: grace, dbPath: dir.file("a.db")) == bt)
        let owners = try inspect(indexPath) { try Int64.fetchAll($0, sql: "SELECT researcher_id FROM runs_index") }
        #expect(owners == [grace])
    }
}
