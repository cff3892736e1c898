import Dispatch
import Foundation

/// Runs `body(0..<count)` on all cores (DispatchQueue.concurrentPerform) and rethrows the
/// first error. Each iteration holds only its own buffers, so the working set is bounded by
/// the number of cores, not by `count`. Once an iteration fails the rest are skipped.
func parallelFor(_ count: Int, _ body: (Int) throws -> Void) throws {
    if count == 0 { return }
    if count == 1 {
        try body(0)
        return
    }
    let failure = FirstError()
    // The iterations write disjoint parts of shared buffers, which Sendable checking cannot
    // express; the box vouches for it.
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: count) { i in
            if failure.isSet { return }
            do {
                try work.value(i)
            } catch {
                failure.record(error)
            }
        }
    }
    if let error = failure.error { throw error }
}

/// Carries a value into a `@Sendable` closure when the caller guarantees safe use.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The first error thrown by any iteration.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?

    func record(_ error: any Error) {
        lock.lock()
        if stored == nil { stored = error }
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stored != nil
    }

    var error: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

/// Per-index results written from parallel iterations.
final class EncodedSlots: @unchecked Sendable {
    private var slots: [[UInt8]?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: [UInt8]?) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    var values: [[UInt8]?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}

/// How many threads one chunk's compressor may use: the cores not busy with other chunks.
///
/// A single large chunk (a detector frame read on its own) is split over all cores by
/// blosc's internal threads; chunks coded side by side (a range of frames decoded in
/// parallel, frames compressed by a writer's workers) get one thread each. Chunks under
/// 1 MiB always use one thread: starting threads would cost more than it saves.
enum CodecThreads {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var active = 0
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    static func run<R>(bytes: Int, _ body: (Int32) throws -> R) rethrows -> R {
        lock.lock()
        active += 1
        let sharing = active
        lock.unlock()
        defer {
            lock.lock()
            active -= 1
            lock.unlock()
        }
        let threads = bytes >= 1 << 20 ? max(1, cores / sharing) : 1
        return try body(Int32(threads))
    }
}
