import Concurrency
import Foundation
import Synchronization
import Testing

@Suite("Concurrency helpers")
struct HelperTests {
    struct Failure: Error, Equatable { var index: Int }

    @Test func parallelForRunsEveryIteration() throws {
        let slots = Slots<Int>(count: 100)
        try parallelFor(100) { k in slots[k] = k * k }
        #expect(slots.filled == (0..<100).map { $0 * $0 })
    }

    @Test func parallelForRethrowsAFailureAndSkipsLaterWork() {
        let counter = Counter()
        #expect(throws: Failure.self) {
            try parallelFor(10_000) { k in
                _ = counter.increment()
                if k == 3 { throw Failure(index: k) }
                Thread.sleep(forTimeInterval: 0.0001)
            }
        }
        #expect(counter.count < 10_000)
    }

    @Test func parallelForWritesDisjointPartsOfABuffer() throws {
        let buffer = UnsafeMutableBufferPointer<Int>.allocate(capacity: 1_000)
        defer { buffer.deallocate() }
        try parallelFor(1_000) { k in buffer[k] = k }
        #expect(Array(buffer) == Array(0..<1_000))
    }

    @Test func firstErrorKeepsTheFirst() {
        let first = FirstError()
        #expect(!first.isSet)
        first.record(Failure(index: 1))
        first.record(Failure(index: 2))
        #expect(first.error as? Failure == Failure(index: 1))
        #expect(throws: Failure(index: 1)) { try first.rethrow() }
    }

    @Test func counterCountsConcurrentIncrements() throws {
        let counter = Counter()
        try parallelFor(1_000) { _ in _ = counter.increment() }
        #expect(counter.count == 1_000)
    }

    @Test func lockWaitsUntilSignalled() {
        let lock = Lock()
        let box = UncheckedSendable(Flag())
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.05)
            lock.withLock {
                box.value.set = true
                lock.broadcast()
            }
        }
        lock.withLock {
            while !box.value.set { lock.wait() }
        }
        #expect(box.value.set)
        #expect(lock.withLock { lock.wait(until: Date().addingTimeInterval(0.01)) } == false)
    }

    final class Flag { var set = false }

    final class Running: Sendable {
        let state = Mutex((now: 0, most: 0))
    }

    @Test func blockingPoolRunsBodiesOffTheCallersThread() async throws {
        let pool = BlockingPool(threads: 2, name: "test.blocking")
        let running = Running()
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for k in 0..<20 {
                group.addTask {
                    try await pool.run {
                        running.state.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                        Thread.sleep(forTimeInterval: 0.01)
                        running.state.withLock { $0.now -= 1 }
                        return k
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.sorted() == Array(0..<20))
        #expect(running.state.withLock { $0.most } <= 2)  // the pool's two threads, no more
        await #expect(throws: Failure.self) { try await pool.run { throw Failure(index: 0) } }
    }
}
