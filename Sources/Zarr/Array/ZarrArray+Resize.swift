import Concurrency
/// Changing the shape: resize and append along the first axis.
///
/// ```swift
/// try ccd.append(frame)                   // one more frame: shape[0] += 1
/// try ccd.resize(to: [10, rows, cols])    // shrink: chunks beyond frame 9 are deleted
/// ```
extension ZarrArray {
    /// Sets the shape and rewrites `zarr.json`. When a dimension shrinks, chunks lying
    /// wholly outside the new shape are deleted; chunks cut by the new edge keep their
    /// stored values beyond it (as zarr-python does), which would reappear if the array grew
    /// back over them.
    public mutating func resize(to newShape: [Int]) throws {
        guard newShape.count == shape.count, newShape.allSatisfy({ $0 >= 0 }) else {
            throw ZarrError.invalidRegion(path: location, reason: "cannot resize shape \(shape) to \(newShape)")
        }
        let shrinks = zip(newShape, shape).contains { $0 < $1 }
        metadata.shape = newShape
        // Metadata first: readers stop seeing the cut elements before their chunks go.
        try writeMetadata()
        if shrinks { try deleteChunks(outside: metadata.gridShape) }
    }

    /// Deletes stored chunks whose index lies outside `grid` (found by listing the array's
    /// folder, so chunks left over from earlier shapes go too).
    func deleteChunks(outside grid: [Int]) throws {
        let encoding = metadata.chunkKeyEncoding
        let rank = shape.count
        let doomed = try store.listKeys(under: path.key).filter { key in
            guard let indices = encoding.indices(fromKey: key, rank: rank) else { return false }
            return zip(indices, grid).contains { $0 >= $1 }
        }
        try parallelFor(doomed.count) { n in try store.delete(path.key(of: doomed[n])) }
    }

    /// Appends C-order native bytes along the first axis: `data` holds `k` slabs of
    /// `shape[1...]` each. The chunks are written first and `zarr.json` last, so a reader
    /// never sees a shape that includes unwritten data.
    public mutating func append(_ data: UnsafeRawBufferPointer) throws {
        guard !shape.isEmpty else {
            throw ZarrError.invalidRegion(path: location, reason: "cannot append to a zero-dimensional array")
        }
        var slabBytes = dataType.size
        for n in shape.dropFirst() {
            let (product, overflow) = slabBytes.multipliedReportingOverflow(by: n)
            guard !overflow else { throw ZarrError.invalidRegion(path: location, reason: "shape \(shape) is too large to append to") }
            slabBytes = product
        }
        guard slabBytes > 0, data.count % slabBytes == 0 else {
            throw ZarrError.bufferSizeMismatch(path: location, expected: slabBytes, actual: data.count)
        }
        let count = data.count / slabBytes
        if count == 0 { return }
        var grown = shape
        grown[0] += count
        let region = ZarrRegion(start: [shape[0]] + shape.dropFirst().map { _ in 0 }, shape: [count] + shape.dropFirst())
        try write(region, from: data, arrayShape: grown)
        metadata.shape = grown
        try writeMetadata()
    }

    /// Appends typed values along the first axis; see ``append(_:)-(UnsafeRawBufferPointer)``.
    public mutating func append<T: ZarrElement>(_ values: [T]) throws {
        try checkElementType(T.self)
        try values.withUnsafeBytes { try append($0) }
    }
}
