import Foundation
import Resonance

/// One frame, or a rectangle of it, as bytes: raw little-endian pixels, or a NumPy `.npy` file.
enum FrameEncoding {
    /// `a:b` as Python slices it (either side may be left out; negatives count from the end),
    /// within `0..<size`. nil text is the whole axis.
    static func slice(_ text: String?, size: Int, name: String) throws -> Range<Int> {
        guard let text else { return 0..<size }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        func bound(_ part: Substring, _ fallback: Int) throws -> Int {
            if part.isEmpty { return fallback }
            guard let value = Int(part) else { throw bad() }
            return value < 0 ? value + size : value
        }
        func bad() -> Problem {
            Problem.badRequest("\(name)=\(text.debugDescription) is not a range a:b within 0..\(size) (the frame has \(size) \(name))")
        }
        guard parts.count == 2 else { throw bad() }
        let lower = try bound(parts[0], 0), upper = try bound(parts[1], size)
        guard 0 <= lower, lower < upper, upper <= size else { throw bad() }
        return lower..<upper
    }

    /// The pixels of `rows` x `cols` of a frame of `columns` columns: C order, native
    /// (little-endian on every platform this runs on) byte order.
    static func region(_ frame: FrameBlock, columns: Int, rows: Range<Int>, cols: Range<Int>) -> [UInt8] {
        let size = frame.dtype.size
        return frame.withUnsafeBytes { all in
            if cols.count == columns {
                return Array(all[(rows.lowerBound * columns * size)..<(rows.upperBound * columns * size)])
            }
            var out = [UInt8]()
            out.reserveCapacity(rows.count * cols.count * size)
            for r in rows {
                let start = (r * columns + cols.lowerBound) * size
                out += all[start..<(start + cols.count * size)]
            }
            return out
        }
    }

    /// The NumPy dtype descriptor, e.g. `<i4`.
    static func npyDescriptor(_ dtype: FrameDType) -> String {
        switch dtype {
        case .uint8: return "|u1"
        case .int8: return "|i1"
        case .uint16: return "<u2"
        case .int16: return "<i2"
        case .uint32: return "<u4"
        case .int32: return "<i4"
        case .uint64: return "<u8"
        case .int64: return "<i8"
        case .float32: return "<f4"
        case .float64: return "<f8"
        }
    }

    /// A version 1.0 `.npy` file of a 2-D C-order array.
    static func npy(_ pixels: [UInt8], dtype: FrameDType, rows: Int, columns: Int) -> [UInt8] {
        var header = "{'descr': '\(npyDescriptor(dtype))', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in "\n".
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        out += [UInt8(length & 0xFF), UInt8(length >> 8)]
        out += Array(header.utf8)
        out += pixels
        return out
    }
}
