import Foundation

/// A mutex with a condition: the lock for state that is more than one value, or that
/// threads wait on (``wait()``, ``wait(until:)``). For a single value that nobody waits on,
/// use `Synchronization.Mutex` instead.
///
/// Not recursive: taking it twice on one thread deadlocks, so a re-entry is a bug seen at
/// once rather than a hidden one.
package final class Lock: @unchecked Sendable {
    private let condition = NSCondition()
    /// Threads in ``wait()`` or ``wait(until:)`` (guarded by the lock).
    private var waiting = 0

    package init() {}

    package func lock() { condition.lock() }
    package func unlock() { condition.unlock() }

    /// Runs `body` with the lock held.
    @inline(__always)
    package func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    /// Releases the lock, waits for a ``signal()`` or ``broadcast()``, and takes it again
    /// (lock held). Callers re-check what they wait for: wake-ups may be spurious.
    package func wait() {
        waiting += 1
        condition.wait()
        waiting -= 1
    }

    /// As ``wait()``, but returns by `date` at the latest; false when the time ran out.
    @discardableResult
    package func wait(until date: Date) -> Bool {
        waiting += 1
        defer { waiting -= 1 }
        return condition.wait(until: date)
    }

    /// Whether a thread waits (lock held): a thread that changed what others wait for need
    /// not wake anyone otherwise, which saves a system call per change.
    package var hasWaiters: Bool { waiting > 0 }

    /// Wakes one waiting thread (lock held).
    package func signal() { condition.signal() }

    /// Wakes every waiting thread (lock held).
    package func broadcast() { condition.broadcast() }
}
