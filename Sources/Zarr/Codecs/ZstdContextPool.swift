import CZstd
import Foundation

/// Reusable zstd contexts. A context keeps its multi-megabyte workspace between chunks,
/// so compressing frame after frame does not pay for fresh allocations and page faults
/// each time. At most one context per concurrent caller is ever created.
final class ZstdContextPool: @unchecked Sendable {
    static let shared = ZstdContextPool()

    private let lock = NSLock()
    private var compressors: [OpaquePointer] = []
    private var decompressors: [OpaquePointer] = []
    /// Idle contexts kept beyond this are freed.
    private let keep = max(4, ProcessInfo.processInfo.activeProcessorCount * 2)

    /// Runs `body` with a compression context reset to default parameters.
    func withCompressor<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        lock.lock()
        let cached = compressors.popLast()
        lock.unlock()
        guard let context = cached ?? ZSTD_createCCtx() else {
            throw ZarrError.encodingFailed(chunk: "", codec: "zstd", reason: "cannot allocate a compression context")
        }
        ZSTD_CCtx_reset(context, ZSTD_reset_session_and_parameters)
        defer { give(context, to: \.compressors, free: { ZSTD_freeCCtx($0) }) }
        return try body(context)
    }

    /// Runs `body` with a decompression context.
    func withDecompressor<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        lock.lock()
        let cached = decompressors.popLast()
        lock.unlock()
        guard let context = cached ?? ZSTD_createDCtx() else {
            throw ZarrError.corruptChunk(chunk: "", codec: "zstd", reason: "cannot allocate a decompression context")
        }
        ZSTD_DCtx_reset(context, ZSTD_reset_session_and_parameters)
        defer { give(context, to: \.decompressors, free: { ZSTD_freeDCtx($0) }) }
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
