import JSONValue

/// A Zarr v3 group: a node with attributes and children.
///
/// ```swift
/// let store = try FilesystemStore(root: "/data/beamtime.zarr", create: true)
/// let root = try ZarrGroup.openOrCreate(in: store, at: "/")
/// let runs = try root.createGroup("runs")
/// for child in try runs.children() { print(child.name, child.kind) }
/// ```
public struct ZarrGroup: Sendable {
    /// The store holding the group.
    public let store: any ZarrStore
    /// The group's node path.
    public let path: ZarrNodePath
    /// The group's metadata as last read or written.
    public private(set) var metadata: ZarrGroupMetadata

    /// User attributes.
    public var attributes: JSONObject { metadata.attributes }

    /// A child node found by ``children()``.
    public struct Child: Sendable, Hashable {
        /// Array or group.
        public enum Kind: String, Sendable, Hashable {
            /// An array node.
            case array
            /// A group node.
            case group
        }
        /// The child's name.
        public let name: String
        /// What the child is.
        public let kind: Kind
    }

    // MARK: Opening and creating

    /// Opens the group at `path` (`"/"` or `""` for the root).
    public static func open(in store: any ZarrStore, at path: String = "/") throws -> ZarrGroup {
        try open(in: store, at: try ZarrNodePath(path))
    }

    /// Opens the group at `path`.
    public static func open(in store: any ZarrStore, at path: ZarrNodePath) throws -> ZarrGroup {
        let key = path.key(of: "zarr.json")
        guard let bytes = try store.get(key) else { throw ZarrError.nodeNotFound(path: store.describe(path.key)) }
        return ZarrGroup(store: store, path: path, metadata: try ZarrGroupMetadata(parsing: bytes, path: store.describe(key)))
    }

    /// Creates a group at `path` with missing parent groups. An existing node is an error
    /// unless `overwrite` is true (it is then deleted with everything below it).
    public static func create(in store: any ZarrStore, at path: String, attributes: JSONObject = [:],
                              overwrite: Bool = false) throws -> ZarrGroup {
        try create(in: store, at: try ZarrNodePath(path), attributes: attributes, overwrite: overwrite)
    }

    /// Creates a group at `path`; see ``create(in:at:attributes:overwrite:)-(_,String,_,_)``.
    public static func create(in store: any ZarrStore, at path: ZarrNodePath, attributes: JSONObject = [:],
                              overwrite: Bool = false) throws -> ZarrGroup {
        try Hierarchy.prepareNewNode(in: store, at: path, overwrite: overwrite)
        let group = ZarrGroup(store: store, path: path, metadata: ZarrGroupMetadata(attributes: attributes))
        try group.writeMetadata()
        return group
    }

    /// Opens the group at `path`, creating it (and missing parents) if there is none.
    /// An array at `path` is an error.
    public static func openOrCreate(in store: any ZarrStore, at path: String = "/") throws -> ZarrGroup {
        let nodePath = try ZarrNodePath(path)
        try Hierarchy.ensureGroup(in: store, at: nodePath)
        return try open(in: store, at: nodePath)
    }

    // MARK: Children

    /// Creates the child group `name` (or `"a/b"`, creating `a` too).
    public func createGroup(_ name: String, attributes: JSONObject = [:], overwrite: Bool = false) throws -> ZarrGroup {
        try ZarrGroup.create(in: store, at: try path.appending(path: name), attributes: attributes, overwrite: overwrite)
    }

    /// Opens the child group `name`, creating it if missing.
    public func openOrCreateGroup(_ name: String) throws -> ZarrGroup {
        let child = try path.appending(path: name)
        try Hierarchy.ensureGroup(in: store, at: child)
        return try ZarrGroup.open(in: store, at: child)
    }

    /// Opens the child group `name`.
    public func openGroup(_ name: String) throws -> ZarrGroup {
        try ZarrGroup.open(in: store, at: try path.appending(path: name))
    }

    /// Creates the child array `name` (or `"a/b"`, creating group `a` too).
    public func createArray(_ name: String, metadata: ZarrArrayMetadata, overwrite: Bool = false) throws -> ZarrArray {
        try ZarrArray.create(in: store, at: try path.appending(path: name), metadata: metadata, overwrite: overwrite)
    }

    /// Opens the child array `name`.
    public func openArray(_ name: String) throws -> ZarrArray {
        try ZarrArray.open(in: store, at: try path.appending(path: name))
    }

    /// The groups and arrays directly below this group, sorted by name. Folders without a
    /// `zarr.json` and names that are not valid node names are skipped.
    public func children() throws -> [Child] {
        var result: [Child] = []
        for prefix in try store.listDirectory(path.key).prefixes {
            let name = String(prefix.split(separator: "/").last ?? "")
            guard ZarrNodeName.isValid(name) else { continue }
            let key = prefix + "/zarr.json"
            guard let bytes = try store.get(key) else { continue }
            let kind = try Hierarchy.nodeType(of: bytes, path: store.describe(key))
            result.append(Child(name: name, kind: kind == "array" ? .array : .group))
        }
        return result
    }

    /// Replaces the user attributes and rewrites `zarr.json`.
    public mutating func setAttributes(_ attributes: JSONObject) throws {
        metadata.attributes = attributes
        try writeMetadata()
    }

    func writeMetadata() throws {
        try store.set(path.key(of: "zarr.json"), metadata.jsonBytes)
    }
}

/// A node of either kind, for callers that do not know what a path holds.
public enum ZarrNode: Sendable {
    /// An array.
    case array(ZarrArray)
    /// A group.
    case group(ZarrGroup)

    /// Opens whatever node is at `path`.
    public static func open(in store: any ZarrStore, at path: String) throws -> ZarrNode {
        let nodePath = try ZarrNodePath(path)
        let key = nodePath.key(of: "zarr.json")
        guard let bytes = try store.get(key) else { throw ZarrError.nodeNotFound(path: store.describe(nodePath.key)) }
        if try Hierarchy.nodeType(of: bytes, path: store.describe(key)) == "array" {
            return .array(try ZarrArray.open(in: store, at: nodePath))
        }
        return .group(try ZarrGroup.open(in: store, at: nodePath))
    }
}
