import Concurrency
import Foundation
import Zarr

/// Frames between the caller and the store: worker threads, one per core, compress frames
/// side by side; the compressed frames are then handed to ``FramePublisher`` strictly in
/// the order they were submitted, by whichever worker finds the next one ready. The
/// publisher's own thread then makes stored frames visible (syncs, `zarr.json`, image refs),
/// so storing never waits for a sync; a frame leaves the pipeline once published.
///
/// At most a few frames wait in the pipeline (``maxQueuedFrames``, more of small ones up to
/// ``smallFramesQueueBytes``, ``maxQueuedBytes``): a caller faster than the disk or the
/// codec waits in ``submit(_:encode:)``, so memory stays flat however long the run.
///
/// A frame that cannot be compressed or stored stops the pipeline: it and the frames
/// submitted after it are dropped, and ``takeFailure()`` reports them once.
final class FramePipeline: @unchecked Sendable {
    /// A frame's place: its array, its index there, and its image_refs row.
    struct Job {
        var seq: Int
        var key: String
        var array: ZarrArray
        var index: Int
        var byteCount: Int
        var ref: ImageRefRow
    }

    /// A compressed frame (or its failure), waiting for its turn to be stored.
    struct Encoded {
        var job: Job
        var result: Result<[UInt8]?, any Error>
        var encodedBytes: Int
    }

    /// The first frame that could not be written, and how many were dropped after it.
    struct Failure {
        var key: String
        var field: String
        var index: Int
        /// Its submission number: of two failures, the earlier frame's is reported.
        var seq: Int
        var error: any Error
        var dropped = 0
    }

    /// What storing a run of frames came to.
    struct Outcome {
        var failure: Failure?
        var dropped = 0
        /// Frames not stored or not published.
        var lost: Int { dropped + (failure.map { 1 + $0.dropped } ?? 0) }
    }

    typealias Encode = @Sendable (ZarrArray) throws -> [UInt8]?

    /// A frame handed to a worker; its pixels (held by `encode`) are let go once compressed.
    private final class Pending: @unchecked Sendable {
        let job: Job
        var encode: Encode?
        init(job: Job, encode: @escaping Encode) {
            self.job = job
            self.encode = encode
        }
    }

    /// Frames waiting for or in compression, or compressed and waiting to be stored.
    let maxQueuedFrames: Int
    /// Their pixel and compressed bytes.
    let maxQueuedBytes: Int
    let workerCount: Int
    /// Small frames may queue beyond ``maxQueuedFrames`` while their bytes stay under this:
    /// at thousands of frames a second a few queued frames do not cover a pause of the
    /// storing thread (a page under writeback, a slow `write` while the disk is busy).
    static let smallFramesQueueBytes = 32 << 20

    private let publisher: FramePublisher
    private var workers: BatchWorker<Pending>!

    private let lock = Lock()
    // Guarded by `lock`.
    private var encoded: [Int: Encoded] = [:]
    private var nextSeq = 0
    private var nextToStore = 0
    /// Frames submitted and not yet stored or dropped; their bytes. They bound the memory
    /// the pipeline holds (a frame stored holds none).
    private var queuedFrames = 0
    private var queuedBytes = 0
    /// Frames submitted and not yet published or dropped: what ``waitUntilStored()`` waits
    /// for. Stored frames waiting for their publication stay counted here only.
    private var unfinished = 0
    /// A thread is storing (only one at a time, in submission order).
    private var storing = false
    private var failure: Failure?

