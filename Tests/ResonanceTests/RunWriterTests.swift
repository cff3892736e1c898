import Foundation
import GRDB
import Resonance
import Testing

@Suite("RunWriter")
struct RunWriterTests {
    let dir = TempDir()
    var db: String { dir.file("beamtime.db") }

    func writer(_ name: String = "PS", interval: TimeInterval = 1.0) -> RunWriter {
        RunWriter(dbPath: db, sample: SampleMetadata(name: name, formula: "C8H8", tags: ["polymer"]),
                  options: .init(commitInterval: interval))
    }

    @Test func eventsAreCountedAndOrdered() throws {
        let w = writer()
        try w.open()
        let run = try w.openRun("nexafs", metadata: ["edge": "C K"])
        try w.openStream("primary", dataKeys: ["energy": ["dtype": "number"]])
        var uids: [String] = []
        for i in 0..<25 {
            uids.append(try w.writeEvent(["energy": .double(270 + Double(i)), "i0": .int(Int64(i))], timestamps: ["energy": 1.0e9 + Double(i)]))
        }
        try w.closeRun()
        try w.close()
        let rows = try inspect(db) { db in
            try Row.fetchAll(db, sql: "SELECT e.uid, e.seq_num, e.data, e.timestamps FROM events e JOIN streams s ON s.uid = e.stream_uid WHERE s.run_uid = ? ORDER BY e.seq_num", arguments: [run])
        }
        #expect(rows.map { $0["seq_num"] as Int } == Array(1...25))
        #expect(rows.map { $0["uid"] as String } == uids)
        #expect(rows[3]["data"] as String == #"{"energy": 273.0, "i0": 3}"#)
        #expect(rows[3]["timestamps"] as String == #"{"energy": 1000000003.0}"#)
        let (numEvents, status, stop) = try inspect(db) { db -> (Int, String, Double?) in
            let r = try Row.fetchOne(db, sql: "SELECT num_events, exit_status, time_stop FROM runs WHERE uid = ?", arguments: [run])!
            return (r["num_events"], r["exit_status"], r["time_stop"])
        }
        #expect(numEvents == 25)
        #expect(status == "success")
        #expect(stop != nil)
    }

    @Test func uidsAre32LowercaseHexAndTimeOrdered() throws {
        let uids = (0..<5000).map { _ in UID.make() }
        #expect(uids.allSatisfy(UID.isValid))
        #expect(uids == uids.sorted())
        #expect(Set(uids).count == uids.count)
        #expect(uids[0].dropFirst(12).first == "7")  // UUID version 7
    }

    @Test func sampleUpsertYieldsOneRowForTwoWriters() throws {
        let a = writer("PS")
        try a.open()
        let idA = try #require(a.sample.id)
        try a.close()
        let b = writer("PS")
        try b.open()
        #expect(b.sample.id == idA)
        try b.close()
        let c = writer("P3HT")
        try c.open()
        #expect(c.sample.id != idA)
        try c.close()
        let count = try inspect(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM samples WHERE name = 'PS'") }
        #expect(count == 1)
        let tags = try inspect(db) { try String.fetchOne($0, sql: "SELECT tags FROM samples WHERE name = 'PS'") }
        #expect(tags == #"["polymer"]"#)
    }

    @Test(arguments: [Resonance.ExitStatus.aborted, .failed, .success])
    func exitStatusIsRecorded(_ status: Resonance.ExitStatus) throws {
        let w = writer()
        try w.open()
        let run = try w.openRun("rsoxs")
        try w.openStream("primary")
        try w.writeEvent(["x": 1])
        try w.closeRun(exitStatus: status)
        try w.close()
        let stored = try inspect(db) { try String.fetchOne($0, sql: "SELECT exit_status FROM runs WHERE uid = ?", arguments: [run]) }
        #expect(stored == status.rawValue)
    }

    struct ScanError: Error {}

    @Test func scopedFormMarksAThrowingBodyFailed() throws {
        var run = ""
        #expect(throws: ScanError.self) {
            try writer().open { w in
                run = try w.openRun("nexafs")
                try w.openStream("primary")
                try w.writeEvent(["energy": 270.0])
                throw ScanError()
            }
        }
        let (status, n) = try inspect(db) { db -> (String?, Int) in
            let r = try Row.fetchOne(db, sql: "SELECT exit_status, num_events FROM runs WHERE uid = ?", arguments: [run])!
            return (r["exit_status"], r["num_events"])
        }
        #expect(status == "failed")
        #expect(n == 1)
        // The writer was closed: the lock is free for the next one.
        try writer().open { _ in }
    }

