/// Node-name rules of the Zarr v3 core spec, plus refusals that keep names safe as
/// directory names: a valid name can never reach outside the store root.
///
/// ```swift
/// try ZarrNodeName.validate("ccd")        // ok
/// try ZarrNodeName.validate("..")         // throws ZarrError.invalidNodeName
/// ZarrNodeName.isValid("__meta")          // false
/// ```
public enum ZarrNodeName {
    /// Throws ``ZarrError/invalidNodeName(name:reason:)`` unless `name` is a valid node name:
    /// non-empty, not only periods (`.`, `..`), no `/` or `\`, not starting with the reserved
    /// `__`, and only printable characters (no NUL, control, format, surrogate, private-use,
    /// unassigned or line/paragraph separator code points).
    public static func validate(_ name: String) throws {
        if let reason = problem(with: name) {
            throw ZarrError.invalidNodeName(name: name, reason: reason)
        }
    }

    /// True when ``validate(_:)`` would accept `name`.
    public static func isValid(_ name: String) -> Bool { problem(with: name) == nil }

    static func problem(with name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.unicodeScalars.allSatisfy({ $0 == "." }) { return "must not consist only of periods" }
        if name.hasPrefix("__") { return "must not start with the reserved prefix \"__\"" }
        for scalar in name.unicodeScalars {
            if scalar == "/" { return "must not contain \"/\"" }
            if scalar == "\\" { return "must not contain \"\\\"" }
            switch scalar.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
                let code = String(scalar.value, radix: 16, uppercase: true)
                return "contains the unprintable character U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code)"
            default:
                continue
            }
        }
        // The file system stores names as bytes; very long names fail there with a vaguer error.
        if name.utf8.count > 255 { return "is longer than 255 bytes" }
        return nil
    }
}

/// The path of a node inside a hierarchy, as validated names: `""` or `"/"` is the root,
/// `"runs/abc/ccd"` (leading `/` optional) a nested node.
///
/// ```swift
/// let path = try ZarrNodePath("/runs/abc/ccd")
/// path.names        // ["runs", "abc", "ccd"]
/// path.key          // "runs/abc/ccd"
/// path.parent?.key  // "runs/abc"
/// ```
public struct ZarrNodePath: Sendable, Hashable, CustomStringConvertible {
    /// The validated names from the root down; empty for the root.
    public let names: [String]

    /// The root of the hierarchy.
    public static let root = ZarrNodePath(validatedNames: [])

    /// Splits `path` on `/` and validates each name. A single leading `/` is allowed;
    /// empty names (`a//b`, trailing `/`) are not.
    public init(_ path: String) throws {
        var body = Substring(path)
        if body.hasPrefix("/") { body = body.dropFirst() }
        if body.isEmpty { names = []; return }
        let parts = body.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for part in parts { try ZarrNodeName.validate(part) }
        names = parts
    }

    init(validatedNames: [String]) { names = validatedNames }

    /// True for the root.
    public var isRoot: Bool { names.isEmpty }

    /// The store key prefix of the node: names joined by `/` (empty for the root).
    public var key: String { names.joined(separator: "/") }

    /// The node's name (empty for the root).
    public var name: String { names.last ?? "" }

    /// The parent node's path; nil for the root.
    public var parent: ZarrNodePath? {
        isRoot ? nil : ZarrNodePath(validatedNames: Array(names.dropLast()))
    }

    /// The child `name` of this node, after validating `name`.
    public func appending(_ name: String) throws -> ZarrNodePath {
        try ZarrNodeName.validate(name)
        return ZarrNodePath(validatedNames: names + [name])
    }

    /// The path of `relative` (one or more `/`-separated names) below this node.
    public func appending(path relative: String) throws -> ZarrNodePath {
        let tail = try ZarrNodePath(relative)
        return ZarrNodePath(validatedNames: names + tail.names)
    }

    /// The key of a file in the node's folder (`"runs/abc/zarr.json"`).
    func key(of file: String) -> String { isRoot ? file : key + "/" + file }

    /// The path as the spec writes it: `/` for the root, else `/a/b`.
    public var description: String { "/" + key }
}
