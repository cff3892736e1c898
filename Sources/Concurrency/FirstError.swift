import Synchronization

/// The first error any of several concurrent tasks threw; later errors are dropped, and
/// tasks not yet started can skip their work once one is kept (``isSet``).
package final class FirstError: Sendable {
    private let stored = Mutex<(any Error)?>(nil)

    package init() {}

    /// Keeps `error` unless an earlier one is kept already.
    package func record(_ error: any Error) {
        stored.withLock { if $0 == nil { $0 = error } }
    }

    package var isSet: Bool { stored.withLock { $0 != nil } }
    package var error: (any Error)? { stored.withLock { $0 } }

    /// Throws the kept error, if any.
    package func rethrow() throws {
        if let error { throw error }
    }
}
