import Foundation
import JSONValue
import Resonance

/// A field as a Tiled array: its structure (dtype, shape, chunks) and its bytes.
///
/// Columns: an integer column without gaps is `<i8`; a float column `<f8` (missing values
/// NaN); an integer column with missing values `<f8` with NaN, as pandas makes it; a bool
/// column `|b1` (with missing values `<f8`, 1/0/NaN); a string column `<U<n>` (UTF-32, n
/// the longest value; missing values empty). One chunk. Frames: `(frames, rows, columns)`
/// in the stored dtype, one chunk per frame, as the Zarr array stores them.
struct TiledArray {
    enum Kind { case int64, float64, bool, unicode(Int), frames(FrameDType?) }

    let field: TiledField
    let kind: Kind
    let shape: [Int]

    init(_ field: TiledField) {
        self.field = field
        switch field {
        case .column(let column):
            shape = [column.count]
            switch column.kind {
            case .int64: kind = column.missingCount == 0 ? .int64 : .float64
            case .double: kind = .float64
            case .bool: kind = column.missingCount == 0 ? .bool : .float64
            case .string:
                let longest = ((try? column.strings()) ?? []).reduce(1) { max($0, $1?.unicodeScalars.count ?? 0) }
                kind = .unicode(longest)
            }
        case .frames(_, let frames):
            shape = frames.shape
            kind = .frames(frames.dtype)
        }
    }

    var itemSize: Int {
        switch kind {
        case .int64, .float64: return 8
        case .bool: return 1
        case .unicode(let n): return 4 * n
        case .frames(let d): return d?.size ?? 1
        }
    }

    /// numpy's kind letter.
    var kindLetter: String {
        switch kind {
        case .int64: return "i"
        case .float64: return "f"
        case .bool: return "b"
        case .unicode: return "U"
        case .frames(let d):
            guard let d else { return "u" }
            return d.rawValue.hasPrefix("float") ? "f" : d.rawValue.hasPrefix("uint") ? "u" : "i"
        }
    }

    var chunks: [[Int]] {
        switch field {
        case .column: return [[shape[0]]]
        case .frames: return [Array(repeating: 1, count: shape[0]), [shape[1]], [shape[2]]]
        }
    }

    var structure: JSONValue {
        [
            "data_type": ["endianness": .string(itemSize == 1 && kindLetter != "U" ? "not_applicable" : "little"),
                          "kind": .string(kindLetter), "itemsize": .int(Int64(itemSize)), "dt_units": .null],
            "chunks": .array(chunks.map { .array($0.map { .int(Int64($0)) }) }),
            "shape": .array(shape.map { .int(Int64($0)) }),
            "dims": .null, "resizable": false,
        ]
    }

    /// The elements `selection` picks, C order, little-endian.
    func read(_ selection: [TiledAxisSelection]) throws -> [UInt8] {
        switch field {
        case .column(let column):
            let bytes = try columnBytes(column)
            return bytes.withUnsafeBytes { TiledSlice.extract($0, shape: shape, elementSize: itemSize, selection) }
        case .frames(_, let frames):
            let picked = selection[0].indices
            let frameBytes = frames.frameByteCount
            var buffer = [UInt8](repeating: 0, count: picked.count * frameBytes)
            // Consecutive frames are read together (decoded on all cores).
            var k = 0
            try buffer.withUnsafeMutableBytes { target in
                while k < picked.count {
                    var end = k + 1
                    while end < picked.count, picked[end] == picked[end - 1] + 1 { end += 1 }
                    let slot = UnsafeMutableRawBufferPointer(rebasing: target[(k * frameBytes)..<(end * frameBytes)])
                    try frames.read(picked[k]..<(picked[end - 1] + 1), into: slot)
                    k = end
                }
            }
            var rest = selection
            rest[0] = TiledAxisSelection(indices: Array(0..<picked.count), keepsAxis: selection[0].keepsAxis)
            return buffer.withUnsafeBytes {
                TiledSlice.extract($0, shape: [picked.count, frames.rows, frames.columns], elementSize: itemSize, rest)
            }
        }
    }

