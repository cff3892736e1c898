import JSONValue
import Resonance

/// Statistics of one detector frame, as `frames` prints them.
///
/// Integer frames: min, max, sum (exact) and mean over every pixel; `saturated` counts the
/// pixels at the dtype's maximum (65535 for uint16, 2147483647 for int32, ...).
/// Float frames: min, max, sum (in float64) and mean over the finite pixels only (NaN and
/// infinities skipped); `saturated` counts the non-finite pixels. A frame with no finite
/// pixel has min, max and mean NaN and sum 0.
struct FrameStatistics: Sendable, Equatable {
    var min: JSONValue
    var max: JSONValue
    var sum: JSONValue
    var mean: Double
    var saturated: Int

    /// Statistics of integer pixels. Sums are kept in 128 bits, so they are exact.
    static func integers<T: FixedWidthInteger>(_ pixels: UnsafeBufferPointer<T>) -> FrameStatistics {
        guard var low = pixels.first else { return FrameStatistics(min: .null, max: .null, sum: 0, mean: .nan, saturated: 0) }
        var high = low
        var saturated = 0
        var total: Int128 = 0
        // Small types: sum blocks in Int64 (cannot overflow for 2^31 pixels), add to 128 bits.
        let block = T.bitWidth <= 32 ? 1 << 24 : 1
        var start = 0
        while start < pixels.count {
            let end = Swift.min(start + block, pixels.count)
            var partial: Int64 = 0
            for i in start..<end {
                let v = pixels[i]
                if v < low { low = v }
                if v > high { high = v }
                if v == T.max { saturated += 1 }
                if T.bitWidth <= 32 { partial &+= Int64(truncatingIfNeeded: v) } else { total += Int128(v) }
            }
            total += Int128(partial)
            start = end
        }
        return FrameStatistics(min: json(low), max: json(high), sum: json(total),
                               mean: Double(total) / Double(pixels.count), saturated: saturated)
    }

    /// Statistics of float pixels over the finite ones; non-finite pixels are counted.
    static func floats<T: BinaryFloatingPoint>(_ pixels: UnsafeBufferPointer<T>) -> FrameStatistics {
        var low = T.infinity, high = -T.infinity
        var total = 0.0
        var nonFinite = 0
        for v in pixels {
            guard v.isFinite else { nonFinite += 1; continue }
            if v < low { low = v }
            if v > high { high = v }
            total += Double(v)
        }
        let finite = pixels.count - nonFinite
        guard finite > 0 else { return FrameStatistics(min: .double(.nan), max: .double(.nan), sum: 0.0, mean: .nan, saturated: nonFinite) }
        return FrameStatistics(min: .double(Double(low)), max: .double(Double(high)), sum: .double(total),
                               mean: total / Double(finite), saturated: nonFinite)
    }

    /// Statistics of a frame of any dtype, from its native-order pixel bytes.
    static func of(_ raw: UnsafeRawBufferPointer, dtype: FrameDType) -> FrameStatistics {
        switch dtype {
        case .uint8: return raw.withMemoryRebound(to: UInt8.self) { integers($0) }
        case .int8: return raw.withMemoryRebound(to: Int8.self) { integers($0) }
        case .uint16: return raw.withMemoryRebound(to: UInt16.self) { integers($0) }
        case .int16: return raw.withMemoryRebound(to: Int16.self) { integers($0) }
        case .uint32: return raw.withMemoryRebound(to: UInt32.self) { integers($0) }
        case .int32: return raw.withMemoryRebound(to: Int32.self) { integers($0) }
        case .uint64: return raw.withMemoryRebound(to: UInt64.self) { integers($0) }
        case .int64: return raw.withMemoryRebound(to: Int64.self) { integers($0) }
        case .float32: return raw.withMemoryRebound(to: Float.self) { floats($0) }
        case .float64: return raw.withMemoryRebound(to: Double.self) { floats($0) }
        }
    }

    /// An integer as JSON: exact when it fits 64 bits, else a float.
    private static func json<I: BinaryInteger>(_ value: I) -> JSONValue {
        if let exact = Int64(exactly: value) { return .int(exact) }
        return .double(Double(value))
    }
}
