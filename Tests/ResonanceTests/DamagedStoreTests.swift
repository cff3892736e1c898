import Foundation
import GRDB
import Resonance
import Testing

/// Damaged or unusual stores: clear errors naming the path, and `check` reports them.
@Suite("Damaged stores")
struct DamagedStoreTests {
    let dir = TempDir()
    var db: String { dir.file("bt.db") }

    /// A beamtime with one run of three 16x16 frames; returns the run uid.
    func beamtime() throws -> String {
        try RunWriter(dbPath: db, sample: SampleMetadata(name: "PS")).open { w in
            let run = try w.openRun("rsoxs")
            try w.openStream("primary")
            for k in 0..<3 {
                let e = try w.writeEvent(["k": .int(Int64(k))])
                try w.writeFrame(eventUID: e, field: "ccd", frame: Frame<UInt16>(rows: 16, columns: 16, pixels: [UInt16](repeating: UInt16(k + 1), count: 256)))
            }
            return run
        }
    }

    func arrayJSON(_ run: String) -> String { dir.file("bt.zarr/runs/\(run)/ccd/zarr.json") }

    /// Replaces the array's zarr.json, then expects Catalog and check to name the file.
    func expectDamage(_ run: String, _ edit: (inout String) -> Void, mentions: String) throws {
        var text = try String(contentsOfFile: arrayJSON(run), encoding: .utf8)
        edit(&text)
        try text.write(toFile: arrayJSON(run), atomically: true, encoding: .utf8)
        let catalog = try Catalog(dbPath: db)
        defer { try? catalog.close() }
        #expect { _ = try catalog.run(run).frames(field: "ccd").frame(0) } throws: { error in
            "\(error)".contains(arrayJSON(run)) && "\(error)".contains(mentions)
        }
        let report = try BeamtimeCheck.run(dbPath: db)
        #expect(!report.isHealthy)
        #expect(report.problems.contains { $0.kind == .arrayUnreadable && $0.message.contains(mentions) }, "\(report.problems)")
        // The events are still all there.
        #expect(try catalog.run(run).table().count == 3)
    }

    @Test func malformedZarrJSON() throws {
        let run = try beamtime()
        try expectDamage(run, { $0 = String($0.prefix($0.count / 2)) }, mentions: "zarr.json")
    }

    @Test func unknownMustUnderstandKey() throws {
        let run = try beamtime()
        try expectDamage(run, { $0 = $0.replacingOccurrences(of: "\"zarr_format\"", with: "\"future_feature\": {\"x\": 1},\n  \"zarr_format\"") }, mentions: "future_feature")
    }

    @Test func unknownCodec() throws {
        let run = try beamtime()
        try expectDamage(run, { $0 = $0.replacingOccurrences(of: "\"blosc\"", with: "\"lzma_turbo\"") }, mentions: "lzma_turbo")
    }

    @Test func unsupportedDataType() throws {
        let run = try beamtime()
        try expectDamage(run, { $0 = $0.replacingOccurrences(of: "\"uint16\"", with: "\"float16\"") }, mentions: "float16")
    }

    @Test func deletedStoreFolder() throws {
        let run = try beamtime()
        try FileManager.default.removeItem(atPath: dir.file("bt.zarr"))
        let catalog = try Catalog(dbPath: db)
        #expect { _ = try catalog.run(run).frames(field: "ccd").frame(0) } throws: { "\($0)".contains(dir.file("bt.zarr")) }
        #expect(try catalog.run(run).table().count == 3)
        let report = try BeamtimeCheck.run(dbPath: db)
        #expect(report.problems.map(\.kind) == [.storeMissing])
        #expect(report.problems.first?.path == dir.file("bt.zarr"))
    }

    @Test func storeDeletedUnderALiveWriter() throws {
        let w = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"))
        try w.open()
        try w.openRun("rsoxs")
        try w.openStream("primary")
        let e = try w.writeEvent(["k": 0])
        let frame = Frame<UInt16>(rows: 8, columns: 8, pixels: [UInt16](repeating: 3, count: 64))
        try w.writeFrame(eventUID: e, field: "ccd", frame: frame)
        try w.flush()  // the frame is stored before the folder goes
        try FileManager.default.removeItem(atPath: dir.file("bt.zarr"))
        #expect { try w.writeFrame(eventUID: e, field: "ccd", frame: frame) } throws: { "\($0)".contains(dir.file("bt.zarr")) }
        // Events go on; the run closes.
        try w.writeEvent(["k": 1])
        try w.closeRun()
        try w.close()
        #expect(try inspect(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") } == 2)
    }

    @Test func readOnlyFileSystem() throws {
        let disk: SmallDisk
        do { disk = try SmallDisk(megabytes: 4) } catch {
            Issue.record("cannot mount a tmpfs (this test needs root): \(error)")
            return
        }
        let path = disk.path + "/ro.db"
        let run = try RunWriter(dbPath: path, sample: SampleMetadata(name: "PS")).open { w in
            let run = try w.openRun("x")
            try w.openStream("primary")
            try w.writeEvent(["a": 1])
            return run
        }
        try disk.remount(readOnly: true)
        defer { try? disk.remount(readOnly: false) }
        // Writing is refused with the path named; nothing changes.
        #expect { try RunWriter(dbPath: path, sample: SampleMetadata(name: "PS")).open() } throws: { "\($0)".contains(disk.path) }
        // Reading works: the last writer closed cleanly, so no recovery is needed.
        let catalog = try Catalog(dbPath: path)
        #expect(try catalog.run(run).table().count == 1)
        try catalog.close()
        #expect(try BeamtimeCheck.run(dbPath: path).isHealthy)
    }
}