    func columnBytes(_ column: EventColumn) throws -> [UInt8] {
        switch kind {
        case .int64:
            return try column.int64s().map { $0 ?? 0 }.withUnsafeBytes { Array($0) }
        case .float64:
            if column.kind == .bool {
                return try column.bools().map { $0.map { $0 ? 1.0 : 0.0 } ?? .nan }.withUnsafeBytes { Array($0) }
            }
            return try column.doubles(missing: .nan).withUnsafeBytes { Array($0) }
        case .bool:
            return try column.bools().map { $0 == true ? UInt8(1) : 0 }
        case .unicode(let n):
            var out = [UInt8](repeating: 0, count: column.count * 4 * n)
            for (row, value) in try column.strings().enumerated() {
                guard let value else { continue }
                var at = row * 4 * n
                for scalar in value.unicodeScalars {
                    let v = scalar.value
                    out[at] = UInt8(v & 0xFF); out[at + 1] = UInt8((v >> 8) & 0xFF)
                    out[at + 2] = UInt8((v >> 16) & 0xFF); out[at + 3] = UInt8(v >> 24)
                    at += 4
                }
            }
            return out
        case .frames:
            return []
        }
    }
}

/// `GET /api/v1/array/full/...` and `/array/block/...`.
enum TiledArrays {
    static func array(_ node: TiledNode) throws -> TiledArray {
        guard case .field(_, _, _, let field) = node else {
            throw TiledError.notFound("No array at /\(node.path.joined(separator: "/")): it is a container")
        }
        return TiledArray(field)
    }

    /// The whole array or `slice=` of it. A request without `slice` whose
    /// `expected_shape` is smaller than the array (a live run grew since the client read
    /// its structure) gets the leading part it expects: what the client saw, consistently.
    static func full(_ node: TiledNode, query: TiledQuery) throws -> [UInt8] {
        let array = try array(node)
        let expected = try expectedShape(query)
        var items = try query.first("slice").map(TiledSlice.parse) ?? []
        if query.first("slice") == nil, let expected, expected != array.shape, expected.count == array.shape.count,
           zip(expected, array.shape).allSatisfy({ $0 <= $1 }) {
            items = expected.map { .range(0, $0, nil) }
        }
        let selection = try TiledSlice.select(items, shape: array.shape)
        try check(expected, TiledSlice.shape(selection))
        return try array.read(selection)
    }

    /// One chunk (`block=i,j,k`), or `slice=` of it.
    static func block(_ node: TiledNode, query: TiledQuery) throws -> [UInt8] {
        let array = try array(node)
        let text = query.first("block") ?? ""
        let parts = text.isEmpty ? [] : text.split(separator: ",").map { Int($0) }
        guard parts.count == array.shape.count, parts.allSatisfy({ $0 != nil }) else {
            throw TiledError.badRequest("block=\(text.debugDescription) does not name a block of a \(array.shape.count)-dimensional array")
        }
        var selection: [TiledAxisSelection] = []
        for (axis, chunk) in array.chunks.enumerated() {
            let b = parts[axis]!
            guard b >= 0, b < chunk.count else { throw TiledError.badRequest("Block index \(text) out of range") }
            let start = chunk.prefix(b).reduce(0, +)
            selection.append(TiledAxisSelection(indices: Array(start..<(start + chunk[b])), keepsAxis: true))
        }
        if let sliceText = query.first("slice") {
            let within = try TiledSlice.select(try TiledSlice.parse(sliceText), shape: TiledSlice.shape(selection))
            selection = zip(selection, within).map { outer, inner in
                TiledAxisSelection(indices: inner.indices.map { outer.indices[$0] }, keepsAxis: inner.keepsAxis)
            }
        }
        try check(try expectedShape(query), TiledSlice.shape(selection))
        return try array.read(selection)
    }

    static func expectedShape(_ query: TiledQuery) throws -> [Int]? {
        guard let text = query.first("expected_shape") else { return nil }
        if text == "scalar" || text.isEmpty { return [] }
        let parts = text.split(separator: ",").map { Int($0) }
        guard parts.allSatisfy({ $0 != nil }) else { throw TiledError.badRequest("expected_shape=\(text.debugDescription) is not a shape") }
        return parts.map { $0! }
    }

    static func check(_ expected: [Int]?, _ actual: [Int]) throws {
        guard let expected, expected != actual else { return }
        throw TiledError(.unprocessableContent, "The expected shape \(expected) does not match the actual shape \(actual) that would result from the requested block and slice.")
    }
}
