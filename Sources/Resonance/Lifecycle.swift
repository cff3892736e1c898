import Synchronization

/// The state behind an ``Openable`` object: not opened yet, open with its resource (a
/// database queue, a connection), or closed. One lock guards it, so `open()` and `close()`
/// may race with readers on other threads.
package final class Lifecycle<Resource: Sendable>: Sendable {
    private enum State: Sendable {
        case unopened
        case open(Resource)
        case closed
    }

    private let state = Mutex(State.unopened)

    /// Makes the resource unless it is open already (opening twice does nothing).
    /// `make` runs under the lock, so two threads opening at once make one resource.
    package init() {}

    package func open(_ make: () throws -> Resource) throws {
        try state.withLock { state in
            if case .open = state { return }
            state = .open(try make())
        }
    }

    /// The open resource, or `notOpen` / `closed`.
    package func resource(notOpen: @autoclosure () -> any Error, closed: @autoclosure () -> any Error) throws -> Resource {
        let current = state.withLock { state -> Resource? in
            if case .open(let resource) = state { return resource }
            return nil
        }
        if let current { return current }
        throw isClosed ? closed() : notOpen()
    }

    /// Marks the object closed and hands back the resource to release, if it was open.
    package func close() -> Resource? {
        state.withLock { state in
            guard case .open(let resource) = state else { return nil }
            state = .closed
            return resource
        }
    }

    /// Whether the object was opened and closed since.
    package var isClosed: Bool {
        state.withLock { if case .closed = $0 { true } else { false } }
    }
}
