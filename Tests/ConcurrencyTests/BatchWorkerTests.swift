import Concurrency
import Foundation
import Synchronization
import Testing

/// What a test's process closure saw, and whether it should fail.
private final class Probe: Sendable {
    let batches = Mutex<[[Int]]>([])
    let failing = Mutex(false)
    let delay = Mutex<TimeInterval>(0)

    func process(_ batch: [Int]) throws {
        let pause = delay.withLock { $0 }
        if pause > 0 { Thread.sleep(forTimeInterval: pause) }
        if failing.withLock({ $0 }) { throw ProbeError(batch: batch) }
        batches.withLock { $0.append(batch) }
    }

    var processed: [Int] { batches.withLock { $0.flatMap { $0 } } }
    var batchCount: Int { batches.withLock { $0.count } }
}

private struct ProbeError: Error, Equatable {
    var batch: [Int]
}

/// Waits up to `seconds` for `condition`.
private func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.005)
    }
    return condition()
}

@Suite("BatchWorker")
struct BatchWorkerTests {
    /// `top -H` and `perf` show the worker's threads by a name that fits the system's 15 bytes.
    @Test func threadsCarryTheirNameForTheSystem() throws {
        let names = Mutex<Set<String>>([])
        let worker = BatchWorker<Int>(name: "resonance.publishing-frames", threads: 2, schedule: .init(maxBatch: 1)) { _ in
            let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "?"
            names.withLock { _ = $0.insert(name.trimmingCharacters(in: .newlines)) }
            Thread.sleep(forTimeInterval: 0.05)  // so both threads take one
        }
        for n in 0..<4 { worker.add(n) }
        worker.end()
        // "publishing-frames.0" is 19 bytes: the start goes, the thread's number stays.
        #expect(names.withLock { $0 } == ["ishing-frames.0", "ishing-frames.1"])
    }

    @Test func itemsWaitForTheDelayAndComeInOneBatchInOrder() throws {
        let probe = Probe()
        let worker = BatchWorker<Int>(name: "test", schedule: .init(delay: 0.2, eagerCount: 1_000)) { try probe.process($0) }
        let start = Date()
        for k in 0..<10 { worker.add(k) }
        #expect(probe.batchCount == 0)
        #expect(eventually { probe.batchCount == 1 })
        #expect(Date().timeIntervalSince(start) >= 0.19)
        #expect(probe.processed == Array(0..<10))
        try worker.stop()
    }

    @Test func aFullBatchIsDueAtOnce() throws {
        let probe = Probe()
        let worker = BatchWorker<Int>(name: "test", schedule: .init(delay: 60, eagerCount: 5)) { try probe.process($0) }
        for k in 0..<5 { worker.add(k) }
        #expect(eventually { probe.processed == Array(0..<5) })
        try worker.stop()
    }

    @Test func flushProcessesAtOnceAndWaits() throws {
        let probe = Probe()
        let worker = BatchWorker<Int>(name: "test", schedule: .init(delay: 60, eagerCount: 1_000)) { try probe.process($0) }
        for k in 0..<3 { worker.add(k) }
        try worker.flush()
        #expect(probe.processed == [0, 1, 2])
        #expect(worker.count == 0)
        try worker.stop()
    }

    @Test func aFailedBatchIsKeptRetriedThenStallsUntilAFlushSucceeds() throws {
        let probe = Probe()
        probe.failing.withLock { $0 = true }
        let worker = BatchWorker<Int>(name: "test", schedule: .init(delay: 0.05, eagerCount: 1, automaticAttempts: 3)) { try probe.process($0) }
        worker.add(1)
        // Three attempts, one delay apart, then a stall: reported as a failure once, then as a stall every time.
        #expect(eventually { if case .stalled? = worker.takeFailure() { return true } else { return false } })
        guard case .stalled(let error)? = worker.takeFailure() else {
            Issue.record("expected a stall")
            return
        }
        #expect(error as? ProbeError == ProbeError(batch: [1]))
        Thread.sleep(forTimeInterval: 0.2)
        #expect(probe.batchCount == 0)  // no attempts of its own while stalled
        #expect(worker.queuedCount == 1)
        worker.add(2)
        // The caller's retry fails within one attempt and keeps the items, in order.
        #expect(throws: ProbeError.self) { try worker.flush() }
        #expect(worker.queuedCount == 2)
        probe.failing.withLock { $0 = false }
        try worker.flush()
        #expect(probe.processed == [1, 2])
        #expect(worker.takeFailure() == nil)
        try worker.stop()
    }

