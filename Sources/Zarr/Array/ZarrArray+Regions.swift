import Concurrency
/// Reads and writes of boxes that may span many chunks (hyperslabs). Chunks are processed
/// in parallel on all cores; each worker holds one encoded and at most one decoded chunk,
/// so memory stays bounded however large the region is.
///
/// ```swift
/// // frames 100..<164 of a (frames, rows, cols) array into one caller buffer
/// let region = ZarrRegion(start: [100, 0, 0], shape: [64, rows, cols])
/// try buffer.withUnsafeMutableBytes { try array.read(region, into: $0) }
/// ```
extension ZarrArray {
    /// Checks `region` against `arrayShape` and returns its byte count.
    func checkRegion(_ region: ZarrRegion, in arrayShape: [Int]) throws -> Int {
        guard region.start.count == arrayShape.count, region.shape.count == arrayShape.count else {
            throw ZarrError.invalidRegion(path: location, reason: "region \(region) has rank \(region.shape.count), the array \(arrayShape.count)")
        }
        var bytes = dataType.size
        for d in 0..<arrayShape.count {
            let (end, overflow) = region.start[d].addingReportingOverflow(region.shape[d])
            guard region.start[d] >= 0, region.shape[d] >= 0, !overflow, end <= arrayShape[d] else {
                throw ZarrError.invalidRegion(path: location, reason: "region \(region) is outside the array shape \(arrayShape)")
            }
            let (product, overflow2) = bytes.multipliedReportingOverflow(by: region.shape[d])
            guard !overflow2 else { throw ZarrError.invalidRegion(path: location, reason: "region \(region) is too large") }
            bytes = product
        }
        return bytes
    }

    /// One chunk's share of a region.
    struct ChunkSlice {
        /// Chunk grid indices.
        var indices: [Int]
        /// The covered box, relative to the chunk's origin.
        var startInChunk: [Int]
        /// The covered box, relative to the region's origin.
        var startInRegion: [Int]
        /// Extent of the covered box.
        var box: [Int]
        /// The chunk's extent inside the array (smaller than the chunk shape at the edges).
        var chunkInArray: [Int]
    }

    /// The chunks a region touches, enumerated lazily by number.
    struct RegionChunks {
        let region: ZarrRegion
        let chunkShape: [Int]
        let arrayShape: [Int]
        let first: [Int]
        let counts: [Int]
        let count: Int

        init(region: ZarrRegion, chunkShape: [Int], arrayShape: [Int]) {
            self.region = region
            self.chunkShape = chunkShape
            self.arrayShape = arrayShape
            if region.shape.contains(0) {
                first = region.start
                counts = region.shape.map { _ in 0 }
                count = 0
                return
            }
            first = zip(region.start, chunkShape).map { $0 / $1 }
            let last = zip(region.end, chunkShape).map { ($0 - 1) / $1 }
            counts = zip(first, last).map { $1 - $0 + 1 }
            count = counts.reduce(1, *)
        }

        subscript(n: Int) -> ChunkSlice {
            var rest = n
            var indices = [Int](repeating: 0, count: counts.count)
            for d in stride(from: counts.count - 1, through: 0, by: -1) {
                indices[d] = first[d] + rest % counts[d]
                rest /= counts[d]
            }
            var slice = ChunkSlice(indices: indices, startInChunk: [], startInRegion: [], box: [], chunkInArray: [])
            for d in 0..<indices.count {
                let chunkStart = indices[d] * chunkShape[d]
                let lo = max(chunkStart, region.start[d])
                let hi = min(chunkStart + chunkShape[d], region.end[d])
                slice.startInChunk.append(lo - chunkStart)
                slice.startInRegion.append(lo - region.start[d])
                slice.box.append(hi - lo)
                slice.chunkInArray.append(min(chunkShape[d], arrayShape[d] - chunkStart))
            }
            return slice
        }
    }

    // MARK: Reading

    /// Reads `region` into `buffer` (C-order native bytes of `region.shape`). Chunks that lie
    /// whole and contiguous in the buffer are decoded straight into it; missing chunks read
    /// as the fill value.
    public func read(_ region: ZarrRegion, into buffer: UnsafeMutableRawBufferPointer) throws {
        let bytes = try checkRegion(region, in: shape)
        guard buffer.count == bytes else { throw ZarrError.bufferSizeMismatch(path: location, expected: bytes, actual: buffer.count) }
        let chunks = RegionChunks(region: region, chunkShape: chunkShape, arrayShape: shape)
        let elementSize = dataType.size
        let chunkBytes = chunkByteCount
        try parallelFor(chunks.count) { n in
            let slice = chunks[n]
            let key = chunkKey(at: slice.indices)
            guard let encoded = try store.get(key) else {
                Hyperslab.fill(box: slice.box, in: buffer, shape: region.shape, at: slice.startInRegion, pattern: fillPattern)
                return
            }
            try withChunkContext(store.describe(key)) {
                try encoded.withUnsafeBytes { source in
                    if slice.box == chunkShape && Hyperslab.isContiguous(box: slice.box, in: region.shape) {
                        let at = Hyperslab.offset(of: slice.startInRegion, in: region.shape, elementSize: elementSize)
                        try pipeline.decode(source, into: UnsafeMutableRawBufferPointer(rebasing: buffer[at..<(at + chunkBytes)]))
                        return
                    }
                    var decoded = [UInt8](repeating: 0, count: chunkBytes)
                    try decoded.withUnsafeMutableBytes { try pipeline.decode(source, into: $0) }
                    decoded.withUnsafeBytes { chunk in
                        Hyperslab.copy(box: slice.box, from: chunk, shape: chunkShape, at: slice.startInChunk,
                            to: buffer, shape: region.shape, at: slice.startInRegion, elementSize: elementSize)
                    }
                }
            }
        }
    }

