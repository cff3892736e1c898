import Foundation
import Resonance

/// A log-scaled 8-bit grayscale picture of a detector frame, for a person to glance at.
///
/// Each finite pixel v maps to 255 * log(1 + v - lo) / log(1 + hi - lo), clamped, so faint
/// scattering and a bright beam both show; lo and hi are robust percentiles of the pixels
/// that are not saturated (see ``scaleRange(_:saturation:)``). Saturated pixels and +inf
/// are white, NaN and -inf black. Frames larger than ``maxSide`` on a side are
/// binned (block means) down to fit.
public enum QuickLook {
    /// The largest side of a quick-look image, in pixels.
    public static let maxSide = 2048

    /// The image as (width, height, gray pixels).
    public static func gray(_ raw: UnsafeRawBufferPointer, dtype: FrameDType, rows: Int, columns: Int) -> (width: Int, height: Int, pixels: [UInt8]) {
        var values = doubles(raw, dtype: dtype)
        var (rows, columns) = (rows, columns)
        let factor = (Swift.max(rows, columns) + maxSide - 1) / maxSide
        if factor > 1 { (values, rows, columns) = bin(values, rows: rows, columns: columns, factor: factor) }
        let (low, high) = scaleRange(values, saturation: factor == 1 ? dtype.maximum ?? .infinity : .infinity)
        let span = log1p(Swift.max(high - low, 0))
        guard span > 0 else {  // a flat frame (or nothing finite): mid grey, NaN black
            return (columns, rows, values.map { $0.isNaN || $0 < low ? 0 : $0 > high ? 255 : 128 })
        }
        let scale = 255 / span
        let pixels: [UInt8]
        if factor == 1, dtype.maximum != nil, high - low < 1_048_576 {
            // Integer pixels over a modest range: one log per distinct value, not per pixel.
            let table = (0...Int(high - low)).map { UInt8(Swift.min(255, log1p(Double($0)) * scale + 0.5)) }
            pixels = values.map { $0 > high ? 255 : $0 < low ? 0 : table[Int($0 - low)] }
        } else {
            pixels = values.map { v -> UInt8 in
                if v.isNaN || v == -.infinity { return 0 }
                if v == .infinity { return 255 }
                return UInt8(Swift.min(255, log1p(Swift.max(v - low, 0)) * scale + 0.5))
            }
        }
        return (columns, rows, pixels)
    }

    /// The values the grey scale runs between: the 0.1st and 99.9th percentiles of the
    /// finite pixels below `saturation`, so a few dead, hot or saturated pixels do not wash
    /// the picture out (they show black or white). Percentiles come from a sample of at most
    /// 65536 evenly spaced pixels.
    static func scaleRange(_ values: [Double], saturation: Double) -> (Double, Double) {
        let stride = Swift.max(1, values.count / 65536)
        var sample = Swift.stride(from: 0, to: values.count, by: stride).map { values[$0] }.filter { $0.isFinite && $0 < saturation }
        if sample.isEmpty { sample = values.filter(\.isFinite) }  // every pixel saturated
        guard !sample.isEmpty else { return (0, 0) }
        sample.sort()
        let last = sample.count - 1
        return (sample[Int(Double(last) * 0.001)], sample[Int((Double(last) * 0.999).rounded(.up))])
    }

    /// The frame as a PNG file.
    public static func png(_ raw: UnsafeRawBufferPointer, dtype: FrameDType, rows: Int, columns: Int) throws -> [UInt8] {
        let image = gray(raw, dtype: dtype, rows: rows, columns: columns)
        return try PNGWriter.encode(width: image.width, height: image.height, color: .gray, pixels: image.pixels, level: 1)
    }

    static func doubles(_ raw: UnsafeRawBufferPointer, dtype: FrameDType) -> [Double] {
        switch dtype {
        case .uint8: return raw.withMemoryRebound(to: UInt8.self) { $0.map(Double.init) }
        case .int8: return raw.withMemoryRebound(to: Int8.self) { $0.map(Double.init) }
        case .uint16: return raw.withMemoryRebound(to: UInt16.self) { $0.map(Double.init) }
        case .int16: return raw.withMemoryRebound(to: Int16.self) { $0.map(Double.init) }
        case .uint32: return raw.withMemoryRebound(to: UInt32.self) { $0.map(Double.init) }
        case .int32: return raw.withMemoryRebound(to: Int32.self) { $0.map(Double.init) }
        case .uint64: return raw.withMemoryRebound(to: UInt64.self) { $0.map(Double.init) }
        case .int64: return raw.withMemoryRebound(to: Int64.self) { $0.map(Double.init) }
        case .float32: return raw.withMemoryRebound(to: Float.self) { $0.map(Double.init) }
        case .float64: return raw.withMemoryRebound(to: Double.self) { Array($0) }
        }
    }

    /// Means of factor x factor blocks (the last blocks may be smaller); NaN only if a whole block is.
    static func bin(_ values: [Double], rows: Int, columns: Int, factor: Int) -> ([Double], Int, Int) {
        let outRows = (rows + factor - 1) / factor, outColumns = (columns + factor - 1) / factor
        var sums = [Double](repeating: 0, count: outRows * outColumns)
        var counts = [Int](repeating: 0, count: outRows * outColumns)
        for r in 0..<rows {
            for c in 0..<columns {
                let v = values[r * columns + c]
                guard !v.isNaN else { continue }
                let i = (r / factor) * outColumns + c / factor
                sums[i] += v
                counts[i] += 1
            }
        }
        return (zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan }, outRows, outColumns)
    }
}
