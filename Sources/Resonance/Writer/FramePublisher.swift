import Concurrency
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
/// Two threads share the work. The storing thread (the ``FramePipeline`` worker whose turn
/// it is) writes the frames' bytes in ``write(_:dropAll:moreComing:)`` and hands what it
/// stored to the publishing thread, which makes it visible: a shard's `fdatasync` (an ext4
/// journal commit, milliseconds) then its index entries, `zarr.json`, the image_refs rows.
/// Had the storing thread waited for that sync, frames would stop reaching the disk while it
/// runs and the compressors behind it would stall; instead it goes on appending, and hand-offs
/// that queue up while a sync runs are published together.
///
/// The caller's thread uses ``storedLength(of:)``, ``forget(prefix:)`` and
/// ``resetAfterFailure()`` only while the pipeline is empty and nothing is being published.
final class FramePublisher: @unchecked Sendable {
    let store: FilesystemStore
    /// Queues an image_refs row (from the publishing thread).
    private let enqueueRef: @Sendable (ImageRefRow) -> Void
    /// Called on the publishing thread before each shard's `fdatasync`, with the shard's
    /// key: a test's way to slow a sync down or make it fail.
    private let beforeShardSync: (@Sendable (String) throws -> Void)?
    /// Told, on the publishing thread, how many frames handed off were published or
    /// dropped, and the failure if one was; set once by the pipeline before any frame.
    var onPublished: (@Sendable (_ frames: Int, FramePipeline.Outcome) -> Void)?

    // The storing thread's state.
    private let writeback = Writeback()
    /// The arrays frames are stored into (their shape is not kept up to date here).
    private var arrays: [String: ZarrArray] = [:]
    /// Frames stored and not yet handed to the publishing thread.
    private var unpublished: [FramePipeline.Job] = []
    /// Shards appended to since the last hand-off.
    private var touched: [Shard] = []
    /// Open shards being filled, by array key and shard number (sharded layout). A shard is
    /// let go once its last slot is filled; the hand-off keeps it until it is published.
    private var shards: [String: [Int: ShardAppender]] = [:]
    private var lastHandOff: UInt64 = 0
    /// Longest wait between hand-offs (so `zarr.json` rewrites) while frames stream in: at
    /// 1,000 frames/s a rewrite per frame (a new file and a rename) costs more than storing
    /// the frame.
    static let metadataInterval = 0.05
    /// The same while frames go to shards: each publication waits for an `fdatasync` of the
    /// frames' bytes first (a journal commit on ext4, competing with the committer's syncs
    /// for the disk). It no longer holds up the storing thread, but fewer journal commits
    /// leave the disk to the frames.
    static let shardedMetadataInterval = 0.25

    // The publishing thread's state, guarded by `lock` (the caller reads it while idle).
    private let lock = Lock()
    /// The arrays as published: their shape is what `zarr.json` says.
    private var published: [String: ZarrArray] = [:]
    /// A publication failed: the frames handed off after it are dropped until the failure
    /// is reported (``resetAfterFailure()``), as the pipeline drops frames after a failure.
    private var failed = false
    private var publishing: BatchWorker<HandOff>!

    /// A shard with its place: hand-offs publish shards in order.
    struct Shard {
        var key: String
        var number: Int
        var appender: ShardAppender
    }

    /// Frames stored, in order, and the shards they went to.
    struct HandOff: @unchecked Sendable {
        var jobs: [FramePipeline.Job]
        var shards: [Shard]
    }

    init(store: FilesystemStore, beforeShardSync: (@Sendable (String) throws -> Void)? = nil,
         enqueueRef: @escaping @Sendable (ImageRefRow) -> Void) {
        self.store = store
        self.enqueueRef = enqueueRef
        self.beforeShardSync = beforeShardSync
        // One thread: publications happen in order. It never throws: a failure is the
        // frames', reported through the pipeline, not a batch to retry.
        publishing = BatchWorker(name: "resonance.publish", threads: 1, schedule: .init(), stackSize: 1 << 20) {
            [weak self] handOffs in self?.publish(handOffs)
        }
    }

    /// The frames `key`'s `zarr.json` publishes, when a frame of it was published.
    func storedLength(of key: String) -> Int? { lock.withLock { published[key]?.shape[0] } }

    /// Forgets the arrays under `prefix` (their files stay).
    func forget(prefix: String) {
        arrays = arrays.filter { !$0.key.hasPrefix(prefix) }
        shards = shards.filter { !$0.key.hasPrefix(prefix) }  // closed once their cached pages are given back
        lock.withLock { published = published.filter { !$0.key.hasPrefix(prefix) } }
    }

    /// After a failure was reported: lets go of the open shards, whose unpublished entries
    /// belong to dropped frames (the next frames reuse those slots, and reopening a shard
    /// clears entries beyond the published shape), and publishes again.
    func resetAfterFailure() {
        shards = [:]
        touched = []
        lock.withLock { failed = false }
    }

    /// Ends the publishing thread (it starts again with the next hand-off). Call once the
    /// pipeline is empty.
    func stop() {
        publishing.end()
    }

