import Concurrency
import CZstd
import Foundation

/// Reusable zstd contexts. A context keeps its multi-megabyte workspace between chunks,
/// so compressing frame after frame does not pay for fresh allocations and page faults
/// each time. At most one context per concurrent caller is ever created.
final class ZstdContextPool: @unchecked Sendable {
    static let shared = ZstdContextPool()

    private let lock = Lock()
    private var compressors: [OpaquePointer] = []
    private var decompressors: [OpaquePointer] = []
    /// Idle contexts kept beyond this are freed.
    private let keep = max(4, ProcessInfo.processInfo.activeProcessorCount * 2)

    /// Runs `body` with a compression context reset to default parameters.
    func withCompressor<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        try withContext(
            from: \.compressors, make: { ZSTD_createCCtx() },
            reset: { ZSTD_CCtx_reset($0, ZSTD_reset_session_and_parameters) }, free: { ZSTD_freeCCtx($0) },
            orThrow: ZarrError.encodingFailed(chunk: "", codec: "zstd", reason: "cannot allocate a compression context"), body)
    }

    /// Runs `body` with a decompression context.
    func withDecompressor<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        try withContext(
            from: \.decompressors, make: { ZSTD_createDCtx() },
            reset: { ZSTD_DCtx_reset($0, ZSTD_reset_session_and_parameters) }, free: { ZSTD_freeDCtx($0) },
            orThrow: ZarrError.corruptChunk(chunk: "", codec: "zstd", reason: "cannot allocate a decompression context"), body)
    }

    /// Runs `body` with an idle context from `list` (or a new one), and gives it back.
    private func withContext<R>(
        from list: ReferenceWritableKeyPath<ZstdContextPool, [OpaquePointer]>, make: () -> OpaquePointer?,
        reset: (OpaquePointer) -> Int, free: (OpaquePointer) -> Int,
        orThrow failure: @autoclosure () -> ZarrError, _ body: (OpaquePointer) throws -> R
    ) throws -> R {
        let cached = lock.withLock { self[keyPath: list].popLast() }
        guard let context = cached ?? make() else { throw failure() }
        _ = reset(context)
        defer { give(context, to: list, free: { _ = free($0) }) }
        return try body(context)
    }

    private func give(_ context: OpaquePointer, to list: ReferenceWritableKeyPath<ZstdContextPool, [OpaquePointer]>,
                      free: (OpaquePointer) -> Void) {
        lock.lock()
        if self[keyPath: list].count < keep {
            self[keyPath: list].append(context)
            lock.unlock()
        } else {
            lock.unlock()
            free(context)
        }
    }
}
