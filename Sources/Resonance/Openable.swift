/// The one rule for everything in Resonance that holds a file or a connection
/// (``RunWriter``, ``Catalog``, ``MasterIndex``, ``MasterIndexWriter``, and the PostgreSQL
/// index of `ResonancePostgres`): `init` only records where; ``open()`` opens (and checks
/// or creates) and returns the object; ``close()`` releases it; the scoped form
/// ``open(_:)`` opens, runs a closure and closes, also when the closure throws.
///
/// ```swift
/// let catalog = try Catalog(dbPath: "2026-03-05.db").open()
/// defer { try? catalog.close() }
///
/// let count = try Catalog(dbPath: "2026-03-05.db").open { try $0.count() }
/// ```
///
/// Using an object before `open()` or after `close()` throws the type's "not open" or
/// "closed" error; nothing opens by itself.
public protocol Openable: AnyObject {
    /// Opens the file or connection, checking it; returns the object for chaining.
    @discardableResult
    func open() throws -> Self
    /// Releases the file or connection.
    func close() throws
}

extension Openable {
    /// Opens, runs `body` with the open object, and closes. When `body` throws, its error
    /// is rethrown (a failure to close then is not reported over it).
    public func open<T>(_ body: (Self) throws -> T) throws -> T {
        try open()
        let result: T
        do {
            result = try body(self)
        } catch {
            try? close()
            throw error
        }
        try close()
        return result
    }
}
