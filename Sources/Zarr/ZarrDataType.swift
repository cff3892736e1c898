/// The Zarr v3 core data types this module reads and writes. In memory every element is
/// stored in native (little-endian) byte order; `bool` is one byte holding 0 or 1.
///
/// float16, complex, string and other extension types are refused with
/// ``ZarrError/unsupportedDataType(path:name:)``.
public enum ZarrDataType: String, Sendable, CaseIterable, Hashable {
    /// One byte, 0 or 1.
    case bool
    /// Signed 8-bit integer.
    case int8
    /// Signed 16-bit integer.
    case int16
    /// Signed 32-bit integer.
    case int32
    /// Signed 64-bit integer.
    case int64
    /// Unsigned 8-bit integer.
    case uint8
    /// Unsigned 16-bit integer.
    case uint16
    /// Unsigned 32-bit integer.
    case uint32
    /// Unsigned 64-bit integer.
    case uint64
    /// IEEE 754 binary32.
    case float32
    /// IEEE 754 binary64.
    case float64

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    /// The name used in `zarr.json` (`"uint16"`, ...).
    public var name: String { rawValue }

    var isFloat: Bool { self == .float32 || self == .float64 }
    var isSigned: Bool { self == .int8 || self == .int16 || self == .int32 || self == .int64 }
    var isUnsigned: Bool { self == .uint8 || self == .uint16 || self == .uint32 || self == .uint64 }
}
