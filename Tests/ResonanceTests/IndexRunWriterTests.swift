import Foundation
import GRDB
@testable import Resonance
import Testing

@Suite("Index from RunWriter")
struct IndexRunWriterTests {
    let dir = TempDir()
    var indexPath: String { dir.file("index.db") }
    var beamtime: String { dir.file("2026-03-05.db") }

    func writer(sample: SampleMetadata, index: IndexRegistration) -> RunWriter {
        RunWriter(dbPath: beamtime, sample: sample, options: .init(commitInterval: 0.05, index: index))
    }

    @Test func eachClosedRunIsIndexed() throws {
        let registration = IndexRegistration(indexPath: indexPath, researcher: "Ada")
        let w = writer(sample: SampleMetadata(name: "PS", tags: ["polymer"]), index: registration)
        try w.open()
        let first = try w.openRun("nexafs")
        try w.openStream("primary")
        try w.writeEvent(["energy": 270.0])
        #expect(!FileManager.default.fileExists(atPath: indexPath))  // indexed when the run closes
        try w.closeRun()
        let second = try w.openRun("rsoxs")
        try w.closeRun(exitStatus: .aborted)
        try w.close()
        try writer(sample: SampleMetadata(name: "P3HT"), index: registration).open { w in
            try w.openRun("nexafs")
        }

        let index = try MasterIndex(path: indexPath).open()
        let hits = try index.search()
        #expect(hits.count == 3)
        let byUID = Dictionary(uniqueKeysWithValues: hits.map { ($0.uid, $0) })
        let stored = try inspect(beamtime) { try Row.fetchAll($0, sql: "SELECT uid, plan_name, time_start FROM runs") }
        for row in stored {
            let hit = try #require(byUID[row["uid"]])
            #expect(hit.planName == row["plan_name"])
            #expect(hit.timeStart == row["time_start"])
            #expect(hit.researcher == "Ada")
            #expect(hit.beamtimeLabel == "2026-03-05")
            #expect(hit.dbPath == beamtime)
        }
        #expect(byUID[first]?.sampleName == "PS")
        #expect(byUID[first]?.tags == ["polymer"])
        #expect(byUID[second]?.planName == "rsoxs")
        #expect(try index.search(sample: .exactly("P3HT")).count == 1)
        // A new researcher's root defaults to the beamtime's folder.
        #expect(try index.researchers().map(\.rootPath) == [dir.path])
        let bt = try #require(try index.beamtimes(researcher: "Ada").first)
        #expect(bt.runCount == 3)
        #expect(bt.timeStart == hits.last?.timeStart)
        #expect(bt.timeStop == hits.first?.timeStart)
    }

    @Test func anIndexFailureKeepsTheRunAndSaysHowToIndexItLater() throws {
        try Data("not a database, just notes".utf8).write(to: URL(fileURLWithPath: indexPath))
        let w = writer(sample: SampleMetadata(name: "PS"), index: IndexRegistration(indexPath: indexPath, researcher: "Ada"))
        try w.open()
        let run = try w.openRun("nexafs")
        try w.openStream("primary")
        try w.writeEvent(["energy": 270.0])
        let error = #expect(throws: RunIndexingError.self) { try w.closeRun() }
        #expect(error?.runUID == run)
        #expect(error?.underlying is DatabaseFileError)
        let message = error?.description ?? ""
        #expect(message.contains(run))
        #expect(message.contains("saved in \(beamtime)"))
        #expect(message.contains("not an SQLite database"))
        #expect(message.contains("resonance index add \(indexPath)"))
        // The run is closed and complete in the beamtime file; the writer goes on.
        #expect(w.currentRunUID == nil)
        let row = try inspect(beamtime) { try Row.fetchOne($0, sql: "SELECT exit_status, num_events FROM runs WHERE uid = ?", arguments: [run])! }
        #expect(row["exit_status"] as String? == "success")
        #expect(row["num_events"] as Int == 1)
        try w.openRun("next")
        #expect(throws: RunIndexingError.self) { try w.closeRun() }
        try w.close()
        #expect(try String(contentsOfFile: indexPath, encoding: .utf8) == "not a database, just notes")
    }

    @Test func theScopedFormClosesTheWriterWhenIndexingFails() throws {
        try FileManager.default.createDirectory(atPath: indexPath, withIntermediateDirectories: false)
        let registration = IndexRegistration(indexPath: indexPath, researcher: "Ada")
        #expect(throws: RunIndexingError.self) {
            try writer(sample: SampleMetadata(name: "PS"), index: registration).open { w in
                try w.openRun("nexafs")
            }
        }
        // The beamtime's writer lock was released: another writer can open it.
        try RunWriter(dbPath: beamtime, sample: SampleMetadata(name: "PS")).open { _ in }
        #expect(try inspect(beamtime) { try String.fetchOne($0, sql: "SELECT exit_status FROM runs") } == "success")
    }
}
