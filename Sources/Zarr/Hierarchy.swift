/// Creation rules shared by groups and arrays.
enum Hierarchy {
    /// Makes sure `path` can take a new node: every ancestor is a group (missing ones are
    /// created with group metadata), and an existing node at `path` is refused or, with
    /// `overwrite`, deleted.
    static func prepareNewNode(in store: any ZarrStore, at path: ZarrNodePath, overwrite: Bool) throws {
        if try store.get(path.key(of: "zarr.json")) != nil {
            guard overwrite else { throw ZarrError.nodeAlreadyExists(path: store.describe(path.key)) }
            if path.isRoot {
                try store.delete("zarr.json")
                for prefix in try store.listDirectory("").prefixes { try store.deletePrefix(prefix) }
            } else {
                try store.deletePrefix(path.key)
            }
        }
        if let parent = path.parent { try ensureGroup(in: store, at: parent, forChild: true) }
    }

    /// Makes sure a group exists at `path` and at all its ancestors, creating missing ones.
    /// `forChild` says the group is wanted as the parent of a new node (for the error kind).
    static func ensureGroup(in store: any ZarrStore, at path: ZarrNodePath, forChild: Bool = false) throws {
        var ancestors: [ZarrNodePath] = []
        var cursor: ZarrNodePath? = path
        while let current = cursor {
            ancestors.append(current)
            cursor = current.parent
        }
        // Check from the node upward; stop at the first existing group, since its own
        // ancestors were made when it was.
        var missing: [ZarrNodePath] = []
        for node in ancestors {
            let key = node.key(of: "zarr.json")
            if let bytes = try store.get(key) {
                let kind = try nodeType(of: bytes, path: store.describe(key))
                guard kind == "group" else {
                    if node == path && !forChild {
                        throw ZarrError.nodeTypeMismatch(path: store.describe(node.key), expected: "group", found: kind)
                    }
                    throw ZarrError.parentIsArray(path: store.describe(node.key))
                }
                break
            }
            missing.append(node)
        }
        // Create from the top down so a reader never finds a group without its parent.
        for node in missing.reversed() {
            try store.set(node.key(of: "zarr.json"), ZarrGroupMetadata().jsonBytes)
        }
    }

    /// `"array"` or `"group"` from a `zarr.json`.
    static func nodeType(of bytes: [UInt8], path: String) throws -> String {
        try MetadataReader(bytes: bytes, path: path).nodeType()
    }
}
