import JSONValue

/// An array's `fill_value`: the value of every element no chunk has been written for.
///
/// ```swift
/// let fill: ZarrFillValue = .float(.nan)   // written as "NaN"
/// let zero: ZarrFillValue = .int(0)        // written as 0
/// ```
public enum ZarrFillValue: Sendable, Hashable, CustomStringConvertible {
    /// For `bool` arrays.
    case bool(Bool)
    /// For signed and unsigned integer arrays (values must fit the type).
    case int(Int64)
    /// For `uint64` values above `Int64.max`.
    case uint(UInt64)
    /// For float arrays, including NaN and the infinities.
    case float(Double)
    /// For float arrays: an exact bit pattern, written as hex (`"0x7fc00001"`), e.g. a NaN payload.
    case floatBits(UInt64)

    /// The zero of `dataType` (`false`, `0` or `0.0`), zarr-python's default.
    public static func zero(for dataType: ZarrDataType) -> ZarrFillValue {
        switch dataType {
        case .bool: return .bool(false)
        case .float32, .float64: return .float(0)
        default: return .int(0)
        }
    }

    public var description: String {
        switch self {
        case .bool(let b): return String(b)
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .float(let d): return JSONValue.double(d).jsonText
        case .floatBits(let bits): return "0x" + String(bits, radix: 16)
        }
    }

    /// Bit-exact equality, so NaN equals NaN and metadata compares equal after a round trip.
    public static func == (lhs: ZarrFillValue, rhs: ZarrFillValue) -> Bool {
        switch (lhs, rhs) {
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.uint(let a), .uint(let b)): return a == b
        case (.float(let a), .float(let b)): return a.bitPattern == b.bitPattern
        case (.floatBits(let a), .floatBits(let b)): return a == b
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .bool(let b): hasher.combine(0); hasher.combine(b)
        case .int(let i): hasher.combine(1); hasher.combine(i)
        case .uint(let u): hasher.combine(2); hasher.combine(u)
        case .float(let d): hasher.combine(3); hasher.combine(d.bitPattern)
        case .floatBits(let b): hasher.combine(4); hasher.combine(b)
        }
    }

    /// The value as stored for `dataType`: a float32 fill value rounded to float precision,
    /// as zarr-python keeps it (0.1 becomes 0.10000000149011612).
    func normalized(for dataType: ZarrDataType) -> ZarrFillValue {
        if dataType == .float32, case .float(let d) = self, !d.isNaN { return .float(Double(Float(d))) }
        return self
    }

    /// The value as one element of `dataType` in native byte order, or nil if it does not fit.
    func elementBytes(for dataType: ZarrDataType) -> [UInt8]? {
        func bytes<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
            withUnsafeBytes(of: v.littleEndian) { Array($0) }
        }
        switch (dataType, self) {
        case (.bool, .bool(let b)): return [b ? 1 : 0]
        case (.int8, .int(let i)): return Int8(exactly: i).map { bytes($0) }
        case (.int16, .int(let i)): return Int16(exactly: i).map { bytes($0) }
        case (.int32, .int(let i)): return Int32(exactly: i).map { bytes($0) }
        case (.int64, .int(let i)): return bytes(i)
        case (.uint8, .int(let i)): return UInt8(exactly: i).map { bytes($0) }
        case (.uint16, .int(let i)): return UInt16(exactly: i).map { bytes($0) }
        case (.uint32, .int(let i)): return UInt32(exactly: i).map { bytes($0) }
        case (.uint64, .int(let i)): return UInt64(exactly: i).map { bytes($0) }
        case (.uint64, .uint(let u)): return bytes(u)
        case (.float32, .float(let d)): return bytes(Float(d).bitPattern)
        case (.float64, .float(let d)): return bytes(d.bitPattern)
        case (.float32, .floatBits(let b)): return UInt32(exactly: b).map { bytes($0) }
        case (.float64, .floatBits(let b)): return bytes(b)
        default: return nil
        }
    }

    /// True when the value is a NaN (zarr-python treats any NaN as equal to a NaN fill value).
    var isNaN: Bool {
        switch self {
        case .float(let d): return d.isNaN
        case .floatBits(let bits):
            // Exponent all ones and a non-zero mantissa, in binary32 or binary64 layout.
            if bits <= UInt64(UInt32.max) {
                return Float(bitPattern: UInt32(bits)).isNaN
            }
            return Double(bitPattern: bits).isNaN
        default: return false
        }
    }

    /// The value as zarr-python 3.1 writes it in `zarr.json`.
    func json(for dataType: ZarrDataType) -> JSONValue {
        switch self {
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .uint(let u): return Int64(exactly: u).map { .int($0) } ?? .double(Double(u))
        case .float(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return .string(d < 0 ? "-Infinity" : "Infinity") }
            // zarr-python writes the float32 value widened to double (0.1 -> 0.10000000149011612).
            return .double(dataType == .float32 ? Double(Float(d)) : d)
        case .floatBits(let bits):
            let width = dataType == .float32 ? 8 : 16
            let digits = String(bits, radix: 16)
            return .string("0x" + String(repeating: "0", count: max(0, width - digits.count)) + digits)
        }
    }

    /// Reads `fill_value` from `zarr.json` for `dataType`; nil when it does not fit the type.
    static func parse(_ json: JSONValue, dataType: ZarrDataType) -> ZarrFillValue? {
        switch dataType {
        case .bool:
            if case .bool(let b) = json { return .bool(b) }
            return nil
        case .float32, .float64:
            switch json {
            case .int(let i): return .float(Double(i))
            case .double(let d): return .float(d)
            case .string("NaN"): return .float(.nan)
            case .string("Infinity"): return .float(.infinity)
            case .string("-Infinity"): return .float(-.infinity)
            case .string(let s) where s.hasPrefix("0x"):
                let digits = s.dropFirst(2)
                guard digits.count == dataType.size * 2, digits.allSatisfy(\.isHexDigit),
                    let bits = UInt64(digits, radix: 16)
                else { return nil }
                return .floatBits(bits)
            default: return nil
            }
        default:
            let value: ZarrFillValue
            switch json {
            case .int(let i): value = .int(i)
            // The parser turns integers beyond Int64 into doubles; only uint64 may need them.
            case .double(let d) where dataType == .uint64 && d >= 9.2e18 && d < 18446744073709551616.0:
                guard let u = UInt64(exactly: d) else { return nil }
                value = .uint(u)
            default: return nil
            }
            return value.elementBytes(for: dataType) == nil ? nil : value
        }
    }
}
