import Concurrency
import Foundation
import Zarr

/// Frames between the caller and the store: worker threads, one per core, compress frames
/// side by side; the compressed frames are then handed to ``FramePublisher`` strictly in
/// the order they were submitted, by whichever worker finds the next one ready.
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
        var error: any Error
        var dropped = 0
    }

    /// What storing a run of frames came to.
    struct Outcome {
        var failure: Failure?
        var dropped = 0
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
    /// storing a shard pauses for its `fdatasync` (milliseconds, up to 20 times a second),
    /// and at thousands of frames a second a few queued frames would not cover that pause.
    static let smallFramesQueueBytes = 32 << 20

    private let publisher: FramePublisher
    private var workers: BatchWorker<Pending>!

    private let lock = Lock()
    // Guarded by `lock`.
    private var encoded: [Int: Encoded] = [:]
    private var nextSeq = 0
    private var nextToStore = 0
    /// Frames submitted and not yet stored or dropped; their bytes.
    private var queuedFrames = 0
    private var queuedBytes = 0
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

    /// Waits until every submitted frame is stored or dropped (their image_refs rows are
    /// then queued); a failure stays for ``takeFailure()``.
    func waitUntilStored() {
        lock.withLock { while queuedFrames > 0 { lock.wait() } }
    }

    /// The failure of a frame written in the background, once. Waits for the frames still
    /// in the pipeline first (they are dropped), so the failure counts them.
    func takeFailure() -> Failure? {
        lock.withLock {
            guard failure != nil else { return nil }
            while queuedFrames > 0 { lock.wait() }
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
            if failure == nil {
                failure = outcome.failure  // outcome.dropped is 0: nothing was dropped before a failure
            } else {
                failure!.dropped += outcome.dropped + (outcome.failure.map { 1 + $0.dropped } ?? 0)
            }
            wakeCallers()
        }
    }
}