    @Test func aFailureThatHealsBeforeItIsTakenIsNotReported() throws {
        let probe = Probe()
        probe.failing.withLock { $0 = true }
        let worker = BatchWorker<Int>(name: "test", schedule: .init(delay: 0.05, eagerCount: 1, automaticAttempts: 5)) { try probe.process($0) }
        worker.add(1)
        #expect(eventually { worker.hasFailure })
        probe.failing.withLock { $0 = false }
        #expect(eventually { probe.processed == [1] })
        #expect(worker.takeFailure() == nil)
        try worker.stop()
    }

    @Test func aFailureIsReportedOnce() throws {
        let probe = Probe()
        probe.failing.withLock { $0 = true }
        let worker = BatchWorker<Int>(name: "test", schedule: .init(delay: 10, eagerCount: 1, automaticAttempts: 3)) { try probe.process($0) }
        worker.add(1)
        #expect(eventually { worker.hasFailure })
        guard case .failed? = worker.takeFailure() else {
            Issue.record("expected a failure")
            return
        }
        #expect(worker.takeFailure() == nil)
        worker.abandon()
    }

    @Test func addWaitsForRoom() throws {
        let probe = Probe()
        probe.delay.withLock { $0 = 0.1 }
        let worker = BatchWorker<Int>(name: "test", schedule: .init(delay: 0, eagerCount: 1, maxBatch: 1, capacity: 2)) { try probe.process($0) }
        let start = Date()
        for k in 0..<6 { worker.add(k) }
        // Six items, two queued at most, 0.1 s each: the caller waited for at least three.
        #expect(Date().timeIntervalSince(start) >= 0.25)
        try worker.stop()
        #expect(probe.processed == Array(0..<6))
    }

    @Test func abandonDropsWhatIsQueuedAndReturns() throws {
        let probe = Probe()
        probe.failing.withLock { $0 = true }
        let worker = BatchWorker<Int>(name: "test", schedule: .init(delay: 0.01, eagerCount: 1, automaticAttempts: 1)) { try probe.process($0) }
        worker.add(1)
        #expect(eventually { if case .stalled? = worker.takeFailure() { return true } else { return false } })
        #expect(throws: ProbeError.self) { try worker.stop() }
        worker.abandon()
        #expect(worker.count == 0)
    }

    @Test func containsSeesQueuedAndInFlightItems() throws {
        let probe = Probe()
        probe.delay.withLock { $0 = 0.3 }
        let worker = BatchWorker<Int>(name: "test", schedule: .init(delay: 0, eagerCount: 1, maxBatch: 1)) { try probe.process($0) }
        worker.add(7)
        worker.add(8)
        #expect(eventually { worker.queuedCount == 1 })  // 7 in flight, 8 queued
        #expect(worker.contains { $0 == 7 })
        #expect(worker.contains { $0 == 8 })
        #expect(!worker.contains { $0 == 9 })
        try worker.stop()
    }

    @Test func severalThreadsProcessEveryItemOnce() throws {
        let probe = Probe()
        let worker = BatchWorker<Int>(name: "test", threads: 4, schedule: .init(maxBatch: 1)) { try probe.process($0) }
        for k in 0..<1_000 { worker.add(k) }
        try worker.stop()
        #expect(probe.processed.sorted() == Array(0..<1_000))
        // Usable again after stop: the threads start with the next item.
        worker.add(1_000)
        try worker.stop()
        #expect(probe.processed.count == 1_001)
    }
}

extension BatchWorker.Failure: Equatable {
    package static func == (a: Self, b: Self) -> Bool { "\(a)" == "\(b)" }
}
