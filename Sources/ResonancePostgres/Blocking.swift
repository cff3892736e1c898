import Dispatch
import Concurrency
import Foundation
import NIOCore
import NIOPosix

/// The bridge from the synchronous index API to PostgresNIO's async one.
///
/// **The rule:** ``wait(_:)`` blocks the calling thread until `body` has finished. `body`
/// runs on threads of its own (``executor``, a task executor preferred by the task) and its
/// I/O on an event loop of its own (``eventLoopGroup``), so no caller's thread is needed to
/// finish it: a plain thread, a Dispatch queue, and also a Swift-concurrency task (as Swift
/// Testing runs tests) may call it without deadlocking, though blocking a task's thread
/// takes it from Swift's small pool while it waits. Never call it on a NIO event loop
/// thread (checked with a precondition) or from inside `body` (it would wait for itself).
/// Async code should use PostgresNIO directly.
enum Blocking {
    /// One event loop thread for every PostgreSQL index connection of this process.
    static let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// Where the bodies run (two threads: they only ever wait on I/O).
    static let executor = ThreadExecutor(threads: 2)

    static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        precondition(
            MultiThreadedEventLoopGroup.currentEventLoop == nil,
            "a blocking PostgreSQL index call on a NIO event loop thread would deadlock: call it from a plain thread")
        let result = Slots<Result<T, any Error>>(count: 1)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            do { result[0] = .success(try await body()) } catch { result[0] = .failure(error) }
            done.signal()
        }
        done.wait()
        return try result[0]!.get()
    }
}

/// A task executor on dedicated threads, so blocking bridges never need Swift's
/// cooperative pool (which a blocked caller may be occupying).
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    /// Set once, in `init`.
    private var threads: BatchWorker<UnownedJob>!

    init(threads count: Int) {
        threads = BatchWorker(name: "resonance.postgres", threads: count, schedule: .init(maxBatch: 1)) { [unowned self] jobs in
            for job in jobs { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        threads.add(UnownedJob(job))
    }
}
