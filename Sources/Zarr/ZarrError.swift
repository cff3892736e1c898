import JSONValue

/// Every failure of the Zarr layer. Messages name the file or chunk and the offending value,
/// e.g. `unknown codec "foo" in /data/x.zarr/det/zarr.json` or
/// `chunk /data/x.zarr/det/c/0/0/0: checksum mismatch (stored 0x1234abcd, computed 0x0badf00d)`.
///
/// Codecs raise chunk errors before they know which chunk they work on; the array layer
/// fills the chunk's path in with ``inChunk(_:)``.
public enum ZarrError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A node name breaks the naming rules (empty, `.`/`..`, `/`, leading `__`, unprintable...).
    case invalidNodeName(name: String, reason: String)
    /// A store key would leave the store root or is otherwise unusable as a file path.
    case invalidKey(key: String, reason: String)
    /// No `zarr.json` exists at the path.
    case nodeNotFound(path: String)
    /// The node exists but is a group where an array was wanted, or the reverse.
    case nodeTypeMismatch(path: String, expected: String, found: String)
    /// Creating a node where one already exists (and overwriting was not asked for).
    case nodeAlreadyExists(path: String)
    /// A parent of a new node is an array, which cannot have children.
    case parentIsArray(path: String)
    /// `zarr.json` is not valid JSON.
    case invalidJSON(path: String, reason: String)
    /// `zarr.json` is JSON but breaks the Zarr v3 metadata rules.
    case invalidMetadata(path: String, reason: String)
    /// A required member of `zarr.json` is absent.
    case missingField(path: String, field: String)
    /// A top-level member of `zarr.json` is unknown and not marked `"must_understand": false`.
    case unknownField(path: String, field: String)
    /// `zarr_format` is not 3.
    case unsupportedZarrFormat(path: String, value: String)
    /// The array's data type is not one this module handles (float16, complex, strings...).
    case unsupportedDataType(path: String, name: String)
    /// A codec name this module does not implement, not marked `"must_understand": false`.
    case unknownCodec(path: String, name: String)
    /// An unknown chunk grid, chunk key encoding or storage transformer.
    case unsupportedExtension(path: String, point: String, name: String)
    /// A codec's configuration is missing, malformed or out of range.
    case invalidCodecConfiguration(path: String, codec: String, reason: String)
    /// The codec list is not array→array*, one array→bytes, bytes→bytes*.
    case invalidCodecOrder(path: String, reason: String)
    /// `fill_value` does not fit the data type.
    case invalidFillValue(path: String, value: String, dataType: String)
    /// A region, shape or chunk index is out of bounds or has the wrong rank.
    case invalidRegion(path: String, reason: String)
    /// A caller's buffer or value count does not match what the operation needs.
    case bufferSizeMismatch(path: String, expected: Int, actual: Int)
    /// A typed read or write used a Swift type that does not match the array's data type.
    case elementTypeMismatch(path: String, arrayType: String, requested: String)
    /// A crc32c checksum stored in a chunk does not match its contents.
    case checksumMismatch(chunk: String, stored: UInt32, computed: UInt32)
    /// A chunk (or part of one) is shorter than its encoding requires.
    case truncatedChunk(chunk: String, reason: String)
    /// A chunk's bytes cannot be decoded by one of its codecs.
    case corruptChunk(chunk: String, codec: String, reason: String)
    /// A codec failed while encoding (compressor error, input too large...).
    case encodingFailed(chunk: String, codec: String, reason: String)
    /// A file-system call failed: its errno when known (e.g. `ENOSPC`), and its message.
    case io(path: String, operation: String, errno: Int32?, reason: String)

    public var description: String {
        switch self {
        case .invalidNodeName(let name, let reason):
            return "invalid node name \(quoted(name)): \(reason)"
        case .invalidKey(let key, let reason):
            return "invalid store key \(quoted(key)): \(reason)"
        case .nodeNotFound(let path):
            return "no Zarr node at \(path) (no zarr.json)"
        case .nodeTypeMismatch(let path, let expected, let found):
            return "\(path) is a \(found), not a\(expected == "array" ? "n" : "") \(expected)"
        case .nodeAlreadyExists(let path):
            return "a Zarr node already exists at \(path)"
        case .parentIsArray(let path):
            return "\(path) is an array and cannot contain other nodes"
        case .invalidJSON(let path, let reason):
            return "invalid JSON in \(path): \(reason)"
        case .invalidMetadata(let path, let reason):
            return "invalid metadata in \(path): \(reason)"
        case .missingField(let path, let field):
            return "missing \(quoted(field)) in \(path)"
        case .unknownField(let path, let field):
            return "unknown member \(quoted(field)) in \(path) (not marked \"must_understand\": false)"
        case .unsupportedZarrFormat(let path, let value):
            return "unsupported zarr_format \(value) in \(path) (only 3 is supported)"
        case .unsupportedDataType(let path, let name):
            return "unsupported data type \(quoted(name)) in \(path)"
        case .unknownCodec(let path, let name):
            return "unknown codec \(quoted(name)) in \(path)"
        case .unsupportedExtension(let path, let point, let name):
            return "unsupported \(point) \(quoted(name)) in \(path)"
        case .invalidCodecConfiguration(let path, let codec, let reason):
            return "invalid configuration of codec \(quoted(codec))\(path.isEmpty ? "" : " in \(path)"): \(reason)"
        case .invalidCodecOrder(let path, let reason):
            return "invalid codec list in \(path): \(reason)"
        case .invalidFillValue(let path, let value, let dataType):
            return "invalid fill_value \(value) for data type \(dataType) in \(path)"
        case .invalidRegion(let path, let reason):
            return "\(path): \(reason)"
        case .bufferSizeMismatch(let path, let expected, let actual):
            return "\(path): buffer holds \(actual) bytes, expected \(expected)"
        case .elementTypeMismatch(let path, let arrayType, let requested):
            return "\(path): array data type is \(arrayType), but \(requested) was requested"
        case .checksumMismatch(let chunk, let stored, let computed):
            return "chunk \(chunk): checksum mismatch (stored \(hex32(stored)), computed \(hex32(computed)))"
        case .truncatedChunk(let chunk, let reason):
            return "truncated chunk \(chunk): \(reason)"
        case .corruptChunk(let chunk, let codec, let reason):
            return "corrupt chunk \(chunk): \(codec) codec: \(reason)"
        case .encodingFailed(let chunk, let codec, let reason):
            return "cannot encode chunk \(chunk): \(codec) codec: \(reason)"
        case .io(let path, let operation, _, let reason):
            return "\(operation) \(path): \(reason)"
        }
    }

    /// The POSIX error number of a failed file-system call (``io(path:operation:errno:reason:)``).
    public var errno: Int32? {
        if case .io(_, _, let code, _) = self { return code }
        return nil
    }

    /// The same error with `chunk` set to `path`, for errors raised by codecs, which
    /// do not know where their bytes came from. Other errors are returned unchanged.
    public func inChunk(_ path: String) -> ZarrError {
        switch self {
        case .checksumMismatch(let chunk, let stored, let computed) where chunk.isEmpty:
            return .checksumMismatch(chunk: path, stored: stored, computed: computed)
        case .truncatedChunk(let chunk, let reason) where chunk.isEmpty:
            return .truncatedChunk(chunk: path, reason: reason)
        case .corruptChunk(let chunk, let codec, let reason) where chunk.isEmpty:
            return .corruptChunk(chunk: path, codec: codec, reason: reason)
        case .encodingFailed(let chunk, let codec, let reason) where chunk.isEmpty:
            return .encodingFailed(chunk: path, codec: codec, reason: reason)
        default:
            return self
        }
    }
}

private func quoted(_ s: String) -> String { JSONValue.string(s).jsonText }
private func hex32(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

/// Runs `body`, naming the chunk in the codec errors it throws.
@inline(__always)
func withChunkContext<R>(_ path: @autoclosure () -> String, _ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let error as ZarrError {
        throw error.inChunk(path())
    }
}
