import JSONValue

/// An array's `zarr.json`: shape, data type, regular chunk grid, chunk key encoding,
/// fill value, codecs, attributes and dimension names.
///
/// ```swift
/// // (frames, rows, cols) uint16, one chunk per frame, zarr-python's default codecs
/// let metadata = try ZarrArrayMetadata(shape: [0, 2048, 2048], dataType: .uint16,
///                                      chunkShape: [1, 2048, 2048])
/// ```
public struct ZarrArrayMetadata: Sendable, Equatable {
    /// Length of each dimension.
    public var shape: [Int]
    /// Element type.
    public var dataType: ZarrDataType
    /// Shape of every chunk of the regular chunk grid (edge chunks are stored full size).
    public var chunkShape: [Int]
    /// How chunk indices become keys.
    public var chunkKeyEncoding: ZarrChunkKeyEncoding
    /// Value of elements never written.
    public var fillValue: ZarrFillValue
    /// Codec list, in encoding order.
    public var codecs: [ZarrCodec]
    /// User attributes.
    public var attributes: JSONObject
    /// Optional per-dimension names (nil entries are unnamed dimensions).
    public var dimensionNames: [String?]?
    /// Storage transformers marked `"must_understand": false`, kept as read (others are refused).
    public var storageTransformers: [JSONValue]
    /// Top-level extension members marked `"must_understand": false`, kept as read.
    public var extraFields: JSONObject

    /// Metadata for a new array. `fillValue` defaults to zero of the type and `codecs` to
    /// ``ZarrCodec/defaults(for:)`` (bytes + zstd). Blosc settings left open follow the
    /// data type. Throws when the pieces do not fit together.
    public init(shape: [Int], dataType: ZarrDataType, chunkShape: [Int], fillValue: ZarrFillValue? = nil,
                codecs: [ZarrCodec]? = nil, chunkKeyEncoding: ZarrChunkKeyEncoding = .standard,
                attributes: JSONObject = [:], dimensionNames: [String?]? = nil) throws {
        self.shape = shape
        self.dataType = dataType
        self.chunkShape = chunkShape
        self.chunkKeyEncoding = chunkKeyEncoding
        self.fillValue = (fillValue ?? .zero(for: dataType)).normalized(for: dataType)
        self.codecs = (codecs ?? ZarrCodec.defaults(for: dataType)).map { $0.resolved(for: dataType) }
        self.attributes = attributes
        self.dimensionNames = dimensionNames
        self.storageTransformers = []
        self.extraFields = [:]
        try validate(path: "new array metadata")
    }

