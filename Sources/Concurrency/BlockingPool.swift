import Foundation

/// Threads of its own for blocking calls made from async code.
///
/// The core (`RunWriter`, `Catalog`, the index) blocks: on SQLite, on the disk, on its
/// own background threads. Async code, and above all a server's event loop, must not call
/// it directly: a blocked event loop stops every connection it serves, and a blocked task
/// takes a thread from Swift's small cooperative pool. It awaits ``run(_:)`` instead, which
/// runs the call on one of these threads and resumes the caller when it is done.
///
/// ```swift
/// let runs = try await BlockingPool.shared.run { try catalog.recent(20) }
/// ```
package final class BlockingPool: Sendable {
    /// A pool for the process: a thread per core, at least four (the calls mostly wait).
    package static let shared = BlockingPool(threads: max(4, ProcessInfo.processInfo.activeProcessorCount))

    private let threads: BatchWorker<@Sendable () -> Void>

    /// A pool of `threads` threads, started with the first call.
    package init(threads: Int, name: String = "resonance.blocking") {
        self.threads = BatchWorker(name: name, threads: threads, schedule: .init(maxBatch: 1)) { jobs in
            for job in jobs { job() }
        }
    }

    /// Runs `body` on one of the pool's threads and returns what it returns; at most
    /// `threads` bodies run at once, the others wait their turn in order.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            threads.add { continuation.resume(with: Result { try body() }) }
        }
    }
}
