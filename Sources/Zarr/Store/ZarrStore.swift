/// A key/value store holding a hierarchy's `zarr.json` documents and chunks, as the Zarr
/// v3 abstract store interface describes. Keys are `/`-separated relative paths such as
/// `"runs/abc/ccd/c/0/0/0"`. ``FilesystemStore`` is the implementation this module ships.
public protocol ZarrStore: Sendable {
    /// The value of `key`, or nil when it does not exist.
    func get(_ key: String) throws -> [UInt8]?
    /// The bytes of `key` in `range` (fewer when the value ends inside it), or nil when
    /// `key` does not exist: a shard's index or one inner chunk without the whole shard.
    func get(_ key: String, range: Range<Int>) throws -> [UInt8]?
    /// The last `suffix` bytes of `key` (all of it when shorter), or nil when it does not exist.
    func get(_ key: String, suffix: Int) throws -> [UInt8]?
    /// Stores `bytes` under `key` so that readers see the old value or the new, never a mix.
    func set(_ key: String, _ bytes: [UInt8]) throws
    /// Stores `bytes` under `key` as `mode` says; ``StoreWriteMode/atomic`` is ``set(_:_:)``.
    func set(_ key: String, _ bytes: [UInt8], mode: StoreWriteMode) throws
    /// Removes `key`; removing a missing key is not an error.
    func delete(_ key: String) throws
    /// Removes every key under `prefix` (a node's folder).
    func deletePrefix(_ prefix: String) throws
    /// The immediate children of `prefix`: keys of values and names of sub-prefixes.
    func listDirectory(_ prefix: String) throws -> (keys: [String], prefixes: [String])
    /// Every key below `prefix`, recursively, relative to `prefix`.
    func listKeys(under prefix: String) throws -> [String]
    /// A human-readable location of `key` for error messages (a file path for files).
    func describe(_ key: String) -> String
}

/// How ``ZarrStore/set(_:_:mode:)`` puts a value in place.
public enum StoreWriteMode: Sendable, Hashable {
    /// Readers see the old value or the new, never a mix.
    case atomic
    /// For a value no reader looks at yet, such as a chunk appended beyond the shape an
    /// array's metadata publishes: written straight into place, the cheapest way. A crash
    /// can leave it partly written, so only publish it (grow the array) after the write
    /// returns.
    case unpublished
}

extension ZarrStore {
    /// Stores without ranged reads read the whole value and slice it.
    public func get(_ key: String, range: Range<Int>) throws -> [UInt8]? {
        guard let all = try get(key) else { return nil }
        return Array(all[min(range.lowerBound, all.count)..<min(range.upperBound, all.count)])
    }

    /// Stores without ranged reads read the whole value and slice it.
    public func get(_ key: String, suffix: Int) throws -> [UInt8]? {
        guard let all = try get(key) else { return nil }
        return Array(all.suffix(suffix))
    }

    /// Stores that have no cheaper way for ``StoreWriteMode/unpublished`` write atomically.
    public func set(_ key: String, _ bytes: [UInt8], mode: StoreWriteMode) throws {
        try set(key, bytes)
    }
}