    /// Reads `region` as typed values in C order.
    public func read<T: ZarrElement>(_ region: ZarrRegion, as type: T.Type = T.self) throws -> [T] {
        try checkElementType(T.self)
        let bytes = try checkRegion(region, in: shape)
        return try typedBuffer(count: bytes / dataType.size) { try read(region, into: $0) }
    }

    /// Reads the whole array into `buffer` (C-order native bytes of ``shape``).
    public func readAll(into buffer: UnsafeMutableRawBufferPointer) throws {
        try read(.whole(shape), into: buffer)
    }

    /// Reads the whole array as typed values in C order.
    public func readAll<T: ZarrElement>(as type: T.Type = T.self) throws -> [T] {
        try read(.whole(shape))
    }

    // MARK: Writing

    /// Writes `data` (C-order native bytes of `region.shape`) into `region`. Chunks the region
    /// covers only in part are read, updated and rewritten; chunks left all fill value are
    /// deleted unless ``storeEmptyChunks`` is set.
    public func write(_ region: ZarrRegion, from data: UnsafeRawBufferPointer) throws {
        try write(region, from: data, arrayShape: shape)
    }

    /// Writes typed values (C order, `region.shape`) into `region`.
    public func write<T: ZarrElement>(_ region: ZarrRegion, _ values: [T]) throws {
        try checkElementType(T.self)
        try values.withUnsafeBytes { try write(region, from: $0) }
    }

    /// Writes the whole array from C-order native bytes of ``shape``.
    public func writeAll(from data: UnsafeRawBufferPointer) throws {
        try write(.whole(shape), from: data)
    }

    /// Writes the whole array from typed values in C order.
    public func writeAll<T: ZarrElement>(_ values: [T]) throws {
        try write(.whole(shape), values)
    }

    /// The write itself, against `arrayShape` (which ``append(_:)-(UnsafeRawBufferPointer)`` sets
    /// to the grown shape before `zarr.json` says so).
    func write(_ region: ZarrRegion, from data: UnsafeRawBufferPointer, arrayShape: [Int]) throws {
        let bytes = try checkRegion(region, in: arrayShape)
        guard data.count == bytes else { throw ZarrError.bufferSizeMismatch(path: location, expected: bytes, actual: data.count) }
        let chunks = RegionChunks(region: region, chunkShape: chunkShape, arrayShape: arrayShape)
        let elementSize = dataType.size
        let chunkBytes = chunkByteCount
        try parallelFor(chunks.count) { n in
            let slice = chunks[n]
            let key = chunkKey(at: slice.indices)
            try withChunkContext(store.describe(key)) {
                let encoded: [UInt8]?
                if slice.box == chunkShape && Hyperslab.isContiguous(box: slice.box, in: region.shape) {
                    // The whole chunk is one run of the caller's data: encode it in place.
                    let at = Hyperslab.offset(of: slice.startInRegion, in: region.shape, elementSize: elementSize)
                    encoded = try encodeOrSkip(UnsafeRawBufferPointer(rebasing: data[at..<(at + chunkBytes)]))
                } else {
                    var chunk = [UInt8](repeating: 0, count: chunkBytes)
                    try chunk.withUnsafeMutableBytes { chunkBuffer in
                        if slice.box == slice.chunkInArray {
                            // Every in-bounds element is overwritten; the padding takes the fill value.
                            if slice.box != chunkShape { Hyperslab.fill(chunkBuffer, pattern: fillPattern) }
                        } else if let existing = try store.get(key) {
                            try existing.withUnsafeBytes { try pipeline.decode($0, into: chunkBuffer) }
                        } else {
                            Hyperslab.fill(chunkBuffer, pattern: fillPattern)
                        }
                        Hyperslab.copy(box: slice.box, from: data, shape: region.shape, at: slice.startInRegion,
                            to: chunkBuffer, shape: chunkShape, at: slice.startInChunk, elementSize: elementSize)
                    }
                    encoded = try chunk.withUnsafeBytes { try encodeOrSkip($0) }
                }
                if let encoded { try store.set(key, encoded) } else { try store.delete(key) }
            }
        }
    }

    private func encodeOrSkip(_ chunk: UnsafeRawBufferPointer) throws -> [UInt8]? {
        if !storeEmptyChunks && isAllFill(chunk) { return nil }
        return try pipeline.encode(chunk)
    }
}
