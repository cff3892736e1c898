import JSONValue

/// A group's `zarr.json`: its attributes, plus any extension members marked
/// `"must_understand": false` (kept as read).
///
/// A new group is written exactly as zarr-python writes it:
/// `{"attributes": {}, "zarr_format": 3, "node_type": "group"}` (indented by 2).
public struct ZarrGroupMetadata: Sendable, Equatable {
    /// User attributes.
    public var attributes: JSONObject
    /// Extension members that may be ignored, written back unchanged.
    public var extraFields: JSONObject

    /// Group metadata with the given attributes.
    public init(attributes: JSONObject = [:]) {
        self.attributes = attributes
        self.extraFields = [:]
    }

    /// Reads a group's `zarr.json`; `path` names the file in errors.
    public init(parsing bytes: [UInt8], path: String) throws {
        let reader = try MetadataReader(bytes: bytes, path: path)
        let type = try reader.nodeType()
        guard type == "group" else { throw ZarrError.nodeTypeMismatch(path: path, expected: "group", found: type) }
        attributes = try reader.attributes()
        // zarr-python 3.0 wrote "consolidated_metadata": null into groups; it carries nothing we need.
        var extra = try reader.extraFields(known: ["zarr_format", "node_type", "attributes", "consolidated_metadata"])
        if let consolidated = reader.members["consolidated_metadata"], !consolidated.isNull {
            extra["consolidated_metadata"] = consolidated
        }
        extraFields = extra
    }

    /// The document as zarr-python writes it.
    public var json: JSONValue {
        var object: JSONObject = ["attributes": .object(attributes), "zarr_format": 3, "node_type": "group"]
        for (key, value) in extraFields { object[key] = value }
        return .object(object)
    }

    /// The document's text as zarr-python writes it (`json.dumps(indent=2)`).
    public var jsonBytes: [UInt8] { PrettyJSON.text(json) }
}
