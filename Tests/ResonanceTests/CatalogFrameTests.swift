import Foundation
import GRDB
@testable import Resonance
import Testing
import Zarr

@Suite("Catalog frames")
struct CatalogFrameTests {
    let dir = TempDir()
    var db: String { dir.file("beamtime.db") }

    @Test func readsTheReferenceFramesAsExpectedJSONSays() throws {
        let path = try copyReferenceBeamtime(to: dir)
        let expected = try JSONValue(parsing: String(contentsOfFile: fixturesDir + "/reference-beamtime/expected.json", encoding: .utf8))
        let spec = try #require(expected["runs"]?["rsoxs"]?["images"]?["ccd"])
        let run = try Catalog(dbPath: path).run(try #require(expected["runs"]?["rsoxs"]?["uid"]?.stringValue))
        let ccd = try run.frames(field: "ccd")
        #expect(ccd.count == 5)
        #expect(JSONValue.array(ccd.shape.map { .int(Int64($0)) }) == spec["zarr_shape"])
        #expect(ccd.dtype == .uint16)
        #expect(ccd.codecs == ["bytes", "zstd"])
        #expect(ccd.frameByteCount == 64 * 64 * 2)

        let stack = try ccd.frames(0..<5, as: UInt16.self)
        #expect(stack.shape == [5, 64, 64])
        let sums = (0..<5).map { JSONValue.int(Int64(stack[$0].reduce(0) { $0 + Int($1) })) }
        #expect(JSONValue.array(sums) == spec["frame_sums"])
        #expect(JSONValue.array((0..<5).map { .int(Int64(stack[$0].min()!)) }) == spec["frame_min"])
        #expect(JSONValue.array((0..<5).map { .int(Int64(stack[$0].max()!)) }) == spec["frame_max"])
        // The formula: uint16(100 + 10*k + (x*y) % 1000), [0,0] = 65535, [63,63] = k.
        let f2 = try ccd.frame(2, as: UInt16.self)
        #expect(f2[0, 0] == 65535 && f2[63, 63] == 2 && f2[3, 5] == UInt16(100 + 20 + 15))

        // Negative indices count from the end; a block holds the stored type.
        #expect(try ccd.frame(-1, as: UInt16.self).pixels == Array(stack[4]))
        #expect(try ccd.frame(-5, as: UInt16.self).pixels == Array(stack[0]))
        let block = try ccd.frames(...)
        #expect(block.dtype == .uint16)
        #expect(block.shape == [5, 64, 64])
        #expect(block.stack(as: UInt16.self)?.pixels == stack.pixels)
        #expect(block.stack(as: Float.self) == nil)
        #expect(try ccd.frames(3...).count == 2)
        #expect(try ccd.frame(1).doubles(frame: 0).reduce(0, +) == 2161163)

        // Each frame's event: what an RSoXS user asks first is the energy of each frame.
        #expect(ccd.seqNums == [1, 2, 3, 4, 5])
        #expect(ccd.events.allSatisfy { $0.stream == "primary" && $0.uid.count == 32 })
        #expect(try ccd.eventDoubles("Energy") == [285, 286, 287, 288, 289])
        #expect(try ccd.eventValues("no_such_field") == [nil, nil, nil, nil, nil])
    }

    @Test func framesOfSeveralStreamsKeepTheirOwnEvents() throws {
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"))
        let uid = try writer.open { w in
            let uid = try w.openRun("two_streams")
            try w.openStream("baseline")
            try w.openStream("primary")
            for k in 1...4 {
                let stream = k % 2 == 0 ? "baseline" : "primary"
                let event = try w.writeEvent(["energy": .double(280 + Double(k)), "label": .string(stream)], stream: stream)
                try w.writeFrame(eventUID: event, field: "detector_image",
                                 frame: Frame<UInt8>(rows: 2, columns: 2, pixels: [UInt8](repeating: UInt8(k), count: 4)))
            }
            return uid
        }
        let frames = try Catalog(dbPath: db).run(uid).frames()
        #expect(frames.count == 4)
        #expect(frames.events.map(\.stream) == ["primary", "baseline", "primary", "baseline"])
        #expect(frames.seqNums == [1, 1, 2, 2])
        #expect(try frames.eventDoubles("energy") == [281, 282, 283, 284])
        #expect(try frames.eventValues("label") == ["primary", "baseline", "primary", "baseline"])
    }

    @Test func frameIndexAndRangeErrorsNameTheField() throws {
        let path = try copyReferenceBeamtime(to: dir)
        let ccd = try Catalog(dbPath: path).run("24b99aa4").frames(field: "ccd")
        #expect(throws: CatalogError.frameIndexOutOfRange(field: "ccd", index: 5, count: 5)) { try ccd.frame(5) }
        #expect(throws: CatalogError.frameIndexOutOfRange(field: "ccd", index: -6, count: 5)) { try ccd.frame(-6) }
        #expect(throws: CatalogError.frameRangeOutOfBounds(field: "ccd", range: 3..<7, count: 5)) { try ccd.frames(3..<7) }
        #expect(throws: CatalogError.frameTypeMismatch(field: "ccd", stored: "uint16", requested: "Float")) {
            try ccd.frames(0..<1, as: Float.self)
        }
        #expect(CatalogError.frameIndexOutOfRange(field: "ccd", index: 5, count: 5).description.contains("-5..<5"))
        #expect(try ccd.frames(2..<2).count == 0)
    }