    @Test func scopedFormClosesASuccessfulRun() throws {
        let run = try writer().open { w in
            let run = try w.openRun("nexafs")
            try w.openStream("primary")
            try w.writeEvent(["energy": 270.0])
            return run
        }
        let status = try inspect(db) { try String.fetchOne($0, sql: "SELECT exit_status FROM runs WHERE uid = ?", arguments: [run]) }
        #expect(status == "success")
    }

    @Test func wrongStateCallsThrowAndSayWhatToCallFirst() throws {
        let w = writer()
        #expect(throws: RunWriterError.notOpen) { try w.openRun("x") }
        #expect(throws: RunWriterError.notOpen) { try w.writeEvent(["a": 1]) }
        #expect(throws: RunWriterError.notOpen) { try w.close() }
        try w.open()
        #expect(throws: RunWriterError.alreadyOpen) { try w.open() }
        #expect(throws: RunWriterError.noOpenRun) { try w.writeEvent(["a": 1]) }
        #expect(throws: RunWriterError.noOpenRun) { try w.openStream("primary") }
        #expect(throws: RunWriterError.noOpenRun) { try w.closeRun() }
        let run = try w.openRun("x")
        #expect(throws: RunWriterError.noOpenStream) { try w.writeEvent(["a": 1]) }
        #expect(throws: RunWriterError.runAlreadyOpen(uid: run)) { try w.openRun("y") }
        try w.openStream("primary")
        #expect(throws: RunWriterError.duplicateStream(name: "primary")) { try w.openStream("primary") }
        #expect(throws: RunWriterError.unknownStream(name: "baseline", known: ["primary"])) {
            try w.writeEvent(["a": 1], stream: "baseline")
        }
        try w.closeRun()
        #expect(w.currentRunUID == nil)
        #expect(throws: RunWriterError.noOpenRun) { try w.closeRun() }
        #expect(throws: RunWriterError.runUIDInUse(uid: run)) { try w.openRun("again", uid: run) }
        #expect(throws: RunWriterError.invalidUID("XYZ")) { try w.openRun("again", uid: "XYZ") }
        try w.close()
        #expect(throws: RunWriterError.notOpen) { try w.close() }
        #expect(RunWriterError.noOpenStream.description.contains("openStream"))
        #expect(RunWriterError.noOpenRun.description.contains("openRun"))
        #expect(RunWriterError.notOpen.description.contains("open()"))
    }

    @Test func closeRunClearsTheCurrentRun() throws {
        let w = writer()
        try w.open()
        let first = try w.openRun("a")
        #expect(w.currentRunUID == first)
        try w.closeRun()
        #expect(w.currentRunUID == nil)
        let second = try w.openRun("b")
        try w.openStream("primary")
        try w.writeEvent(["x": 1])
        try w.closeRun()
        try w.close()
        #expect(first != second)
        let counts = try inspect(db) { try Int.fetchAll($0, sql: "SELECT num_events FROM runs ORDER BY time_start") }
        #expect(counts == [0, 1])
    }

    @Test func severalStreamsInOneRun() throws {
        let w = writer()
        try w.open()
        let run = try w.openRun("nexafs")
        try w.openStream("baseline")
        try w.writeEvent(["ring_current": 500.1])
        try w.openStream("primary")
        for e in [270.0, 271.0, 272.0] { try w.writeEvent(["energy": .double(e)]) }
        try w.writeEvent(["ring_current": 499.8], stream: "baseline")
        try w.writeEvent(["energy": 273.0])
        try w.closeRun()
        try w.close()
        let rows = try inspect(db) { db in
            try Row.fetchAll(db, sql: "SELECT s.name, e.seq_num FROM events e JOIN streams s ON s.uid = e.stream_uid WHERE s.run_uid = ? ORDER BY e.rowid", arguments: [run])
        }
        #expect(rows.map { "\($0["name"] as String)\($0["seq_num"] as Int)" } == ["baseline1", "primary1", "primary2", "primary3", "baseline2", "primary4"])
        let n = try inspect(db) { try Int.fetchOne($0, sql: "SELECT num_events FROM runs WHERE uid = ?", arguments: [run]) }
        #expect(n == 6)
    }

    @Test func badEventValuesAreRefusedAndNothingIsLost() throws {
        let w = writer()
        try w.open()
        let run = try w.openRun("x")
        try w.openStream("primary")
        try w.writeEvent(["a": 1])
        #expect(throws: RunWriterError.nonScalarValue(field: "a", value: "[1, 2]")) { try w.writeEvent(["a": [1, 2]]) }
        #expect(throws: RunWriterError.self) { try w.writeEvent(["a": ["b": 1]]) }
        #expect(throws: RunWriterError.nonFiniteTimestamp(field: "a", value: .infinity)) {
            try w.writeEvent(["a": 1], timestamps: ["a": .infinity])
        }
        #expect(throws: RunWriterError.self) { try w.writeEvent(["a": 1], timestamps: ["a": .nan]) }
        #expect(throws: RunWriterError.self) { try w.writeEvent(["": 1]) }
        #expect(throws: RunWriterError.self) { try w.writeEvent(["a\u{0}b": 1]) }
        #expect(throws: RunWriterError.self) { try w.openStream("../escape") }
        #expect(throws: RunWriterError.self) { try w.openStream("") }
        try w.writeEvent(["a": 2, "nan": .double(.nan), "s": "naïve \"quoted\" \\ 🎉", "ok": true, "none": nil])
        try w.closeRun()
        try w.close()
        let data = try inspect(db) { db in
            try String.fetchAll(db, sql: "SELECT e.data FROM events e JOIN streams s ON s.uid = e.stream_uid WHERE s.run_uid = ? ORDER BY seq_num", arguments: [run])
        }
        #expect(data == [#"{"a": 1}"#, #"{"a": 2, "nan": NaN, "s": "na\u00efve \"quoted\" \\ \ud83c\udf89", "ok": true, "none": null}"#])
    }

    @Test func eventsAreCommittedWithinTheIntervalWithoutFlush() throws {
        let w = writer(interval: 0.2)
        try w.open()
        let run = try w.openRun("x")
        try w.openStream("primary")
        for i in 0..<10 { try w.writeEvent(["i": .int(Int64(i))]) }
        // A reader on another connection sees them once the interval has passed.
        var seen = 0
        let deadline = Date().addingTimeInterval(3)
        while seen < 10 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            seen = try inspect(db) { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events e JOIN streams s ON s.uid = e.stream_uid WHERE s.run_uid = ?", arguments: [run]) ?? 0
            }
        }
        #expect(seen == 10)
        // And the run row itself is visible while open.
        let open = try inspect(db) { try Row.fetchOne($0, sql: "SELECT time_stop, exit_status FROM runs WHERE uid = ?", arguments: [run]) }
        #expect(open?["time_stop"] as Double? == nil)
        try w.closeRun()
        try w.close()
    }

    @Test func flushCommitsImmediately() throws {
        let w = writer(interval: 3600)
        try w.open()
        try w.openRun("x")
        try w.openStream("primary")
        for i in 0..<7 { try w.writeEvent(["i": .int(Int64(i))]) }
        try w.flush()
        let n = try inspect(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") }
        #expect(n == 7)
        try w.closeRun()
        try w.close()
    }

    @Test func aSecondWriterOnTheSameBeamtimeIsRefused() throws {
        let a = writer()
        try a.open()
        let b = writer("other")
        #expect {
            try b.open()
        } throws: { error in
            (error as? DatabaseFileError)?.problem == .lockedByAnotherWriter
        }
        try a.close()
        try b.open()
        try b.close()
    }

    @Test func zarrPathReplacesTheSuffix() {
        #expect(RunWriter.zarrPath(forDatabase: "/data/2026-03-05.db") == "/data/2026-03-05.zarr")
        #expect(RunWriter.zarrPath(forDatabase: "rel/beam.time.sqlite") == "rel/beam.time.zarr")
        #expect(RunWriter.zarrPath(forDatabase: "/data/noext") == "/data/noext.zarr")
        #expect(RunWriter.zarrPath(forDatabase: "/data.d/.hidden") == "/data.d/.hidden.zarr")
    }

    @Test func openCreatesTheZarrStoreBesideTheDatabase() throws {
        try writer().open { _ in }
        let group = try String(contentsOfFile: dir.file("beamtime.zarr/zarr.json"), encoding: .utf8)
        let value = try JSONValue(parsing: group)
        #expect(value["zarr_format"] == 3)
        #expect(value["node_type"] == "group")
    }
}
