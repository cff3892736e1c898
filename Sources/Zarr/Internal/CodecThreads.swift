import Foundation
import Synchronization

/// How many threads one chunk's compressor may use: the cores not busy with other chunks.
///
/// A single large chunk (a detector frame read on its own) is split over all cores by
/// blosc's internal threads; chunks coded side by side (a range of frames decoded in
/// parallel, frames compressed by a writer's workers) get one thread each. Chunks under
/// 1 MiB always use one thread: starting threads would cost more than it saves.
enum CodecThreads {
    private static let active = Atomic<Int>(0)
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    static func run<R>(bytes: Int, _ body: (Int32) throws -> R) rethrows -> R {
        let sharing = active.wrappingAdd(1, ordering: .relaxed).newValue
        defer { active.wrappingSubtract(1, ordering: .relaxed) }
        let threads = bytes >= 1 << 20 ? max(1, cores / sharing) : 1
        return try body(Int32(threads))
    }
}
