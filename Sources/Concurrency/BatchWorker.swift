import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Items queued by callers and processed in batches by background threads: the one shape
/// of every background loop in the writer. A thread waits until a batch is due, takes it,
/// processes it without the lock, and on a failure puts it back in front of what was queued
/// meanwhile, so nothing is lost and the order holds.
///
/// When a batch is due (``Schedule``): at once for a ``flush()``; when ``Schedule/eagerCount``
/// items are queued; when the oldest has waited ``Schedule/delay``; after a failure, one
/// `delay` later. After ``Schedule/automaticAttempts`` failures in a row the worker is
/// *stalled*: its threads make no attempt of their own until a ``flush()`` (the caller's
/// retry) succeeds.
///
/// Failures reach the caller through ``takeFailure()``: a failure once, a stall every time.
/// A failure that healed (a later attempt committed everything) before it was taken is
/// dropped: nothing was lost, so reporting it would say otherwise.
///
/// The threads start with the first item and end in ``stop()`` or ``abandon()``; the worker
/// can be used again after either.
package final class BatchWorker<Item: Sendable>: @unchecked Sendable {
    /// When batches are due, how large they get, and how failures are retried.
    package struct Schedule: Sendable {
        /// Longest time the oldest queued item waits for its batch (0: at once); also the
        /// wait before a failed batch is tried again.
        package var delay: TimeInterval
        /// Queued items that make a batch due before ``delay`` is up.
        package var eagerCount: Int
        /// Most items one batch takes.
        package var maxBatch: Int
        /// Queued items at which ``add(_:waitingForRoom:)`` waits for the threads to take them.
        package var capacity: Int
        /// Failed attempts in a row after which the threads stop trying on their own.
        package var automaticAttempts: Int

        package init(delay: TimeInterval = 0, eagerCount: Int = 1, maxBatch: Int = .max,
                     capacity: Int = .max, automaticAttempts: Int = 3) {
            self.delay = delay
            self.eagerCount = max(1, eagerCount)
            self.maxBatch = max(1, maxBatch)
            self.capacity = max(1, capacity)
            self.automaticAttempts = max(1, automaticAttempts)
        }
    }

    /// What ``takeFailure()`` reports.
    package enum Failure: Error {
        /// A batch failed; it is queued again.
        case failed(any Error)
        /// ``Schedule/automaticAttempts`` batches failed in a row (the last one's error);
        /// only a ``flush()`` tries again.
        case stalled(any Error)

        package var error: any Error {
            switch self {
            case .failed(let error), .stalled(let error): return error
            }
        }
    }

    package let name: String
    package let threadCount: Int
    package let schedule: Schedule
    private let stackSize: Int?
    private let process: @Sendable ([Item]) throws -> Void

    private let lock = Lock()
    // Guarded by `lock`.
    /// Queued items from `head` on; taken slots are nil, so a taken item is not kept alive.
    private var queue: [Item?] = []
    private var head = 0
    private var oldestQueued: Date?
    /// Batches being processed, by batch number.
    private var inFlight: [Int: [Item]] = [:]
    private var inFlightCount = 0
    private var batchNumber = 0
    private var flushRequests = 0
    /// An attempt made for the flushes now waiting failed: they end, and make no more.
    private var flushAttemptFailed = false
    private var callersWaiting = 0
    private var failure: (any Error)?
    private var lastError: (any Error)?
    private var failedAttempts = 0
    private var failuresInARow = 0
    private var retryAt: Date?
    private var stalled = false
    private var threadsRunning = 0
    private var stopping = false
    private var abandoned = false

    /// A worker whose `threads` threads hand each batch to `process`; a batch for which it
    /// throws is kept and tried again.
    package init(name: String, threads: Int = 1, schedule: Schedule, stackSize: Int? = nil,
                 process: @escaping @Sendable ([Item]) throws -> Void) {
        self.name = name
        self.threadCount = max(1, threads)
        self.schedule = schedule
        self.stackSize = stackSize
        self.process = process
    }

    // MARK: Callers

    /// Queues `item`. With `waitingForRoom`, waits while ``Schedule/capacity`` items are
    /// queued (backpressure: a caller faster than the threads waits rather than piling up
    /// items); the wait ends early when a batch fails or the worker stops.
    package func add(_ item: Item, waitingForRoom: Bool = true) {
        add(CollectionOfOne(item), waitingForRoom: waitingForRoom)
    }

    /// Queues `items`, in order; see ``add(_:waitingForRoom:)``.
    package func add(_ items: some Collection<Item>, waitingForRoom: Bool = true) {
        if items.isEmpty { return }
        lock.lock()
        defer { lock.unlock() }
        let before = queued
        if before == 0 { oldestQueued = Date() }
        for item in items { queue.append(item) }
        startThreadsIfNeeded()
        // Wake a thread only when this makes a batch due or ends its untimed sleep: at
        // thousands of items a second, a wake-up per item would cost a context switch each.
        if before == 0 || schedule.delay == 0 || (before < schedule.eagerCount && queued >= schedule.eagerCount) {
            wake()
        }
        while waitingForRoom && queued >= schedule.capacity && failure == nil && !stalled && !stopping {
            callerWait()
        }
    }

    /// Items queued and not yet taken by a thread.
    package var queuedCount: Int { lock.withLock { queued } }

    /// The same, lock held.
    private var queued: Int { queue.count - head }

    /// Items queued or being processed.
    package var count: Int { lock.withLock { queued + inFlightCount } }

    /// Whether a queued item or one being processed satisfies `predicate` (the newest
    /// items are looked at first).
    package func contains(where predicate: (Item) -> Bool) -> Bool {
        lock.withLock {
            if queue[head...].reversed().contains(where: { $0.map(predicate) ?? false }) { return true }
            return inFlight.values.contains { $0.reversed().contains(where: predicate) }
        }
    }

    /// The failure the caller has to hear of: a failed batch once, a stall every time,
    /// until a ``flush()`` succeeds. Nil when there is none.
    package func takeFailure() -> Failure? {
        lock.withLock {
            if let error = failure {
                failure = nil
                return .failed(error)
            }
            if stalled, let error = lastError { return .stalled(error) }
            return nil
        }
    }

    /// Whether a failure waits for ``takeFailure()`` (cheap).
    package var hasFailure: Bool { lock.withLock { failure != nil || stalled } }

    /// Processes everything queued now, also when the worker had stalled, and waits for
    /// it: the caller's retry. Returns when everything was processed; throws the error of
    /// the first attempt that failed meanwhile (the items stay queued). Each call makes at
    /// least one attempt when something is queued, so it returns within one attempt.
    package func flush() throws {
        lock.lock()
        defer { lock.unlock() }
        failure = nil
        stalled = false
        retryAt = nil
        let failedBefore = failedAttempts
        flushRequests += 1
        flushAttemptFailed = false
        defer { flushRequests -= 1 }
        if queued > 0 { startThreadsIfNeeded() }
        lock.broadcast()
        while queued + inFlightCount > 0 && failedAttempts == failedBefore && threadsRunning > 0 {
            callerWait()
        }
        if queued + inFlightCount == 0 {
            // Everything asked for is processed, even if an attempt failed on the way.
            failure = nil
            return
        }
        failure = nil
        throw lastError ?? WorkerStopped(name: name)
    }

    /// Processes what is queued (``flush()``), then ends the threads. When that fails the
    /// threads go on and the items stay queued, so the caller can retry.
    package func stop() throws {
        try flush()
        end()
    }

    /// Ends the threads without processing what is queued: for an owner going away after
    /// its last attempt failed. The queued items are dropped.
    package func abandon() {
        lock.withLock { abandoned = true }
        end()
        lock.withLock {
            queue.removeAll()
            head = 0
            oldestQueued = nil
            abandoned = false
        }
    }

    /// Ends the threads and waits for them: at once when the queue is empty (or the worker
    /// abandoned), else after one more attempt at what is queued.
    package func end() {
        lock.lock()
        stopping = true
        lock.broadcast()
        while threadsRunning > 0 { callerWait() }
        stopping = false
        lock.unlock()
    }

    // MARK: Threads

    /// Threads waiting in `add`, `flush` or `end` (lock held): the worker threads wake
    /// them only then.
    private func callerWait() {
        callersWaiting += 1
        lock.wait()
        callersWaiting -= 1
    }

    /// Wakes a worker thread; every thread when callers wait too, so that a signal does
    /// not go to a caller instead (lock held).
    private func wake() {
        if callersWaiting > 0 || threadCount > 1 && queued > 1 {
            lock.broadcast()
        } else {
            lock.signal()
        }
    }

    private func startThreadsIfNeeded() {
        guard threadsRunning == 0, !stopping else { return }
        for n in 0..<threadCount {
            threadsRunning += 1
            // The threads keep the worker alive until stop() or abandon() lets them end.
            let threadName = threadCount == 1 ? name : "\(name).\(n)"
            let thread = Thread {
                Self.nameSystemThread(threadName)
                self.run()
            }
            thread.name = threadName
            if let stackSize { thread.stackSize = stackSize }
            thread.start()
        }
    }

    /// Names the calling thread for the system too (`top -H`, `perf report --sort comm`,
    /// `/proc/<pid>/task/*/comm`), which allows 15 bytes: "resonance." is dropped and the
    /// rest cut to fit ("frames.0", "publish", "committer"). Foundation's `Thread.name`
    /// keeps the full name but does not reach the system when it is longer.
    static func nameSystemThread(_ name: String) {
        #if os(Linux)
        var short = name.hasPrefix("resonance.") ? String(name.dropFirst(10)) : name
        while short.utf8.count > 15 { short.removeFirst() }
        // pthread_setname_np is not in Glibc's Swift module; this is what it does on Linux.
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = short.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        #endif
    }

    /// When the next batch is due: now, at a time, or nil when only an event can make it
    /// due (lock held).
    private func due() -> Date? {
        guard queued > 0 else { return nil }
        if flushRequests > 0 && !flushAttemptFailed { return Date.distantPast }
        if stalled { return nil }
        if let retryAt { return retryAt }
        if queued >= schedule.eagerCount { return Date.distantPast }
        return (oldestQueued ?? Date()).addingTimeInterval(schedule.delay)
    }

    private func run() {
        lock.lock()
        while true {
            // Sleep until a batch is due or the worker stops.
            while !stopping {
                guard let time = due() else {
                    lock.wait()
                    continue
                }
                if time <= Date() { break }
                lock.wait(until: time)
            }
            if queued == 0 || (stopping && abandoned) { break }
            let batch = take()
            batchNumber += 1
            let number = batchNumber
            inFlight[number] = batch
            inFlightCount += batch.count
            lock.unlock()
            let result = Result { try process(batch) }
            lock.lock()
            inFlight[number] = nil
            inFlightCount -= batch.count
            switch result {
            case .success:
                failuresInARow = 0
                retryAt = nil
                // A failure that healed before the caller heard of it lost nothing.
                if queued + inFlightCount == 0 { failure = nil }
            case .failure(let error):
                // Keep the items, in order, ahead of anything queued meanwhile.
                putBack(batch)
                if flushRequests > 0 { flushAttemptFailed = true }
                failure = error
                lastError = error
                failedAttempts += 1
                failuresInARow += 1
                if failuresInARow >= schedule.automaticAttempts {
                    stalled = true
                    retryAt = nil
                } else {
                    retryAt = Date().addingTimeInterval(schedule.delay)
                }
            }
            if callersWaiting > 0 { lock.broadcast() }
            // An owner going away stops at a failure: its items cannot be processed.
            if stopping, case .failure = result { break }
        }
        threadsRunning -= 1
        lock.broadcast()
        lock.unlock()
    }

    /// Takes the next batch off the queue (lock held).
    private func take() -> [Item] {
        let end = head + min(queued, schedule.maxBatch)
        var batch: [Item] = []
        batch.reserveCapacity(end - head)
        for k in head..<end {
            batch.append(queue[k]!)
            queue[k] = nil
        }
        head = end
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
            oldestQueued = nil
        } else {
            if head >= 64 {
                queue.removeFirst(head)
                head = 0
            }
            oldestQueued = Date()
        }
        return batch
    }

    /// Puts a failed batch back in front of the queue (lock held).
    private func putBack(_ batch: [Item]) {
        if head >= batch.count {
            for (k, item) in batch.enumerated() { queue[head - batch.count + k] = item }
            head -= batch.count
        } else {
            queue.replaceSubrange(0..<head, with: batch.map(Optional.some))
            head = 0
        }
        oldestQueued = Date()
    }
}

/// The worker's threads ended with items they could not process (it was abandoned).
package struct WorkerStopped: Error, CustomStringConvertible {
    package var name: String
    package var description: String { "the \(name) thread has stopped" }
}
