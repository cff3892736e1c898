import Zarr

/// The pixel types a detector frame may have, by their numpy names.
public enum FrameDType: String, Sendable, CaseIterable, Codable {
    case uint8, int8, uint16, int16, uint32, int32, uint64, int64, float32, float64

    /// Bytes per pixel.
    public var size: Int { zarrDataType.size }

    var zarrDataType: ZarrDataType { ZarrDataType(rawValue: rawValue)! }

    /// The largest value a pixel can hold (saturation), for integer types.
    public var maximum: Double? {
        switch self {
        case .uint8: return Double(UInt8.max)
        case .int8: return Double(Int8.max)
        case .uint16: return Double(UInt16.max)
        case .int16: return Double(Int16.max)
        case .uint32: return Double(UInt32.max)
        case .int32: return Double(Int32.max)
        case .uint64: return Double(UInt64.max)
        case .int64: return Double(Int64.max)
        case .float32, .float64: return nil
        }
    }
}

/// A Swift type a frame's pixels can have.
public protocol FrameElement: ZarrElement {
    /// The numpy name of the type.
    static var frameDType: FrameDType { get }
}

extension UInt8: FrameElement { public static var frameDType: FrameDType { .uint8 } }
extension Int8: FrameElement { public static var frameDType: FrameDType { .int8 } }
extension UInt16: FrameElement { public static var frameDType: FrameDType { .uint16 } }
extension Int16: FrameElement { public static var frameDType: FrameDType { .int16 } }
extension UInt32: FrameElement { public static var frameDType: FrameDType { .uint32 } }
extension Int32: FrameElement { public static var frameDType: FrameDType { .int32 } }
extension UInt64: FrameElement { public static var frameDType: FrameDType { .uint64 } }
extension Int64: FrameElement { public static var frameDType: FrameDType { .int64 } }
extension Float: FrameElement { public static var frameDType: FrameDType { .float32 } }
extension Double: FrameElement { public static var frameDType: FrameDType { .float64 } }

/// One 2-D detector image, row-major (numpy C order): `pixels[row * columns + column]`.
///
/// Made from an array it shares the array's storage (no copy); ``init(rows:columns:fill:)``
/// lets a driver write pixels in place.
///
/// ```swift
/// let frame = Frame<UInt16>(rows: 512, columns: 512, pixels: buffer)
/// let filled = Frame<UInt16>(rows: 2, columns: 3) { pixels in
///     for i in pixels.indices { pixels[i] = UInt16(i) }
/// }
/// ```
public struct Frame<Element: FrameElement>: Sendable {
    /// Number of rows (numpy `shape[0]`).
    public let rows: Int
    /// Number of columns (numpy `shape[1]`).
    public let columns: Int
    /// The pixels, row after row.
    public let pixels: [Element]

    /// A frame over `pixels`, which must hold `rows * columns` values.
    /// (A count that does not match is refused by `RunWriter.writeFrame` with a clear error.)
    public init(rows: Int, columns: Int, pixels: [Element]) {
        self.rows = rows
        self.columns = columns
        self.pixels = pixels
    }

    /// A frame whose pixels `fill` writes in place.
    public init(rows: Int, columns: Int, fill: (inout UnsafeMutableBufferPointer<Element>) throws -> Void) rethrows {
        self.rows = rows
        self.columns = columns
        let count = max(rows, 0) * max(columns, 0)
        self.pixels = try [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.initialize(repeating: Element.zeroBits)
            try fill(&buffer)
            initialized = count
        }
    }

    /// A frame copied from a buffer of `rows * columns` pixels.
    public init(rows: Int, columns: Int, copying buffer: UnsafeBufferPointer<Element>) {
        self.init(rows: rows, columns: columns, pixels: Array(buffer))
    }

    /// The pixel type.
    public var dtype: FrameDType { Element.frameDType }

    /// (rows, columns).
    public var shape: (rows: Int, columns: Int) { (rows, columns) }

    /// The pixel at (`row`, `column`).
    public subscript(row: Int, column: Int) -> Element { pixels[row * columns + column] }
}

extension FrameElement {
    /// All bits zero: 0 for every integer and float type.
    static var zeroBits: Self {
        withUnsafeTemporaryAllocation(of: Self.self, capacity: 1) { buffer in
            UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
            return buffer[0]
        }
    }
}