    init(publisher: FramePublisher, maxQueuedFrames: Int? = nil, maxQueuedBytes: Int = 256 << 20) {
        self.publisher = publisher
        workerCount = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 16))
        self.maxQueuedFrames = maxQueuedFrames ?? (2 * workerCount + 2)
        self.maxQueuedBytes = maxQueuedBytes
        workers = BatchWorker(
            name: "resonance.frames", threads: workerCount, schedule: .init(maxBatch: 1), stackSize: 1 << 20
        ) { [weak self] frames in
            for frame in frames { self?.compress(frame) }
        }
        publisher.onPublished = { [weak self] frames, outcome in self?.published(frames, outcome) }
    }

    /// Queues a frame for compression and storing; waits while the pipeline is full. Throws
    /// nothing and queues nothing when a failure waits to be reported (returns false).
    func submit(_ job: Job, encode: @escaping Encode) -> Bool {
        lock.lock()
        // Room in the pipeline (a frame larger than the byte budget goes alone).
        while failure == nil && queuedFrames > 0 && queueIsFull(adding: job.byteCount) {
            lock.wait()
        }
        if failure != nil {
            lock.unlock()
            return false
        }
        var job = job
        job.seq = nextSeq
        nextSeq += 1
        queuedFrames += 1
        queuedBytes += job.byteCount
        unfinished += 1
        lock.unlock()
        workers.add(Pending(job: job, encode: encode), waitingForRoom: false)
        return true
    }

    /// Whether a frame of `byteCount` bytes must wait for room (lock held).
    private func queueIsFull(adding byteCount: Int) -> Bool {
        if queuedBytes + byteCount > maxQueuedBytes { return true }
        if queuedFrames < maxQueuedFrames { return false }
        return queuedFrames >= 4096 || queuedBytes + byteCount > Self.smallFramesQueueBytes
    }

    /// Waits until every submitted frame is stored and published, or dropped (their
    /// image_refs rows are then queued); a failure stays for ``takeFailure()``.
    func waitUntilStored() {
        lock.withLock { while unfinished > 0 { lock.wait() } }
    }

    /// The failure of a frame written in the background, once. Waits for the frames still
    /// in the pipeline first (they are dropped), so the failure counts them.
    func takeFailure() -> Failure? {
        lock.withLock {
            guard failure != nil else { return nil }
            while unfinished > 0 { lock.wait() }
            // Nothing is stored or published now: the publisher starts afresh.
            publisher.resetAfterFailure()
            defer { failure = nil }
            return failure
        }
    }

    /// Whether a background failure waits to be reported (cheap; for writeEvent).
    var hasFailure: Bool { lock.withLock { failure != nil } }

    /// Ends the worker threads (they start again with the next frame). Call after
    /// ``waitUntilStored()``.
    func stop() {
        workers.end()
        publisher.stop()
    }

    /// Wakes the callers waiting in `submit`, `waitUntilStored` or `takeFailure`, if any:
    /// only they wait on the lock, and a wake-up per frame would cost a context switch each
    /// at 1,000+ frames/s (lock held).
    private func wakeCallers() {
        if lock.hasWaiters { lock.broadcast() }
    }

    // MARK: Workers

    /// Compresses one frame, then stores every frame that is next in order, if no other
    /// worker is storing.
    private func compress(_ frame: Pending) {
        let job = frame.job
        let skip = lock.withLock { failure != nil }  // dropped anyway: do not spend the CPU
        var result: Result<[UInt8]?, any Error> = .success(nil)
        if !skip, let encode = frame.encode { result = Result { try encode(job.array) } }
        frame.encode = nil  // the pixels are released here
        let size = (try? result.get())??.count ?? 0
        lock.lock()
        queuedBytes += size - job.byteCount
        encoded[job.seq] = Encoded(job: job, result: result, encodedBytes: size)
        if !storing && encoded[nextToStore] != nil {
            storing = true
            storeReady()
            storing = false
        }
        wakeCallers()
        lock.unlock()
    }

    /// Stores every frame that is next in order and compressed, in order. Called with the
    /// lock held and `storing` set; releases the lock during I/O.
    private func storeReady() {
        while encoded[nextToStore] != nil {
            var batch: [Encoded] = []
            while let next = encoded.removeValue(forKey: nextToStore) {
                batch.append(next)
                nextToStore += 1
            }
            let failedBefore = failure != nil
            let moreComing = queuedFrames > batch.count
            lock.unlock()
            let outcome = publisher.write(batch, dropAll: failedBefore, moreComing: moreComing)
            lock.lock()
            queuedFrames -= batch.count
            queuedBytes -= batch.reduce(0) { $0 + $1.encodedBytes }
            unfinished -= outcome.lost  // the frames stored are finished once published
            record(outcome)
            wakeCallers()
        }
    }

    /// Frames handed to the publisher are published or dropped (on its thread).
    private func published(_ frames: Int, _ outcome: Outcome) {
        lock.withLock {
            unfinished -= frames
            record(outcome)
            wakeCallers()
        }
    }

    /// Keeps an outcome's failure, or adds its frames to the failure kept: the earlier
    /// frame's failure is reported, the other's frames counted in it (a publication can
    /// fail after a later frame failed to be stored). Lock held.
    private func record(_ outcome: Outcome) {
        guard let new = outcome.failure else {
            failure?.dropped += outcome.dropped  // nothing is dropped but after a failure
            return
        }
        guard let old = failure else {
            failure = new
            failure!.dropped += outcome.dropped
            return
        }
        if new.seq < old.seq {
            failure = new
            failure!.dropped += outcome.dropped + 1 + old.dropped
        } else {
            failure!.dropped += outcome.lost
        }
    }
}
