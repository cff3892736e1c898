import NIOPosix
import ServiceLifecycle

/// The threads on which the server calls the blocking core (SQLite, Zarr, the writer).
///
/// Hummingbird's event loops and Swift's cooperative pool must never wait on a file: see
/// the module documentation. Every `Catalog`, `Run`, `FrameSequence`, `DocumentIngestor`
/// and `Index` call a route makes goes through ``run(_:)``.
public final class BlockingPool: Service, Sendable {
    private let pool: NIOThreadPool

    /// A pool of `threads` threads, started now.
    public init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: max(threads, 1))
        pool.start()
    }

    /// Runs `body` on one of the pool's threads and returns its result to the calling task.
    /// Throws `NIOThreadPoolError.ThreadPoolInactive` once the pool is shut down.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    /// As a service of the application: waits for shutdown, then stops the threads. It is
    /// the first service, so it stops last, after the HTTP server and the other services.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Stops the threads after the work queued so far.
    public func shutdown() async throws {
        try await pool.shutdownGracefully()
    }
}