    @Test func unknownFieldGivesAnEmptySequence() throws {
        let path = try copyReferenceBeamtime(to: dir)
        let catalog = try Catalog(dbPath: path)
        let none = try catalog.run("24b99aa4").frames(field: "no_such_detector")
        #expect(none.isEmpty)
        #expect(none.count == 0)
        #expect(none.dtype == nil)
        #expect(none.shape == [0, 0, 0])
        #expect(throws: CatalogError.frameIndexOutOfRange(field: "no_such_detector", index: 0, count: 0)) { try none.frame(0) }
        #expect(try none.frames(...).count == 0)
        // A run without images at all.
        #expect(try catalog.run("79c8c292").frames(field: "ccd").isEmpty)
    }

    /// Writes a run with uint16 frames (frame 2 all zero) and float32 frames holding NaN.
    func writeFrames(frames: Int = 6, rows: Int = 20, columns: Int = 30, layout: FrameLayout = .automatic) throws -> String {
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"), options: .init(frameLayout: layout))
        return try writer.open { w in
            let uid = try w.openRun("rsoxs")
            try w.openStream("primary")
            for k in 0..<frames {
                let event = try w.writeEvent(["Energy": .double(270 + Double(k))])
                let pixels = (0..<(rows * columns)).map { k == 2 ? 0 : UInt16(truncatingIfNeeded: $0 * (k + 1) + k) }
                try w.writeFrame(eventUID: event, field: "ccd", frame: Frame(rows: rows, columns: columns, pixels: pixels))
                var floats = (0..<(rows * columns)).map { Float($0) / 7 + Float(k) }
                floats[k] = .nan
                try w.writeFrame(eventUID: event, field: "diff", frame: Frame(rows: rows, columns: columns, pixels: floats))
            }
            return uid
        }
    }

    @Test(arguments: [FrameLayout.chunkPerFrame, .sharded(framesPerShard: 4)])
    func readsFramesRunWriterWroteIncludingAnAbsentZeroChunkAndNaN(layout: FrameLayout) throws {
        let uid = try writeFrames(layout: layout)
        if layout == .chunkPerFrame {
            #expect(!FileManager.default.fileExists(atPath: dir.file("beamtime.zarr/runs/\(uid)/ccd/c/2/0/0")))
            #expect(FileManager.default.fileExists(atPath: dir.file("beamtime.zarr/runs/\(uid)/ccd/c/3/0/0")))
        } else {
            // Frames 0...3 in shard 0, 4 and 5 in shard 1 (half full); frame 2 has no bytes.
            #expect(FileManager.default.fileExists(atPath: dir.file("beamtime.zarr/runs/\(uid)/ccd/c/1/0/0")))
            #expect(!FileManager.default.fileExists(atPath: dir.file("beamtime.zarr/runs/\(uid)/ccd/c/2/0/0")))
        }
        let run = try Catalog(dbPath: db).run(uid)
        #expect(run.frameFields.map(\.name) == ["ccd", "diff"])
        let ccd = try run.frames(field: "ccd")
        #expect(ccd.shape == [6, 20, 30])
        let all = try ccd.frames(...)
        let stack = try #require(all.stack(as: UInt16.self))
        for k in 0..<6 {
            let expected = (0..<600).map { k == 2 ? 0 : UInt16(truncatingIfNeeded: $0 * (k + 1) + k) }
            #expect(Array(stack[k]) == expected, "frame \(k)")
            #expect(try ccd.frame(k, as: UInt16.self).pixels == expected)
        }
        let diff = try run.frames(field: "diff")
        #expect(diff.dtype == .float32)
        let floats = try diff.frames(0..<6, as: Float.self)
        for k in 0..<6 {
            #expect(floats[k].enumerated().filter { $0.element.isNaN }.map(\.offset) == [k])
            #expect(floats[k][floats[k].startIndex + 599] == Float(599) / 7 + Float(k))
        }
    }

