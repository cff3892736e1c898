import Foundation
import Testing
import TestSupport
@testable import Zarr

/// In-place shard filling: append, sync, publish; what readers see at each step; a crash's
/// leftovers; zarr-python reads the result.
@Suite struct ShardAppenderTests {
    func frames(in store: FilesystemStore, perShard: Int = 4, indexCodecs: [ZarrCodec] = [.bytes(BytesCodec(endian: .little))],
                location: ShardingCodec.IndexLocation = .start) throws -> ZarrArray {
        let sharding = ShardingCodec(chunkShape: [1, 3, 5], codecs: ZarrCodec.defaults(for: .uint16),
                                     indexCodecs: indexCodecs, indexLocation: location)
        let metadata = try ZarrArrayMetadata(shape: [0, 3, 5], dataType: .uint16, chunkShape: [perShard, 3, 5],
                                             codecs: [.shardingIndexed(sharding)])
        return try ZarrArray.create(in: store, at: "frames", metadata: metadata)
    }

    func frame(_ k: Int) -> [UInt16] { (0..<15).map { UInt16(k * 100 + $0 + 1) } }

    @Test func entriesAppearOnlyWhenPublishedAndZarrPythonReadsTheShards() throws {
        try withTemporaryStore { store, url in
            var array = try frames(in: store)
            let first = try ShardAppender(array: array, shard: [0, 0, 0])
            #expect(first.end == 4 * 16)
            for k in 0..<3 {
                try first.append(k, try frame(k).withUnsafeBytes { try array.encodeInnerChunk($0) }!)
            }
            // Appended, not published: the index still says missing.
            var buffer = [UInt16](repeating: 9, count: 15)
            #expect(try buffer.withUnsafeMutableBytes { try array.readInnerChunk(at: [1, 0, 0], into: $0) } == false)
            #expect(buffer == [UInt16](repeating: 0, count: 15))
            try first.syncData()
            try first.publish()
            for k in 0..<3 { #expect(try array.readInnerChunk(at: [k, 0, 0], as: UInt16.self) == frame(k)) }
            // Frame 3 is all zeros: no bytes, its entry stays empty. Frames 4, 5 go to shard 1.
            let second = try ShardAppender(array: array, shard: [1, 0, 0])
            for k in 4..<6 { try second.append(k - 4, try frame(k).withUnsafeBytes { try array.encodeInnerChunk($0) }!) }
            try second.syncData()
            try second.publish()
            try array.resize(to: [6, 3, 5])
            #expect(array.innerChunkShape == [1, 3, 5])
            #expect(array.innerChunkLocation(at: [5, 0, 0]) == ("frames/c/1/0/0", 1))
            let out = try runPython("""
                import sys, zarr, numpy as np
                a = zarr.open_array(sys.argv[1], path="frames", mode="r")
                want = [np.zeros(15) if k == 3 else np.arange(15) + k * 100 + 1 for k in range(6)]
                assert all(np.array_equal(a[k].ravel(), want[k]) for k in range(6))
                assert np.array_equal(a[:].reshape(6, 15), np.array(want))
                print("ok")
                """, [url.path])
            #expect(out.contains("ok"))
        }
    }

    /// A new shard's file and the folders made for it are synced before its first entry is
    /// published: fdatasync makes the bytes durable, not the file's name.
    @Test func theFirstSyncMakesANewShardsFileAndFoldersDurable() throws {
        try withTemporaryStore { store, url in
            let array = try frames(in: store)
            let first = try ShardAppender(array: array, shard: [0, 0, 0])
            // frames/c/0/0/0: its folder, and the entries of frames/c/0/0, frames/c/0, frames/c.
            #expect(first.foldersAwaitingSync == 4)
            try first.syncData()  // nothing appended: nothing to publish, nothing synced
            #expect(first.foldersAwaitingSync == 4)
            try first.append(0, try frame(0).withUnsafeBytes { try array.encodeInnerChunk($0) }!)
            try first.syncData()
            #expect(first.foldersAwaitingSync == 0)
            // Shard 1 under existing frames/c: frames/c/1/0 holds the file, frames/c/1 and frames/c the new folders.
            let second = try ShardAppender(array: array, shard: [1, 0, 0])
            #expect(second.foldersAwaitingSync == 3)
            // Reopened, the shard is already on disk with its folders.
            first.close()
            #expect(try ShardAppender(array: array, shard: [0, 0, 0]).foldersAwaitingSync == 0)
            // A folder that cannot be synced fails the sync: the chunk is never indexed.
            try second.append(0, try frame(4).withUnsafeBytes { try array.encodeInnerChunk($0) }!)
            try FileManager.default.removeItem(at: url.appendingPathComponent("frames/c/1"))
            #expect(throws: ZarrError.self) { try second.syncData() }
            try second.publish()
            #expect(!second.hasPending)
        }
    }

    @Test func aCrashedWritersLeftoversAreSkippedAndItsEntriesCleared() throws {
        try withTemporaryStore { store, url in
            var array = try frames(in: store)
            // Writer 1: frames 0 and 1 published and shown, frame 2 published but never shown,
            // then garbage appended (cut short by the crash).
            let dead = try ShardAppender(array: array, shard: [0, 0, 0])
            for k in 0..<3 { try dead.append(k, try frame(k).withUnsafeBytes { try array.encodeInnerChunk($0) }!) }
            try dead.syncData()
            try dead.publish()
            try array.resize(to: [2, 3, 5])
            try dead.append(3, [1, 2, 3])
            dead.close()
            // Writer 2 reopens the shard, clears what the array does not show, writes frame 2 anew.
            let next = try ShardAppender(array: array, shard: [0, 0, 0])
            try next.discard(from: 2)
            #expect(try array.readInnerChunk(at: [2, 0, 0], as: UInt16.self) == [UInt16](repeating: 0, count: 15))
            let end = next.end
            let written = try next.append(2, try frame(42).withUnsafeBytes { try array.encodeInnerChunk($0) }!)
            #expect(written.lowerBound == end)
            try next.syncData()
            try next.publish()
            try array.resize(to: [3, 3, 5])
            #expect(try array.readInnerChunk(at: [0, 0, 0], as: UInt16.self) == frame(0))
            #expect(try array.readInnerChunk(at: [2, 0, 0], as: UInt16.self) == frame(42))
            let values: [UInt16] = try array.read(ZarrRegion(start: [0, 0, 0], shape: [3, 3, 5]))
            #expect(Array(values[30..<45]) == frame(42))
        }
    }

    /// A chunk appended after a sync began (another thread appends while one syncs) is not
    /// covered by it: publish() leaves its entry for the next sync. A failed sync's chunks
    /// are never published.
    @Test func publishWritesOnlyTheEntriesASyncCovered() throws {
        try withTemporaryStore { store, _ in
            let array = try frames(in: store)
            let shard = try ShardAppender(array: array, shard: [0, 0, 0])
            func encoded(_ k: Int) throws -> [UInt8] { try frame(k).withUnsafeBytes { try array.encodeInnerChunk($0) }! }
            func entry(_ n: Int) throws -> [UInt8] {
                Array(try Data(contentsOf: URL(fileURLWithPath: shard.path))[(n * 16)..<(n * 16 + 16)])
            }
            let missing = [UInt8](repeating: 0xFF, count: 16)
            try shard.append(0, try encoded(0))
            try shard.syncData()
            try shard.append(1, try encoded(1))  // after the sync: not covered
            try shard.publish()
            #expect(try entry(0) != missing)
            #expect(try entry(1) == missing)
            #expect(shard.hasPending)
            try shard.syncData()
            try shard.publish()
            #expect(try entry(1) != missing)
            #expect(!shard.hasPending)
            var shown = array
            try shown.resize(to: [2, 3, 5])
            for k in 0..<2 { #expect(try shown.readInnerChunk(at: [k, 0, 0], as: UInt16.self) == frame(k)) }
        }
    }

    @Test func onlyIndexFirstWithoutChecksumCanBeFilledInPlace() throws {
        try withTemporaryStore { store, _ in
            let crc = try frames(in: store, indexCodecs: [.bytes(BytesCodec(endian: .little)), .crc32c(Crc32cCodec())])
            #expect(throws: ZarrError.self) { try ShardAppender(array: crc, shard: [0, 0, 0]) }
        }
        try withTemporaryStore { store, _ in
            let end = try frames(in: store, location: .end)
            #expect(throws: ZarrError.self) { try ShardAppender(array: end, shard: [0, 0, 0]) }
        }
    }
}
