import JSONValue

/// Shared checks for reading `zarr.json`: JSON parsing, the object form, `zarr_format`,
/// `node_type`, and the rule for unknown members.
struct MetadataReader {
    let path: String
    let members: JSONObject

    /// Parses the document and checks `zarr_format` is 3.
    init(bytes: [UInt8], path: String) throws {
        self.path = path
        let value: JSONValue
        do {
            value = try JSONValue(parsingUTF8: bytes)
        } catch {
            throw ZarrError.invalidJSON(path: path, reason: error.description)
        }
        guard case .object(let members) = value else {
            throw ZarrError.invalidMetadata(path: path, reason: "the document is not a JSON object")
        }
        self.members = members
        guard let format = members["zarr_format"] else { throw ZarrError.missingField(path: path, field: "zarr_format") }
        guard case .int(3) = format else { throw ZarrError.unsupportedZarrFormat(path: path, value: format.jsonText) }
    }

    /// `"array"` or `"group"`.
    func nodeType() throws -> String {
        guard let raw = members["node_type"] else { throw ZarrError.missingField(path: path, field: "node_type") }
        guard case .string(let type) = raw, type == "array" || type == "group" else {
            throw ZarrError.invalidMetadata(path: path, reason: "node_type must be \"array\" or \"group\", not \(raw.jsonText)")
        }
        return type
    }

    func required(_ field: String) throws -> JSONValue {
        guard let value = members[field] else { throw ZarrError.missingField(path: path, field: field) }
        return value
    }

    func invalid(_ reason: String) -> ZarrError { .invalidMetadata(path: path, reason: reason) }

    /// The `attributes` object (empty when absent).
    func attributes() throws -> JSONObject {
        guard let raw = members["attributes"] else { return [:] }
        guard case .object(let attributes) = raw else { throw invalid("attributes must be an object, not \(raw.jsonText)") }
        return attributes
    }

    /// Members not in `known`: kept when they are objects with `"must_understand": false`,
    /// an error otherwise.
    func extraFields(known: Set<String>) throws -> JSONObject {
        var extra: JSONObject = [:]
        for (key, value) in members where !known.contains(key) {
            guard Self.mayIgnore(value) else { throw ZarrError.unknownField(path: path, field: key) }
            extra[key] = value
        }
        return extra
    }

    /// True for an extension object explicitly marked `"must_understand": false`.
    static func mayIgnore(_ value: JSONValue) -> Bool {
        if case .object(let object) = value, case .bool(false)? = object["must_understand"] { return true }
        return false
    }

    /// A non-negative integer list such as a shape.
    func integers(_ value: JSONValue, field: String, minimum: Int) throws -> [Int] {
        guard case .array(let items) = value else { throw invalid("\(field) must be an array of integers, not \(value.jsonText)") }
        return try items.map { item in
            guard case .int(let i) = item, let v = Int(exactly: i), v >= minimum else {
                throw invalid("\(field) must hold integers ≥ \(minimum), not \(value.jsonText)")
            }
            return v
        }
    }

    /// Splits an extension object (or short-hand name) into name and configuration.
    func extensionObject(_ value: JSONValue, point: String) throws -> (name: String, configuration: JSONObject) {
        switch value {
        case .string(let name):
            return (name, [:])
        case .object(let object):
            guard case .string(let name)? = object["name"] else { throw invalid("\(point) has no \"name\" string: \(value.jsonText)") }
            switch object["configuration"] {
            case nil: return (name, [:])
            case .object(let configuration)?: return (name, configuration)
            case let other?: throw invalid("\(point) configuration must be an object, not \(other.jsonText)")
            }
        default:
            throw invalid("\(point) must be a name or an object, not \(value.jsonText)")
        }
    }
}
