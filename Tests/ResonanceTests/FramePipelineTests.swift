import Foundation
import GRDB
import Resonance
import Testing
import Zarr

/// writeFrame returns once a frame is queued; compression and storage happen in the
/// background. These tests hold the pipeline to its promises: order, errors reported on a
/// later call and never lost, and appending going on after a failure.
@Suite("Frame pipeline")
struct FramePipelineTests {
    let dir = TempDir()

    func frame(_ seq: Int, rows: Int = 64, columns: Int = 48) -> Frame<UInt16> {
        Frame(rows: rows, columns: columns, pixels: (0..<(rows * columns)).map { UInt16(truncatingIfNeeded: $0 * 7 + seq * 131) })
    }

    /// (index_in_stack, seq) of every image ref of `field`, in id order.
    func refs(_ db: String, field: String) throws -> [(Int, Int)] {
        try inspect(db) { db in
            try Row.fetchAll(db, sql: "SELECT r.index_in_stack, e.data FROM image_refs r JOIN events e ON e.uid = r.event_uid WHERE r.field_name = ? ORDER BY r.id", arguments: [field])
                .map { ($0[0] as Int, Int(try JSONValue(parsing: $0[1] as String)["seq"]!.intValue!)) }
        }
    }

    @Test func manyFramesOfSeveralFieldsArriveInOrderWithTheirEvents() throws {
        let db = dir.file("order.db")
        var raw = [UInt16](repeating: 0, count: 32 * 32)
        let run = try RunWriter(dbPath: db, sample: SampleMetadata(name: "PS")).open { w in
            let run = try w.openRun("order")
            try w.openStream("primary")
            for seq in 0..<300 {
                let e = try w.writeEvent(["seq": .int(Int64(seq))])
                try w.writeFrame(eventUID: e, field: "a", frame: frame(seq))
                if seq % 3 == 0 { try w.writeFrame(eventUID: e, field: "b", frame: frame(seq, rows: 16, columns: 16)) }
                // The raw-pointer form copies: the buffer may change as soon as it returns.
                for i in raw.indices { raw[i] = UInt16(truncatingIfNeeded: i * 7 + seq * 131) }
                try raw.withUnsafeBytes { try w.writeFrame(eventUID: e, field: "raw", shape: [32, 32], dtype: .uint16, pixels: $0) }
                for i in raw.indices { raw[i] = 0xFFFF }
            }
            return run
        }
        let store = try FilesystemStore(root: dir.file("order.zarr"))
        for (field, rows, columns, every) in [("a", 64, 48, 1), ("b", 16, 16, 3), ("raw", 32, 32, 1)] {
            let r = try refs(db, field: field)
            let seqs = Array(stride(from: 0, to: 300, by: every))
            #expect(r.map(\.0) == Array(0..<seqs.count))
            #expect(r.map(\.1) == seqs)
            let array = try ZarrArray.open(in: store, at: "runs/\(run)/\(field)")
            #expect(array.shape == [seqs.count, rows, columns])
            for (index, seq) in r where index % 17 == 0 {
                let pixels: [UInt16] = try array.readInnerChunk(at: [index, 0, 0])
                #expect(pixels == frame(seq, rows: rows, columns: columns).pixels)
            }
        }
    }

    /// Frame 8's file (a file per frame) or its shard (frames 8...11) cannot be created.
    @Test(arguments: [FrameLayout.chunkPerFrame, .sharded(framesPerShard: 4)])
    func aFrameThatCannotBeStoredIsReportedOnceAndWritingGoesOn(layout: FrameLayout) throws {
        let db = dir.file("broken.db")
        let w = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"), options: .init(frameLayout: layout))
        try w.open()
        let run = try w.openRun("broken")
        try w.openStream("primary")
        var seq = 0
        var accepted = 0  // writeFrame calls that returned
        func write() throws {
            let e = try w.writeEvent(["seq": .int(Int64(seq))])
            seq += 1
            try w.writeFrame(eventUID: e, field: "ccd", frame: frame(seq - 1))
            accepted += 1
        }
        for _ in 0..<5 { try write() }
        try w.flush()
        // A file where frame 8's folder must go: storing frame 8 fails (even as root).
        let folder = layout == .chunkPerFrame ? "c/8" : "c/2"
        let blocker = dir.file("broken.zarr/runs/\(run)/ccd/" + folder)
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))
        var reported: RunWriterError?
        for _ in 0..<12 {
            do { try write() } catch let error as RunWriterError {
                reported = error
                break
            }
        }
        if reported == nil {
            do { try w.flush() } catch let error as RunWriterError { reported = error }
        }
        guard case .framesNotWritten(let field, let first, let count, let reason)? = reported else {
            Issue.record("expected framesNotWritten, got \(String(describing: reported))")
            return
        }
        #expect(field == "ccd")
        #expect(first == 8)
        #expect(count >= 1)
        #expect(reason.contains(folder), "\(reason)")
        // Reported once: the writer goes on, appending after the last stored frame.
        try FileManager.default.removeItem(atPath: blocker)
        for _ in 0..<6 { try write() }
        try w.closeRun()
        try w.close()

        let r = try refs(db, field: "ccd")
        let array = try ZarrArray.open(in: try FilesystemStore(root: dir.file("broken.zarr")), at: "runs/\(run)/ccd")
        #expect(r.map(\.0) == Array(0..<r.count))          // no gap, no reference beyond the shape
        #expect(array.shape[0] == r.count)
        #expect(r.count == 8 + 6)                           // 0...7 before the failure, 6 after
        #expect(Array(r.map(\.1).prefix(8)) == Array(0..<8))
        #expect(r.map(\.1).suffix(6) == Array((seq - 6)..<seq))
        for (index, s) in r {
            let pixels: [UInt16] = try array.readInnerChunk(at: [index, 0, 0])
            #expect(pixels == frame(s).pixels)
        }
        // Every frame accepted before the failure is either stored or counted in the error.
        #expect(8 + count == accepted - 6)
    }
}
