import Foundation
import Resonance

/// A rectangle of a frame: parsing `rows=a:b` / `cols=c:d` and copying the pixels out
/// (NPY and PNG encoding are ResonanceFormats').
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
}
