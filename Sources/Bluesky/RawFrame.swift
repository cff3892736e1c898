import Foundation
import JSONValue
import Resonance

/// A detector frame read from a file a resource points at: pixels in native byte order.
///
/// ```swift
/// let frames = try RawFrame.readNPY(path: "/data/img_0.npy")   // one frame, or a stack's frames
/// ```
struct RawFrame: Sendable {
    var rows: Int
    var columns: Int
    var dtype: FrameDType
    var bytes: [UInt8]

    /// Why a file could not be read as frames.
    struct ReadError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "\(path): \(reason)" }
    }

    static func load(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(path: path, reason: "cannot read the file (\(String(cString: strerror(errno))))")
        }
        return [UInt8](data)
    }

    // MARK: NumPy .npy

    /// The frames of a `.npy` file: a 2-D array is one frame, a 3-D array a stack.
    static func readNPY(path: String) throws -> [RawFrame] {
        let file = try load(path)
        func fail(_ reason: String) -> ReadError { ReadError(path: path, reason: "not a readable .npy file: \(reason)") }
        guard file.count >= 10, file[0] == 0x93, Array(file[1..<6]) == Array("NUMPY".utf8) else { throw fail("no NumPy magic") }
        let major = file[6]
        let (headerLength, headerStart): (Int, Int) = major == 1
            ? (Int(file[8]) | Int(file[9]) << 8, 10)
            : (file.count >= 12 ? (Int(file[8]) | Int(file[9]) << 8 | Int(file[10]) << 16 | Int(file[11]) << 24, 12) : (0, 0))
        guard headerStart > 0, headerStart + headerLength <= file.count,
              let header = String(bytes: file[headerStart..<headerStart + headerLength], encoding: .utf8)
        else { throw fail("truncated header") }
        guard let descr = quoted(after: "'descr':", in: header) else { throw fail("no descr") }
        guard !header.contains("'fortran_order': True") else { throw fail("Fortran-ordered arrays are not supported") }
        guard let shapeOpen = header.range(of: "'shape':"), let paren = header[shapeOpen.upperBound...].firstIndex(of: "("),
              let close = header[paren...].firstIndex(of: ")")
        else { throw fail("no shape") }
        let shape = header[header.index(after: paren)..<close].split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let (dtype, bigEndian) = try numpyDType(descr, path: path)
        let body = Array(file[(headerStart + headerLength)...])
        return try frames(shape: shape, dtype: dtype, bigEndian: bigEndian, body: body, path: path)
    }

    /// FrameDType of a numpy type string like `<u2`, `|u1`, `>f8`, and whether it is big-endian.
    static func numpyDType(_ descr: String, path: String = "") throws -> (FrameDType, Bool) {
        guard descr.count >= 3 else { throw ReadError(path: path, reason: "unknown dtype \(descr.debugDescription)") }
        let order = descr.first!
        let kind = descr.dropFirst().first!
        let size = Int(descr.dropFirst(2)) ?? 0
        let name: String
        switch kind {
        case "u": name = "uint\(size * 8)"
        case "i": name = "int\(size * 8)"
        case "f": name = "float\(size * 8)"
        default: name = ""
        }
        guard let dtype = FrameDType(rawValue: name) else {
            throw ReadError(path: path, reason: "dtype \(descr.debugDescription) is not a frame pixel type")
        }
        return (dtype, order == ">" || (order == "!"))
    }

    static func frames(shape: [Int], dtype: FrameDType, bigEndian: Bool, body: [UInt8], path: String) throws -> [RawFrame] {
        let (count, rows, columns): (Int, Int, Int)
        switch shape.count {
        case 2: (count, rows, columns) = (1, shape[0], shape[1])
        case 3: (count, rows, columns) = (shape[0], shape[1], shape[2])
        default: throw ReadError(path: path, reason: "shape \(shape) is not a frame (2-D) or a stack of frames (3-D)")
        }
        let frameBytes = rows * columns * dtype.size
        guard count * frameBytes <= body.count, frameBytes > 0 else {
            throw ReadError(path: path, reason: "\(body.count) bytes of data do not hold shape \(shape) of \(dtype.rawValue)")
        }
        return (0..<count).map { k in
            var bytes = Array(body[(k * frameBytes)..<((k + 1) * frameBytes)])
            if bigEndian { swapBytes(&bytes, size: dtype.size) }
            return RawFrame(rows: rows, columns: columns, dtype: dtype, bytes: bytes)
        }
    }

    static func swapBytes(_ bytes: inout [UInt8], size: Int) {
        guard size > 1 else { return }
        var k = 0
        while k + size <= bytes.count {
            bytes[k..<(k + size)].reverse()
            k += size
        }
    }

    private static func quoted(after key: String, in text: String) -> String? {
        guard let r = text.range(of: key) else { return nil }
        let rest = text[r.upperBound...]
        guard let q1 = rest.firstIndex(of: "'") else { return nil }
        let after = rest[rest.index(after: q1)...]
        guard let q2 = after.firstIndex(of: "'") else { return nil }
        return String(after[..<q2])
    }

    // MARK: TIFF

    /// The frames of a baseline TIFF file (uncompressed, one sample per pixel, 8 to 64-bit
    /// integers or 32/64-bit floats, strips): one frame per page.
    static func readTIFF(path: String) throws -> [RawFrame] {
        let file = try load(path)
        func fail(_ reason: String) -> ReadError { ReadError(path: path, reason: "not a readable TIFF: \(reason)") }
        guard file.count >= 8 else { throw fail("too short") }
        let little: Bool
        switch (file[0], file[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: throw fail("no byte-order mark")
        }
        func u(_ offset: Int, _ size: Int) throws -> Int {
            guard offset >= 0, offset + size <= file.count else { throw fail("offset \(offset) beyond the file") }
            var v = 0
            for k in 0..<size { v |= Int(file[offset + (little ? k : size - 1 - k)]) << (8 * k) }
            return v
        }
        guard try u(2, 2) == 42 else { throw fail("not classic TIFF (BigTIFF is not supported)") }
        var ifd = try u(4, 4)
        var frames: [RawFrame] = []
        var pages = 0
        while ifd != 0 {
            pages += 1
            guard pages <= 100_000 else { throw fail("too many pages") }
            let count = try u(ifd, 2)
            var tags: [Int: [Int]] = [:]
            for k in 0..<count {
                let entry = ifd + 2 + 12 * k
                let (tag, type, n) = (try u(entry, 2), try u(entry + 2, 2), try u(entry + 4, 4))
                let size = [1: 1, 3: 2, 4: 4, 16: 8][type] ?? 0
                guard size > 0 else { continue }
                let at = n * size <= 4 ? entry + 8 : try u(entry + 8, 4)
                tags[tag] = try (0..<min(n, 1 << 20)).map { try u(at + $0 * size, size) }
            }
            ifd = try u(ifd + 2 + 12 * count, 4)
            guard let columns = tags[256]?.first, let rows = tags[257]?.first else { throw fail("no ImageWidth/ImageLength") }
            let bits = tags[258]?.first ?? 1
            guard (tags[259]?.first ?? 1) == 1 else { throw fail("compressed (Compression \(tags[259]![0])); only uncompressed TIFF is read") }
            guard (tags[277]?.first ?? 1) == 1 else { throw fail("\(tags[277]![0]) samples per pixel; frames have one") }
            let format = tags[339]?.first ?? 1
            let name = format == 3 ? "float\(bits)" : (format == 2 ? "int\(bits)" : "uint\(bits)")
            guard let dtype = FrameDType(rawValue: name) else { throw fail("\(bits)-bit samples of format \(format)") }
            guard let offsets = tags[273], let counts = tags[279], offsets.count == counts.count else { throw fail("no strips") }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(rows * columns * dtype.size)
            for (offset, n) in zip(offsets, counts) {
                guard offset + n <= file.count else { throw fail("a strip runs beyond the file") }
                bytes += file[offset..<(offset + n)]
            }
            guard bytes.count >= rows * columns * dtype.size else { throw fail("strips hold \(bytes.count) bytes, short of \(rows)x\(columns) \(dtype.rawValue)") }
            bytes.removeLast(bytes.count - rows * columns * dtype.size)
            if !little { swapBytes(&bytes, size: dtype.size) }
            frames.append(RawFrame(rows: rows, columns: columns, dtype: dtype, bytes: bytes))
        }
        return frames
    }

    // MARK: Arrays in event data

    /// A 2-D array of numbers from event data as a frame: the data key's `dtype_numpy` when
    /// it names a pixel type, else int64 when every value is an integer, else float64.
    static func fromJSON(_ value: JSONValue, dtypeNumpy: String?) -> RawFrame? {
        guard let rowValues = value.arrayValue, let first = rowValues.first?.arrayValue, !first.isEmpty else { return nil }
        let columns = first.count
        var numbers: [JSONValue] = []
        numbers.reserveCapacity(rowValues.count * columns)
        var allInts = true
        for row in rowValues {
            guard let cells = row.arrayValue, cells.count == columns else { return nil }
            for cell in cells {
                switch cell {
                case .int: break
                case .double: allInts = false
                default: return nil
                }
            }
            numbers += cells
        }
        // The declared type only when it holds every value exactly (floats need a float type).
        let declared = dtypeNumpy.flatMap { try? numpyDType($0).0 }.flatMap { d in
            allInts || d == .float64 ? d : nil
        }
        let dtype = declared ?? (allInts ? .int64 : .float64)
        var bytes = [UInt8]()
        bytes.reserveCapacity(numbers.count * dtype.size)
        func append<T>(_ v: T) { withUnsafeBytes(of: v) { bytes += $0 } }
        for n in numbers {
            let d = n.doubleValue ?? 0
            let i = n.intValue ?? Int64(exactly: d.rounded(.towardZero)) ?? 0
            switch dtype {
            case .uint8: append(UInt8(truncatingIfNeeded: i))
            case .int8: append(Int8(truncatingIfNeeded: i))
            case .uint16: append(UInt16(truncatingIfNeeded: i))
            case .int16: append(Int16(truncatingIfNeeded: i))
            case .uint32: append(UInt32(truncatingIfNeeded: i))
            case .int32: append(Int32(truncatingIfNeeded: i))
            case .uint64: append(UInt64(bitPattern: i))
            case .int64: append(i)
            case .float32: append(Float(d))
            case .float64: append(d)
            }
        }
        return RawFrame(rows: rowValues.count, columns: columns, dtype: dtype, bytes: bytes)
    }
}
