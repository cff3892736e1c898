import Foundation
import Synchronization
import Testing
@testable import Resonance
import Zarr

/// Sharded frames are appended by the storing thread and made visible by the publisher's
/// own thread (`fdatasync`, index entries, `zarr.json`, image refs). These tests hold a
/// shard's sync up, or make it fail, through the publisher's test hook.
@Suite("Shard publishing")
struct ShardPublishingTests {
    let dir = TempDir()

    /// A value closures share.
    final class Shared<Value: Sendable>: Sendable {
        let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
    }

    /// The frame store and what it hands the committer, for a thread of `withinTime`.
    final class Writer: @unchecked Sendable {
        let frames: FrameStore
        let refs = Shared<[ImageRefRow]>([])
        let path: String
        var accepted = 0

        init(path: String, beforeShardSync: @escaping @Sendable (String) throws -> Void) throws {
            self.path = path
            let refs = self.refs
            frames = try FrameStore(path: path, beforeShardSync: beforeShardSync) { row in refs.withLock { $0.append(row) } }
        }

        static func pixels(_ k: Int) -> [UInt16] { (0..<256).map { UInt16(truncatingIfNeeded: $0 * 3 + k * 977) } }

        func submit(_ k: Int, framesPerShard: Int) throws {
            let pixels = Self.pixels(k)
            try frames.submit(run: "r", field: "ccd", rows: 16, columns: 16, dtype: .uint16, byteCount: 512,
                              codec: .default, layout: .sharded(framesPerShard: framesPerShard), eventUID: "e\(k)") { array in
                try pixels.withUnsafeBytes { try array.encodeInnerChunk($0) }
            }
            accepted += 1
        }

        var array: ZarrArray { get throws { try ZarrArray.open(in: try FilesystemStore(root: path), at: "runs/r/ccd") } }

        /// (index, frame number) of every ref, in the order they were handed over.
        var refIndexes: [(Int, Int)] { refs.withLock { $0.map { (Int($0.index), Int($0.eventUID.dropFirst())!) } } }

        /// Every frame with a ref reads back as written.
        func checkPixels() throws {
            let array = try array
            for (index, k) in refIndexes {
                let pixels: [UInt16] = try array.readInnerChunk(at: [index, 0, 0])
                #expect(pixels == Self.pixels(k), "frame \(index)")
            }
        }
    }

    @Test func framesAreAppendedWhileAShardSyncsAndIndexedOnlyAfterIt() throws {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let calls = Shared(0)
        let w = try Writer(path: dir.file("slow.zarr")) { _ in
            if calls.withLock({ $0 += 1; return $0 }) == 1 {
                started.signal()
                _ = release.wait(timeout: .now() + 30)
            }
        }
        try w.submit(0, framesPerShard: 64)
        // Frame 0 is stored and its shard's sync has begun (and waits).
        try #require(started.wait(timeout: .now() + 20) == .success)
        for k in 1..<40 { try w.submit(k, framesPerShard: 64) }
        // The other 39 frames reach the shard meanwhile: the file grows to hold them all.
        let array = try w.array
        let sizes = try (0..<40).map { k in try Writer.pixels(k).withUnsafeBytes { try array.encodeInnerChunk($0)!.count } }
        let shard = dir.file("slow.zarr/runs/r/ccd/c/0/0/0")
        let expected = 64 * 16 + sizes.reduce(0, +)
        var size = 0
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            size = ((try? FileManager.default.attributesOfItem(atPath: shard))?[.size] as? Int) ?? 0
            if size >= expected { break }
            Thread.sleep(forTimeInterval: 0.005)
        }
        #expect(size == expected, "frames were not appended while the shard synced")
        // Nothing is visible yet: no index entry, shape 0, no ref.
        let index = try [UInt8](Data(contentsOf: URL(fileURLWithPath: shard)).prefix(40 * 16))
        #expect(index == [UInt8](repeating: 0xFF, count: 40 * 16))
        #expect(try w.array.shape == [0, 16, 16])
        #expect(w.refs.withLock { $0.isEmpty })

        release.signal()
        try withinTime(30) { try w.frames.drain() }
        #expect(w.refIndexes.map(\.0) == Array(0..<40))
        #expect(w.refIndexes.map(\.1) == Array(0..<40))
        #expect(try w.array.shape == [40, 16, 16])
        try w.checkPixels()
        w.frames.closeRun("r")
        try w.frames.stop()
    }

    struct SyncFailed: Error, CustomStringConvertible {
        var description: String { "injected fdatasync failure (EIO)" }
    }

    /// The third shard sync fails: the frames it was to publish and those after them are
    /// reported once, counted; the writer goes on after the last frame published.
    @Test func aShardSyncThatFailsIsReportedCountedAndWritingGoesOn() throws {
        let calls = Shared(0)
        let w = try Writer(path: dir.file("eio.zarr")) { _ in
            if calls.withLock({ $0 += 1; return $0 }) == 3 { throw SyncFailed() }
        }
        let reported: RunWriterError? = try withinTime(60) {
            for k in 0..<200 {
                do {
                    try w.submit(k, framesPerShard: 8)
                } catch let error as RunWriterError {
                    return error
                }
                // Hand-offs: the pipeline runs empty now and then.
                if k % 10 == 9 { w.frames.waitUntilStored() }
            }
            do { try w.frames.drain() } catch let error as RunWriterError { return error }
            return nil
        }
        guard case .framesNotWritten(let field, let first, let count, let cause)? = reported else {
            Issue.record("expected framesNotWritten, got \(String(describing: reported))")
            return
        }
        #expect(field == "ccd")
        #expect("\(cause)".contains("injected"), "\(cause)")
        let stored = w.refIndexes
        #expect(stored.map(\.0) == Array(0..<stored.count))
        #expect(first == stored.count)
        // Every frame accepted is either published or counted in the error.
        #expect(stored.count + count == w.accepted)
        #expect(try w.array.shape[0] == stored.count)

        // Reported once: the next frames follow the last one published.
        let before = w.accepted
        try withinTime(60) {
            for k in 1000..<1020 { try w.submit(k, framesPerShard: 8) }
            try w.frames.drain()
        }
        #expect(w.accepted == before + 20)
        let after = w.refIndexes
        #expect(after.map(\.0) == Array(0..<after.count))
        #expect(after.count == stored.count + 20)
        #expect(after.suffix(20).map(\.1) == Array(1000..<1020))
        #expect(try w.array.shape[0] == after.count)
        try w.checkPixels()
        w.frames.closeRun("r")
        try w.frames.stop()
    }
}
