import Foundation
import GRDB
import Synchronization
@_exported import TestSupport

/// A read-only look into a database file, for assertions.
func inspect<T>(_ path: String, _ body: (Database) throws -> T) throws -> T {
    var config = Configuration()
    config.readonly = true
    let queue = try DatabaseQueue(path: path, configuration: config)
    defer { try? queue.close() }
    return try queue.read(body)
}

/// A call that did not return within its time limit.
struct TimedOut: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "did not return within \(seconds) s" }
}

/// Runs `body` on a thread of its own and waits for it at most `seconds`: a call that used
/// to hang fails the test instead of stopping the suite.
func withinTime<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let finished = DispatchSemaphore(value: 0)
    let thread = Thread {
        let outcome = Result { try body() }
        result.withLock { $0 = outcome }
        finished.signal()
    }
    thread.start()
    guard finished.wait(timeout: .now() + seconds) == .success else { throw TimedOut(seconds: seconds) }
    return try result.withLock { $0! }.get()
}