    /// Checks that shape, chunks, fill value, names and codecs are consistent.
    func validate(path: String) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw ZarrError.invalidMetadata(path: path, reason: "shape \(shape) has a negative length")
        }
        guard chunkShape.count == shape.count else {
            throw ZarrError.invalidMetadata(path: path, reason: "chunk_shape \(chunkShape) and shape \(shape) differ in rank")
        }
        guard chunkShape.allSatisfy({ $0 > 0 }) else {
            throw ZarrError.invalidMetadata(path: path, reason: "chunk_shape \(chunkShape) has a length below 1")
        }
        if let dimensionNames, dimensionNames.count != shape.count {
            throw ZarrError.invalidMetadata(path: path, reason: "\(dimensionNames.count) dimension_names for \(shape.count) dimensions")
        }
        guard fillValue.elementBytes(for: dataType) != nil else {
            throw ZarrError.invalidFillValue(path: path, value: fillValue.description, dataType: dataType.name)
        }
        guard chunkKeyEncoding.separator == "/" || chunkKeyEncoding.separator == "." else {
            throw ZarrError.invalidMetadata(path: path, reason: "chunk key separator must be \"/\" or \".\"")
        }
        _ = try CodecPipeline(codecs: codecs, shape: chunkShape, dataType: dataType, fill: fillValue, path: path)
    }

    /// Number of chunks along each dimension.
    public var gridShape: [Int] {
        zip(shape, chunkShape).map { $0 == 0 ? 0 : ($0 - 1) / $1 + 1 }
    }

    // MARK: Reading

    static let knownFields: Set<String> = [
        "zarr_format", "node_type", "shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value",
        "codecs", "attributes", "storage_transformers", "dimension_names",
    ]

    /// Reads an array's `zarr.json`; `path` names the file in errors. Never traps on bad input.
    public init(parsing bytes: [UInt8], path: String) throws {
        let reader = try MetadataReader(bytes: bytes, path: path)
        let type = try reader.nodeType()
        guard type == "array" else { throw ZarrError.nodeTypeMismatch(path: path, expected: "array", found: type) }

        shape = try reader.integers(try reader.required("shape"), field: "shape", minimum: 0)
        dataType = try Self.parseDataType(try reader.required("data_type"), reader: reader)

        let grid = try reader.extensionObject(try reader.required("chunk_grid"), point: "chunk_grid")
        guard grid.name == "regular" else {
            throw ZarrError.unsupportedExtension(path: path, point: "chunk grid", name: grid.name)
        }
        guard let chunkShapeJSON = grid.configuration["chunk_shape"] else {
            throw ZarrError.missingField(path: path, field: "chunk_grid.configuration.chunk_shape")
        }
        chunkShape = try reader.integers(chunkShapeJSON, field: "chunk_shape", minimum: 1)

        chunkKeyEncoding = try Self.parseChunkKeyEncoding(try reader.required("chunk_key_encoding"), reader: reader)

        let fillJSON = try reader.required("fill_value")
        guard let fill = ZarrFillValue.parse(fillJSON, dataType: dataType) else {
            throw ZarrError.invalidFillValue(path: path, value: fillJSON.jsonText, dataType: dataType.name)
        }
        fillValue = fill.normalized(for: dataType)

        codecs = try ZarrCodec.parseList(try reader.required("codecs"), field: "codecs", path: path)
        attributes = try reader.attributes()

        storageTransformers = []
        if let transformers = reader.members["storage_transformers"] {
            guard case .array(let items) = transformers else {
                throw reader.invalid("storage_transformers must be an array, not \(transformers.jsonText)")
            }
            for item in items {
                guard MetadataReader.mayIgnore(item) else {
                    let name = (try? reader.extensionObject(item, point: "storage transformer").name) ?? item.jsonText
                    throw ZarrError.unsupportedExtension(path: path, point: "storage transformer", name: name)
                }
                storageTransformers.append(item)
            }
        }

        if let names = reader.members["dimension_names"] {
            guard case .array(let items) = names else {
                throw reader.invalid("dimension_names must be an array, not \(names.jsonText)")
            }
            dimensionNames = try items.map { item in
                switch item {
                case .string(let s): return s
                case .null: return nil
                default: throw reader.invalid("dimension_names must hold strings or null, not \(item.jsonText)")
                }
            }
        } else {
            dimensionNames = nil
        }

        extraFields = try reader.extraFields(known: Self.knownFields)
        try validate(path: path)
    }

    private static func parseDataType(_ json: JSONValue, reader: MetadataReader) throws -> ZarrDataType {
        let name: String
        switch json {
        case .string(let s): name = s
        case .object(let object):
            guard case .string(let s)? = object["name"] else {
                throw reader.invalid("data_type \(json.jsonText) has no \"name\" string")
            }
            // Core types take no configuration; an object with one is some extension type.
            if let config = object["configuration"], config != [:] {
                throw ZarrError.unsupportedDataType(path: reader.path, name: s)
            }
            name = s
        default:
            throw reader.invalid("data_type must be a string or an object, not \(json.jsonText)")
        }
        guard let type = ZarrDataType(rawValue: name) else {
            throw ZarrError.unsupportedDataType(path: reader.path, name: name)
        }
        return type
    }

    private static func parseChunkKeyEncoding(_ json: JSONValue, reader: MetadataReader) throws -> ZarrChunkKeyEncoding {
        let (name, configuration) = try reader.extensionObject(json, point: "chunk_key_encoding")
        let fallback: Character
        switch name {
        case "default": fallback = "/"
        case "v2": fallback = "."
        default: throw ZarrError.unsupportedExtension(path: reader.path, point: "chunk key encoding", name: name)
        }
        var separator = fallback
        if let raw = configuration["separator"] {
            guard case .string(let s) = raw, s == "/" || s == "." else {
                throw reader.invalid("chunk key separator must be \"/\" or \".\", not \(raw.jsonText)")
            }
            separator = Character(s)
        }
        for key in configuration.keys where key != "separator" {
            throw reader.invalid("unknown chunk_key_encoding configuration member \"\(key)\"")
        }
        return name == "default" ? .default(separator: separator) : .v2(separator: separator)
    }

    // MARK: Writing

    /// The document in zarr-python 3.1's member order.
    public var json: JSONValue {
        var object: JSONObject = [:]
        object["shape"] = .array(shape.map { .int(Int64($0)) })
        object["data_type"] = .string(dataType.name)
        object["chunk_grid"] = ["name": "regular", "configuration": ["chunk_shape": .array(chunkShape.map { .int(Int64($0)) })]]
        object["chunk_key_encoding"] = chunkKeyEncoding.json
        object["fill_value"] = fillValue.json(for: dataType)
        object["codecs"] = .array(codecs.map(\.json))
        object["attributes"] = .object(attributes)
        if let dimensionNames {
            object["dimension_names"] = .array(dimensionNames.map { $0.map { .string($0) } ?? .null })
        }
        object["zarr_format"] = 3
        object["node_type"] = "array"
        object["storage_transformers"] = .array(storageTransformers)
        for (key, value) in extraFields { object[key] = value }
        return .object(object)
    }

    /// The document's text as zarr-python writes it (`json.dumps(indent=2)`).
    public var jsonBytes: [UInt8] { PrettyJSON.text(json) }
}