    @Test(arguments: [FrameLayout.chunkPerFrame, .sharded(framesPerShard: 16)])
    func manyFramesDecodeInParallelIntoOneBufferAsOneByOne(layout: FrameLayout) throws {
        let uid = try writeFrames(frames: 40, rows: 64, columns: 48, layout: layout)
        let ccd = try Catalog(dbPath: db).run(uid).frames(field: "ccd")
        let together = try ccd.frames(5..<37, as: UInt16.self)
        var oneByOne: [UInt16] = []
        for k in 5..<37 { oneByOne += try ccd.frame(k, as: UInt16.self).pixels }
        #expect(together.pixels == oneByOne)
        // Into a caller's buffer too.
        var raw = [UInt8](repeating: 0xFF, count: 32 * ccd.frameByteCount)
        try raw.withUnsafeMutableBytes { try ccd.read(5..<37, into: $0) }
        #expect(raw == together.pixels.withUnsafeBytes { Array($0) })
        // Batch by batch, in order.
        var seen: [Int] = []
        try ccd.forEach(as: UInt16.self, batchSize: 7) { k, frame in
            seen.append(k)
            if k >= 5 && k < 37 { #expect(frame.pixels == Array(together[k - 5])) }
        }
        #expect(seen == Array(0..<40))
        #expect(throws: CatalogError.self) {
            var small = [UInt8](repeating: 0, count: 10)
            try small.withUnsafeMutableBytes { try ccd.read(0..<1, into: $0) }
        }
    }

    @Test func aFrameBeyondTheShapeInZarrJSONIsReadFromItsChunk() throws {
        // A writer that stored chunk 5 and its image_refs row, then died before rewriting
        // zarr.json with the new shape.
        let uid = try writeFrames()
        let metaPath = dir.file("beamtime.zarr/runs/\(uid)/ccd/zarr.json")
        var meta = try #require(try JSONValue(parsing: String(contentsOfFile: metaPath, encoding: .utf8)).objectValue)
        meta["shape"] = [5, 20, 30]
        try meta.jsonText.write(toFile: metaPath, atomically: true, encoding: .utf8)
        let ccd = try Catalog(dbPath: db).run(uid).frames(field: "ccd")
        #expect(ccd.count == 6)
        #expect(try ccd.frame(5, as: UInt16.self).pixels == (0..<600).map { UInt16(truncatingIfNeeded: $0 * 6 + 5) })
    }

    @Test func aMissingZarrArrayIsAClearError() throws {
        let uid = try writeFrames(frames: 2)
        try FileManager.default.removeItem(atPath: dir.file("beamtime.zarr/runs/\(uid)/diff"))
        let run = try Catalog(dbPath: db).run(uid)
        #expect(try run.frames(field: "ccd").count == 2)
        do {
            _ = try run.frames(field: "diff")
            Issue.record("expected an error")
        } catch let error as CatalogError {
            guard case .unreadableFrames(let field, let reason) = error else { Issue.record("\(error)"); return }
            #expect(field == "diff")
            #expect(reason.contains("runs/\(uid)/diff"))
        }
    }

    @Test func readsFramesOfOtherWritersChunkingAndCodecs() throws {
        // zarr-python arrays with several frames per chunk, sharding, gzip and big-endian bytes.
        let b = try BeamtimeBuilder(db)
        let uid = fakeUID("c0dec")
        try b.run(uid, start: 1)
        let s = try b.stream("primary", run: uid)
        let events = try b.events(s, (0..<5).map { #"{"k": \#($0)}"# })
        for field in ["multi", "sharded", "gz"] {
            for (k, event) in events.enumerated() {
                try b.imageRef(event: event, field: field, group: "runs/\(uid)/\(field)", index: k, rows: 6, columns: 4, dtype: "int32", codec: nil)
            }
        }
        try b.close()
        try runPython("""
            import sys, numpy as np, zarr
            from zarr.codecs import BytesCodec, GzipCodec, ShardingCodec
            root = zarr.open_group(sys.argv[1], mode="a")
            data = (np.arange(5 * 6 * 4, dtype=np.int32).reshape(5, 6, 4) - 50) * 1000
            data[3] = 0
            a = root.create_array("runs/\(uid)/multi", shape=data.shape, chunks=(2, 6, 4), dtype="int32", fill_value=0)
            a[:] = data
            b = root.create_array("runs/\(uid)/sharded", shape=data.shape, chunks=(1, 3, 2), shards=(5, 6, 4), dtype="int32", fill_value=0)
            b[:] = data
            c = root.create_array("runs/\(uid)/gz", shape=data.shape, chunks=(1, 6, 4), dtype="int32", fill_value=0,
                                  serializer=BytesCodec(endian="big"), compressors=[GzipCodec(level=5)])
            c[:] = data
            """, [dir.file("beamtime.zarr")])
        let run = try Catalog(dbPath: db).run(uid)
        let expected: [Int32] = (0..<120).map { (i: Int) -> Int32 in i / 24 == 3 ? 0 : Int32((i - 50) * 1000) }
        for field in ["multi", "sharded", "gz"] {
            let frames = try run.frames(field: field)
            #expect(frames.dtype == .int32)
            #expect(try frames.frames(0..<5, as: Int32.self).pixels == expected, "\(field)")
            #expect(try frames.frame(-2, as: Int32.self).pixels == Array(repeating: 0, count: 24), "\(field)")
        }
        #expect(try run.frames(field: "gz").codecs == ["bytes", "gzip"])
    }
}
