import JSONValue

/// One entry of an array's `codecs` list. Order matters and follows the spec: any
/// array → array codecs (``transpose(_:)``), exactly one array → bytes codec
/// (``bytes(_:)`` or ``shardingIndexed(_:)``), then any bytes → bytes codecs.
///
/// ```swift
/// // What zarr-python 3.1 writes by default for a uint16 array:
/// let codecs: [ZarrCodec] = [.bytes(BytesCodec(endian: .little)), .zstd(ZstdCodec(level: 0, checksum: false))]
/// ```
public enum ZarrCodec: Sendable, Equatable {
    /// `bytes`: elements in C order with a byte order.
    case bytes(BytesCodec)
    /// `transpose`: permutes the chunk's dimensions.
    case transpose(TransposeCodec)
    /// `zstd` compression.
    case zstd(ZstdCodec)
    /// `gzip` compression.
    case gzip(GzipCodec)
    /// `blosc` compression.
    case blosc(BloscCodec)
    /// `crc32c` checksum.
    case crc32c(Crc32cCodec)
    /// `sharding_indexed`: many inner chunks in one stored object.
    case shardingIndexed(ShardingCodec)
    /// A codec this module does not know, marked `"must_understand": false`: kept in
    /// `zarr.json` as written and skipped when encoding and decoding.
    case ignored(JSONValue)

    /// The codecs zarr-python 3.1 writes by default: `bytes` (little endian; no configuration
    /// for one-byte types) then `zstd` level 0 without checksum.
    public static func defaults(for dataType: ZarrDataType) -> [ZarrCodec] {
        [.bytes(.standard(for: dataType)), .zstd(ZstdCodec())]
    }

    /// The codec's name in `zarr.json`.
    public var name: String {
        switch self {
        case .bytes: return "bytes"
        case .transpose: return "transpose"
        case .zstd: return "zstd"
        case .gzip: return "gzip"
        case .blosc: return "blosc"
        case .crc32c: return "crc32c"
        case .shardingIndexed: return "sharding_indexed"
        case .ignored(let json): return json["name"]?.stringValue ?? json.stringValue ?? "?"
        }
    }

    enum Kind { case arrayToArray, arrayToBytes, bytesToBytes, ignored }

    var kind: Kind {
        switch self {
        case .transpose: return .arrayToArray
        case .bytes, .shardingIndexed: return .arrayToBytes
        case .zstd, .gzip, .blosc, .crc32c: return .bytesToBytes
        case .ignored: return .ignored
        }
    }

    /// The codec as zarr-python writes it.
    var json: JSONValue {
        switch self {
        case .bytes(let c): return c.json
        case .transpose(let c): return c.json
        case .zstd(let c): return c.json
        case .gzip(let c): return c.json
        case .blosc(let c): return c.json
        case .crc32c(let c): return c.json
        case .shardingIndexed(let c): return c.json
        case .ignored(let json): return json
        }
    }

    /// Reads one `codecs` entry: a name string or `{"name", "configuration"?, "must_understand"?}`.
    static func parse(_ json: JSONValue, path: String) throws -> ZarrCodec {
        let name: String
        var configuration: JSONObject? = nil
        var mustUnderstand = true
        switch json {
        case .string(let s):
            name = s
        case .object(let object):
            guard case .string(let s)? = object["name"] else {
                throw ZarrError.invalidMetadata(path: path, reason: "codec \(json.jsonText) has no \"name\" string")
            }
            name = s
            if let config = object["configuration"] {
                guard case .object(let c) = config else {
                    throw ZarrError.invalidCodecConfiguration(
                        path: path, codec: name, reason: "\"configuration\" must be an object, not \(config.jsonText)")
                }
                configuration = c
            }
            if let flag = object["must_understand"] {
                guard case .bool(let b) = flag else {
                    throw ZarrError.invalidMetadata(path: path, reason: "codec \(name): \"must_understand\" must be a bool")
                }
                mustUnderstand = b
            }
        default:
            throw ZarrError.invalidMetadata(path: path, reason: "codec entry \(json.jsonText) is neither a string nor an object")
        }
        switch name {
        case "bytes": return .bytes(try BytesCodec.parse(configuration, path: path))
        case "transpose": return .transpose(try TransposeCodec.parse(configuration, path: path))
        case "zstd": return .zstd(try ZstdCodec.parse(configuration, path: path))
        case "gzip": return .gzip(try GzipCodec.parse(configuration, path: path))
        case "blosc": return .blosc(try BloscCodec.parse(configuration, path: path))
        case "crc32c": return .crc32c(try Crc32cCodec.parse(configuration, path: path))
        case "sharding_indexed": return .shardingIndexed(try ShardingCodec.parse(configuration, path: path))
        default:
            if mustUnderstand { throw ZarrError.unknownCodec(path: path, name: name) }
            return .ignored(json)
        }
    }

    /// Reads a JSON array of codecs.
    static func parseList(_ json: JSONValue, field: String, path: String) throws -> [ZarrCodec] {
        guard case .array(let items) = json else {
            throw ZarrError.invalidMetadata(path: path, reason: "\"\(field)\" must be an array, not \(json.jsonText)")
        }
        return try items.map { try parse($0, path: path) }
    }

    /// Fills in settings that follow the data type, recursively, as zarr-python does: blosc
    /// typesize and shuffle, and no `endian` for one-byte types.
    func resolved(for dataType: ZarrDataType) -> ZarrCodec {
        switch self {
        case .blosc(let c): return .blosc(c.resolved(for: dataType))
        case .bytes where dataType.size == 1: return .bytes(BytesCodec(endian: nil))
        case .shardingIndexed(var c):
            c.codecs = c.codecs.map { $0.resolved(for: dataType) }
            c.indexCodecs = c.indexCodecs.map { $0.resolved(for: .uint64) }
            return .shardingIndexed(c)
        default: return self
        }
    }
}
