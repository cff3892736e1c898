/// A Swift type whose values can be read from and written to an array of the matching
/// ``ZarrDataType`` (e.g. `UInt16` for `uint16`). Its memory layout is the in-memory
/// element layout, so typed reads copy nothing beyond the result array.
public protocol ZarrElement: Sendable, BitwiseCopyable {
    /// The data type this Swift type stands for.
    static var zarrDataType: ZarrDataType { get }
}

extension Bool: ZarrElement { public static var zarrDataType: ZarrDataType { .bool } }
extension Int8: ZarrElement { public static var zarrDataType: ZarrDataType { .int8 } }
extension Int16: ZarrElement { public static var zarrDataType: ZarrDataType { .int16 } }
extension Int32: ZarrElement { public static var zarrDataType: ZarrDataType { .int32 } }
extension Int64: ZarrElement { public static var zarrDataType: ZarrDataType { .int64 } }
extension UInt8: ZarrElement { public static var zarrDataType: ZarrDataType { .uint8 } }
extension UInt16: ZarrElement { public static var zarrDataType: ZarrDataType { .uint16 } }
extension UInt32: ZarrElement { public static var zarrDataType: ZarrDataType { .uint32 } }
extension UInt64: ZarrElement { public static var zarrDataType: ZarrDataType { .uint64 } }
extension Float: ZarrElement { public static var zarrDataType: ZarrDataType { .float32 } }
extension Double: ZarrElement { public static var zarrDataType: ZarrDataType { .float64 } }
