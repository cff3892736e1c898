/// NumPy-style selections as Tiled's client sends them (`slice=5,100:356,100:356`,
/// `...`, `::2`, negative indices), read as Python reads them.
enum TiledSliceItem: Equatable {
    case index(Int)
    case range(Int?, Int?, Int?)
    case ellipsis
}

/// What one axis keeps: the source indices, and whether the axis stays (a slice) or goes
/// (an integer index).
struct TiledAxisSelection: Equatable {
    var indices: [Int]
    var keepsAxis: Bool
}

enum TiledSlice {
    /// Parses `a`, `a:b`, `a:b:c`, `:`, `...` items separated by commas; brackets and
    /// spaces are ignored, as Tiled's `NDSlice.from_numpy_str` ignores them.
    static func parse(_ text: String) throws -> [TiledSliceItem] {
        let trimmed = text.filter { !"()[] ".contains($0) }
        if trimmed.isEmpty { return [] }
        return try trimmed.split(separator: ",", omittingEmptySubsequences: false).map { part -> TiledSliceItem in
            if part == "..." { return .ellipsis }
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            func int(_ s: Substring) throws -> Int? {
                if s.isEmpty { return nil }
                guard let v = Int(s) else { throw TiledError.badRequest("Invalid slice part: \"\(part)\"") }
                return v
            }
            switch pieces.count {
            case 1:
                guard let v = try int(pieces[0]) else { throw TiledError.badRequest("Invalid slice part: \"\(part)\"") }
                return .index(v)
            case 2: return .range(try int(pieces[0]), try int(pieces[1]), nil)
            case 3:
                let step = try int(pieces[2])
                if step == 0 { throw TiledError.badRequest("slice step cannot be zero: \"\(part)\"") }
                return .range(try int(pieces[0]), try int(pieces[1]), step)
            default: throw TiledError.badRequest("Invalid slice part: \"\(part)\"")
            }
        }
    }

    /// The selection of each axis of an array of `shape`; 400 for an index out of range or
    /// more items than axes.
    static func select(_ items: [TiledSliceItem], shape: [Int]) throws -> [TiledAxisSelection] {
        var expanded = items
        if let e = items.firstIndex(of: .ellipsis) {
            let rest = items.count - 1
            guard rest <= shape.count else { throw TiledError.badRequest("too many indices for an array of \(shape.count) dimensions") }
            expanded.replaceSubrange(e...e, with: Array(repeating: .range(nil, nil, nil), count: shape.count - rest))
        }
        guard !expanded.contains(.ellipsis) else { throw TiledError.badRequest("an index can only have a single ellipsis ('...')") }
        guard expanded.count <= shape.count else {
            throw TiledError.badRequest("too many indices for array: array is \(shape.count)-dimensional, but \(expanded.count) were indexed")
        }
        expanded += Array(repeating: .range(nil, nil, nil), count: shape.count - expanded.count)
        return try zip(expanded, shape).enumerated().map { axis, pair -> TiledAxisSelection in
            let (item, length) = pair
            switch item {
            case .index(let i):
                let j = i < 0 ? i + length : i
                guard 0 <= j, j < length else {
                    throw TiledError.badRequest("index \(i) is out of bounds for axis \(axis) with size \(length)")
                }
                return TiledAxisSelection(indices: [j], keepsAxis: false)
            case .range(let start, let stop, let step):
                return TiledAxisSelection(indices: pythonRange(start, stop, step ?? 1, length: length), keepsAxis: true)
            case .ellipsis:
                return TiledAxisSelection(indices: Array(0..<length), keepsAxis: true)
            }
        }
    }

    /// `range(*slice(start, stop, step).indices(length))`.
    static func pythonRange(_ start: Int?, _ stop: Int?, _ step: Int, length: Int) -> [Int] {
        func clamp(_ v: Int?, _ fallback: Int, low: Int, high: Int) -> Int {
            guard var v else { return fallback }
            if v < 0 { v += length }
            return min(max(v, low), high)
        }
        if step > 0 {
            let a = clamp(start, 0, low: 0, high: length), b = clamp(stop, length, low: 0, high: length)
            return a < b ? Array(stride(from: a, to: b, by: step)) : []
        } else {
            let a = clamp(start, length - 1, low: -1, high: length - 1), b = clamp(stop, -1, low: -1, high: length - 1)
            return a > b ? Array(stride(from: a, to: b, by: step)) : []
        }
    }

    /// The shape the selection gives.
    static func shape(_ selection: [TiledAxisSelection]) -> [Int] {
        selection.filter(\.keepsAxis).map(\.indices.count)
    }

    /// The selected elements of a C-order array of `shape` held in `source`, C order.
    static func extract(_ source: UnsafeRawBufferPointer, shape: [Int], elementSize: Int, _ selection: [TiledAxisSelection]) -> [UInt8] {
        let total = selection.reduce(1) { $0 * $1.indices.count }
        if total == 0 { return [] }
        let isAll = zip(selection, shape).allSatisfy { $0.keepsAxis && $0.indices.count == $1 && $0.indices.first == 0 && isContiguous($0.indices) }
        if isAll { return Array(source) }
        var strides = Array(repeating: elementSize, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        var out = [UInt8](repeating: 0, count: total * elementSize)
        let last = selection.count - 1
        let lastIndices = selection[last].indices
        let lastRun = isContiguous(lastIndices) ? lastIndices.count * elementSize : 0
        out.withUnsafeMutableBytes { target in
            var position = 0
            var counters = Array(repeating: 0, count: last)
            while true {
                var offset = 0
                for axis in 0..<last { offset += selection[axis].indices[counters[axis]] * strides[axis] }
                if lastRun > 0 {
                    let from = offset + lastIndices[0] * elementSize
                    target.baseAddress!.advanced(by: position).copyMemory(from: source.baseAddress!.advanced(by: from), byteCount: lastRun)
                    position += lastRun
                } else {
                    for i in lastIndices {
                        target.baseAddress!.advanced(by: position).copyMemory(from: source.baseAddress!.advanced(by: offset + i * elementSize), byteCount: elementSize)
                        position += elementSize
                    }
                }
                var axis = last - 1
                while axis >= 0 {
                    counters[axis] += 1
                    if counters[axis] < selection[axis].indices.count { break }
                    counters[axis] = 0
                    axis -= 1
                }
                if axis < 0 { break }
            }
        }
        return out
    }

    static func isContiguous(_ indices: [Int]) -> Bool {
        guard let first = indices.first else { return true }
        return indices.last! - first == indices.count - 1 && zip(indices, indices.dropFirst()).allSatisfy { $1 == $0 + 1 }
    }
}