    /// Stores a run of consecutive frames (chunk files or shard slots) and hands them to the
    /// publishing thread. Stops at the first error; frames after it are dropped. The outcome
    /// counts only frames not stored; those handed off are reported through ``onPublished``.
    ///
    /// While more frames are coming, hand-offs happen at most every ``metadataInterval``
    /// (``shardedMetadataInterval`` for shards): the frames stored meanwhile wait
    /// (``unpublished``). The last frame in the pipeline is always handed off.
    func write(_ batch: [FramePipeline.Encoded], dropAll: Bool, moreComing: Bool) -> FramePipeline.Outcome {
        var outcome = FramePipeline.Outcome()
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
                let array = arrays[e.job.key] ?? e.job.array
                if array.shardingCodec != nil {
                    // Appended to its shard; indexed (after an fdatasync) by the publishing thread.
                    let (shard, slot) = try shardAppender(for: e.job, array: array)
                    if let bytes { writeback.release(.shard(shard.appender, try shard.appender.append(slot, bytes)), bytes: bytes.count) }
                    if !touched.contains(where: { $0.appender === shard.appender }) { touched.append(shard) }
                    if slot == shard.appender.innerCount - 1 { shards[e.job.key]![shard.number] = nil }
                } else {
                    // Beyond the shape zarr.json publishes until the resize: no reader looks.
                    try array.storeEncodedChunk(at: [e.job.index, 0, 0], bytes, mode: .unpublished)
                    if let bytes { writeback.release(.file(store.describe(array.chunkKey(at: [e.job.index, 0, 0]))), bytes: bytes.count) }
                }
                arrays[e.job.key] = array
                unpublished.append(e.job)
            } catch {
                outcome.failure = FramePipeline.Failure(key: e.job.key, field: e.job.ref.field, index: e.job.index,
                                                        seq: e.job.seq, error: error)
            }
        }
        if unpublished.isEmpty { return outcome }
        let now = DispatchTime.now().uptimeNanoseconds
        let interval = touched.isEmpty ? Self.metadataInterval : Self.shardedMetadataInterval
        if moreComing && !dropAll && outcome.failure == nil && now - lastHandOff < UInt64(interval * 1e9) {
            return outcome
        }
        lastHandOff = now
        publishing.add(HandOff(jobs: unpublished, shards: touched), waitingForRoom: false)
        unpublished = []
        touched = []
        return outcome
    }

    /// The shard that frame `job` goes to, opened on its first frame (and a crashed writer's
    /// index entries beyond the frames the array shows cleared), with the frame's slot in it.
    ///
    /// The published shape may lag behind the frames stored, but not for this shard: it is
    /// opened before any frame of this writer goes to it (or after a failure, with nothing
    /// being published), so entries beyond the published shape are none of this writer's.
    private func shardAppender(for job: FramePipeline.Job, array: ZarrArray) throws -> (Shard, Int) {
        let perShard = array.chunkShape[0]
        let (number, slot) = job.index.quotientAndRemainder(dividingBy: perShard)
        if let open = shards[job.key]?[number] { return (Shard(key: job.key, number: number, appender: open), slot) }
        let shard = try ShardAppender(array: array, shard: [number, 0, 0])
        let shown = storedLength(of: job.key) ?? array.shape[0]
        try shard.discard(from: max(0, shown - number * perShard))
        shards[job.key, default: [:]][number] = shard
        return (Shard(key: job.key, number: number, appender: shard), slot)
    }

    // MARK: Publishing thread

    /// Publishes hand-offs, in order, as one: per array, its shards' `fdatasync` then index
    /// entries (no entry ever points at bytes a power cut could lose), then one `zarr.json`
    /// covering its frames; then the image_refs rows of the arrays published.
    private func publish(_ handOffs: [HandOff]) {
        let jobs = handOffs.flatMap(\.jobs)
        var outcome = FramePipeline.Outcome()
        defer { onPublished?(jobs.count, outcome) }
        if lock.withLock({ failed }) {
            outcome.dropped = jobs.count
            return
        }
        var order: [String] = []
        for job in jobs where !order.contains(job.key) { order.append(job.key) }
        var covered: Set<String> = []
        for key in order {
            let first = jobs.first { $0.key == key }!
            // Frames of an array are stored in index order: the last one is the new length.
            let last = jobs.last { $0.key == key }!.index
            do {
                var seen: Set<ObjectIdentifier> = []
                let shards = handOffs.flatMap(\.shards)
                    .filter { $0.key == key && seen.insert(ObjectIdentifier($0.appender)).inserted }
                    .sorted { $0.number < $1.number }
                for shard in shards {
                    try beforeShardSync?(shard.appender.key)
                    try shard.appender.syncData()
                    try shard.appender.publish()
                }
                var array = lock.withLock { published[key] } ?? first.array
                try array.resize(to: [last + 1, array.shape[1], array.shape[2]])
                lock.withLock { published[key] = array }
                covered.insert(key)
            } catch {
                // The chunks stay, beyond the shape: they are not frames of the array. Frames
                // handed off after this are dropped, as the pipeline drops frames after a failure.
                lock.withLock { failed = true }
                let count = jobs.filter { $0.key == key }.count
                if outcome.failure == nil {
                    outcome.failure = FramePipeline.Failure(key: key, field: first.ref.field, index: first.index,
                                                            seq: first.seq, error: error, dropped: count - 1)
                } else {
                    outcome.failure!.dropped += count
                }
            }
        }
        for job in jobs where covered.contains(job.key) { enqueueRef(job.ref) }
    }
}
