import Synchronization

/// One result slot per index, filled by concurrent iterations (each writes its own slots).
package final class Slots<Value: Sendable>: Sendable {
    private let storage: Mutex<[Value?]>

    package init(count: Int) { storage = Mutex(Array(repeating: nil, count: count)) }

    package subscript(index: Int) -> Value? {
        get { storage.withLock { $0[index] } }
        set { storage.withLock { $0[index] = newValue } }
    }

    /// Every slot, nil where nothing was written.
    package var values: [Value?] { storage.withLock { $0 } }

    /// Every slot's value; each must have been written.
    package var filled: [Value] { storage.withLock { $0.map { $0! } } }
}

/// A count that concurrent tasks increase, e.g. finished items for a progress line.
package final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    package init() {}

    /// Adds one and returns the new count.
    package func increment() -> Int { value.wrappingAdd(1, ordering: .relaxed).newValue }

    package var count: Int { value.load(ordering: .relaxed) }
}
