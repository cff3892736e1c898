import Dispatch
import Foundation
import Zarr

/// Stores compressed frames and makes them visible: chunk files (or shard slots), then the
/// array's `zarr.json` with the new shape, then the frames' `image_refs` rows (handed to the
/// committer, which syncs the store's file system before it commits them).
///
/// That order means a crash at any moment leaves no reference to a frame that is not there.
/// A chunk is written in place beyond the shape `zarr.json` publishes, where no reader looks,
/// and a crash's partial file is replaced by the next writer's frame of that index. Frames
/// stored together share one `zarr.json` rewrite.
///
/// Used by one thread at a time: the ``FramePipeline`` worker that stores, or the caller
/// while the pipeline is empty.
final class FramePublisher: @unchecked Sendable {
    let store: FilesystemStore
    /// Queues an image_refs row (from a pipeline thread).
    private let enqueueRef: @Sendable (ImageRefRow) -> Void
    private let writeback = Writeback()

    /// The arrays as stored: their shape is what `zarr.json` says.
    private var storedArrays: [String: ZarrArray] = [:]
    /// Frames stored whose `zarr.json` rewrite is due (no image_refs row yet).
    private var uncovered: [FramePipeline.Job] = []
    /// Open shards being filled, by array key and shard number (sharded layout).
    private var shards: [String: [Int: ShardAppender]] = [:]
    private var lastMetadataWrite: UInt64 = 0
    /// Longest wait between `zarr.json` rewrites while frames stream in: at 1,000 frames/s a
    /// rewrite per frame (a new file and a rename) costs more than storing the frame.
    static let metadataInterval = 0.05
    /// The same while frames go to shards: each rewrite waits for an `fdatasync` of the
    /// frames' bytes first (a journal commit on ext4), which at 0.05 s held the storing
    /// thread longer than the frames took to compress.
    static let shardedMetadataInterval = 0.25

    init(store: FilesystemStore, enqueueRef: @escaping @Sendable (ImageRefRow) -> Void) {
        self.store = store
        self.enqueueRef = enqueueRef
    }

    /// The frames `key`'s `zarr.json` publishes, when a frame of it was stored.
    func storedLength(of key: String) -> Int? { storedArrays[key]?.shape[0] }

    /// Forgets the arrays under `prefix` (their files stay).
    func forget(prefix: String) {
        storedArrays = storedArrays.filter { !$0.key.hasPrefix(prefix) }
        shards = shards.filter { !$0.key.hasPrefix(prefix) }  // closed once their cached pages are given back
    }

    /// Stores a run of consecutive frames: chunk files, then one `zarr.json` per array, then
    /// the image_refs rows. Stops at the first error; frames after it are dropped.
    ///
    /// While more frames are coming, `zarr.json` is rewritten at most every
    /// ``metadataInterval``: the frames stored meanwhile wait (``uncovered``) and get their
    /// image_refs rows with the next rewrite. The last frame in the pipeline is always covered.
    func write(_ batch: [FramePipeline.Encoded], dropAll: Bool, moreComing: Bool) -> FramePipeline.Outcome {
        var outcome = FramePipeline.Outcome()
        func fail(_ job: FramePipeline.Job, _ error: any Error) {
            outcome.failure = FramePipeline.Failure(key: job.key, field: job.ref.field, index: job.index, error: error)
        }
        var newlyStored: [FramePipeline.Job] = []
        for e in batch {
            if dropAll {
                outcome.dropped += 1
                continue
            }
            if outcome.failure != nil {
                outcome.failure!.dropped += 1
                continue
            }
            do {
                let bytes = try e.result.get()
                let array = storedArrays[e.job.key] ?? e.job.array
                if array.shardingCodec != nil {
                    // Appended to its shard; indexed (after an fdatasync) before the resize below.
                    let (shard, slot) = try shardAppender(for: e.job, array: array)
                    if let bytes { writeback.release(.shard(shard, try shard.append(slot, bytes))) }
                } else {
                    // Beyond the shape zarr.json publishes until the resize below: no reader looks.
                    try array.storeEncodedChunk(at: [e.job.index, 0, 0], bytes, mode: .unpublished)
                    if bytes != nil { writeback.release(.file(store.describe(array.chunkKey(at: [e.job.index, 0, 0])))) }
                }
                storedArrays[e.job.key] = array
                newlyStored.append(e.job)
            } catch {
                fail(e.job, error)
            }
        }
        uncovered += newlyStored
        if uncovered.isEmpty { return outcome }
        let now = DispatchTime.now().uptimeNanoseconds
        let interval = shards.isEmpty ? Self.metadataInterval : Self.shardedMetadataInterval
        if moreComing && !dropAll && outcome.failure == nil && now - lastMetadataWrite < UInt64(interval * 1e9) {
            return outcome
        }
        lastMetadataWrite = now
        let stored = uncovered
        uncovered = []
        // One zarr.json per array, covering its frames stored above (their indexes follow
        // the array's current length: frames of an array are stored in index order).
        var covered: Set<String> = []
        var order: [String] = []
        for job in stored where !order.contains(job.key) { order.append(job.key) }
        for key in order {
            guard var array = storedArrays[key] else { continue }
            let last = stored.last { $0.key == key }!.index
            do {
                try publishShards(of: key, through: last)
                try array.resize(to: [last + 1, array.shape[1], array.shape[2]])
                storedArrays[key] = array
                covered.insert(key)
            } catch {
                // The chunks stay, beyond the shape: they are not frames of the array.
                let first = stored.first { $0.key == key }!
                let count = stored.filter { $0.key == key }.count
                if outcome.failure == nil {
                    fail(first, error)
                    outcome.failure!.dropped += count - 1
                } else {
                    outcome.failure!.dropped += count
                }
            }
        }
        for job in stored where covered.contains(job.key) { enqueueRef(job.ref) }
        return outcome
    }

    /// The shard that frame `job` goes to, opened on its first frame (and a crashed writer's
    /// index entries beyond the frames the array shows cleared), with the frame's slot in it.
    private func shardAppender(for job: FramePipeline.Job, array: ZarrArray) throws -> (ShardAppender, Int) {
        let perShard = array.chunkShape[0]
        let (number, slot) = job.index.quotientAndRemainder(dividingBy: perShard)
        if let open = shards[job.key]?[number] { return (open, slot) }
        let shard = try ShardAppender(array: array, shard: [number, 0, 0])
        try shard.discard(from: max(0, array.shape[0] - number * perShard))
        shards[job.key, default: [:]][number] = shard
        return (shard, slot)
    }

    /// Makes the frames appended to `key`'s shards durable (`fdatasync`), then writes their
    /// index entries: no entry ever points at bytes a power cut could lose. Shards filled up
    /// to frame `last` are then let go (their files close once their cached pages are given back).
    private func publishShards(of key: String, through last: Int) throws {
        guard let open = shards[key] else { return }
        for (number, shard) in open.sorted(by: { $0.key < $1.key }) {
            try shard.syncData()
            try shard.publish()
            if (number + 1) * shard.innerCount <= last + 1 { shards[key]![number] = nil }
        }
    }
}
