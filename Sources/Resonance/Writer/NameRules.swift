/// Rules for names the writer stores. Names that become paths in the Zarr store (stream
/// and field names) follow the stricter node-name rule so no name can leave the store.
enum NameRules {
    static let maxLength = 255

    /// Plan and sample names and event field names: free text, but not empty, not huge,
    /// and without control characters (NUL would cut the name in C tools).
    static func checkText(_ name: String, kind: String) throws(RunWriterError) {
        if name.isEmpty { throw .invalidName(kind: kind, name: name, reason: "must not be empty") }
        if name.utf8.count > maxLength {
            throw .invalidName(kind: kind, name: name, reason: "longer than \(maxLength) bytes")
        }
        // In UTF-8 the bytes below 0x20 and 0x7F occur only as those characters themselves.
        if name.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw .invalidName(kind: kind, name: name, reason: "contains a control character")
        }
    }

    /// Stream and image field names: also usable as a Zarr node name and a file name.
    static func checkPathComponent(_ name: String, kind: String) throws(RunWriterError) {
        try checkText(name, kind: kind)
        let reason: String? =
            if name.contains("/") || name.contains("\\") { "must not contain \"/\" or \"\\\"" }
            else if name == "." || name == ".." || name.contains("..") { "must not contain \"..\"" }
            else if name.hasPrefix(".") { "must not start with \".\"" }
            else if name.hasPrefix("__") { "must not start with \"__\" (reserved by Zarr)" }
            else if name == "zarr.json" { "is reserved by the Zarr layout" }
            else { nil }
        if let reason { throw .invalidName(kind: kind, name: name, reason: reason) }
    }

    /// JSON the writer stores must be readable again: not nested deeper than the reader allows.
    static func checkReadable(_ object: JSONObject, what: String) throws(RunWriterError) {
        let depth = JSONValue.object(object).nestingDepth
        if depth > JSONValue.maxNestingDepth {
            throw .unencodable(what: what, reason: "nested \(depth) levels deep; at most \(JSONValue.maxNestingDepth) can be read back")
        }
    }
}
