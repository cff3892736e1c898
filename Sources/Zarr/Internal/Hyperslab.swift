/// Copies and fills of N-dimensional boxes inside C-order buffers. Trailing dimensions that
/// are whole in both buffers merge into one contiguous run, so copying frames or full rows
/// is a handful of memcpy calls.
enum Hyperslab {
    /// Byte strides of a C-order buffer of `shape`.
    static func strides(_ shape: [Int], elementSize: Int) -> [Int] {
        var strides = [Int](repeating: elementSize, count: shape.count)
        var d = shape.count - 2
        while d >= 0 {
            strides[d] = strides[d + 1] * shape[d + 1]
            d -= 1
        }
        return strides
    }

    /// Byte offset of element `index` in a C-order buffer of `shape`.
    static func offset(of index: [Int], in shape: [Int], elementSize: Int) -> Int {
        var offset = 0
        for d in 0..<shape.count { offset = offset * shape[d] + index[d] }
        return offset * elementSize
    }

    /// True when the box `box` at `start` inside `shape` is one contiguous C-order run:
    /// after the first dimension where the box is longer than 1, it spans every dimension whole.
    static func isContiguous(box: [Int], in shape: [Int]) -> Bool {
        var d = 0
        while d < box.count && box[d] == 1 { d += 1 }
        d += 1
        while d < box.count {
            if box[d] != shape[d] { return false }
            d += 1
        }
        return true
    }

    /// Copies the box of extent `box` from `source` (shape `sourceShape`, box at `sourceStart`)
    /// into `destination` (shape `destinationShape`, box at `destinationStart`).
    static func copy(
        box: [Int],
        from source: UnsafeRawBufferPointer, shape sourceShape: [Int], at sourceStart: [Int],
        to destination: UnsafeMutableRawBufferPointer, shape destinationShape: [Int], at destinationStart: [Int],
        elementSize: Int
    ) {
        let rank = box.count
        if box.contains(0) { return }
        guard let src = source.baseAddress, let dst = destination.baseAddress else { return }
        if rank == 0 {
            dst.copyMemory(from: src, byteCount: elementSize)
            return
        }
        // Merge trailing dimensions that are whole in both buffers into one run.
        var k = rank - 1
        while k > 0 && box[k] == sourceShape[k] && box[k] == destinationShape[k] { k -= 1 }
        var run = elementSize
        for d in k..<rank { run *= box[d] }
        let sourceStrides = strides(sourceShape, elementSize: elementSize)
        let destinationStrides = strides(destinationShape, elementSize: elementSize)
        var s = 0, t = 0
        for d in 0..<rank {
            s += sourceStart[d] * sourceStrides[d]
            t += destinationStart[d] * destinationStrides[d]
        }
        if k == 0 {
            (dst + t).copyMemory(from: src + s, byteCount: run)
            return
        }
        // Odometer over dimensions 0..<k; the run covers dimension k onward.
        var index = [Int](repeating: 0, count: k)
        let outer = box[0..<k].reduce(1, *)
        for _ in 0..<outer {
            (dst + t).copyMemory(from: src + s, byteCount: run)
            var d = k - 1
            while d >= 0 {
                index[d] += 1
                s += sourceStrides[d]
                t += destinationStrides[d]
                if index[d] < box[d] { break }
                s -= sourceStrides[d] * box[d]
                t -= destinationStrides[d] * box[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    /// Fills the box of extent `box` at `start` inside `destination` (shape `shape`) with
    /// copies of the one-element `pattern`.
    static func fill(
        box: [Int], in destination: UnsafeMutableRawBufferPointer, shape: [Int], at start: [Int],
        pattern: [UInt8]
    ) {
        let elementSize = pattern.count
        let rank = box.count
        if box.contains(0) { return }
        guard let dst = destination.baseAddress else { return }
        if rank == 0 {
            fill(UnsafeMutableRawBufferPointer(start: dst, count: elementSize), pattern: pattern)
            return
        }
        var k = rank - 1
        while k > 0 && box[k] == shape[k] { k -= 1 }
        var run = elementSize
        for d in k..<rank { run *= box[d] }
        let destinationStrides = strides(shape, elementSize: elementSize)
        var t = 0
        for d in 0..<rank { t += start[d] * destinationStrides[d] }
        var index = [Int](repeating: 0, count: k)
        let outer = box[0..<k].reduce(1, *)
        for _ in 0..<outer {
            fill(UnsafeMutableRawBufferPointer(start: dst + t, count: run), pattern: pattern)
            var d = k - 1
            while d >= 0 {
                index[d] += 1
                t += destinationStrides[d]
                if index[d] < box[d] { break }
                t -= destinationStrides[d] * box[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    /// Fills `buffer` with copies of `pattern` (whose size divides the buffer's).
    static func fill(_ buffer: UnsafeMutableRawBufferPointer, pattern: [UInt8]) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        if let first = pattern.first, pattern.allSatisfy({ $0 == first }) {
            base.initializeMemory(as: UInt8.self, repeating: first, count: buffer.count)
            return
        }
        // Write one element, then double the filled prefix.
        let n = min(pattern.count, buffer.count)
        pattern.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: n) }
        var filled = n
        while filled < buffer.count {
            let step = min(filled, buffer.count - filled)
            (base + filled).copyMemory(from: base, byteCount: step)
            filled += step
        }
    }

    /// True when every element of `buffer` equals the fill value, as zarr-python decides it:
    /// bit for bit, except that any NaN matches a NaN fill value.
    static func isAllFill(_ buffer: UnsafeRawBufferPointer, pattern: [UInt8], dataType: ZarrDataType,
                          fillIsNaN: Bool) -> Bool {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return true }
        if fillIsNaN {
            if dataType == .float32 {
                for i in 0..<(buffer.count / 4) where !Float(bitPattern: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)).isNaN {
                    return false
                }
            } else {
                for i in 0..<(buffer.count / 8) where !Double(bitPattern: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)).isNaN {
                    return false
                }
            }
            return true
        }
        // Compare eight bytes at a time against the pattern repeated to 8 bytes (sizes are 1, 2, 4 or 8).
        var word: UInt64 = 0
        withUnsafeMutableBytes(of: &word) { w in
            for i in 0..<8 { w[i] = pattern[i % pattern.count] }
        }
        let count = buffer.count
        var i = 0
        while count - i >= 8 {
            if base.loadUnaligned(fromByteOffset: i, as: UInt64.self) != word { return false }
            i += 8
        }
        while i < count {
            if base.load(fromByteOffset: i, as: UInt8.self) != pattern[i % pattern.count] { return false }
            i += 1
        }
        return true
    }
}
