/// Whole-chunk operations. Encoding and storing are separate steps so callers can pipeline:
/// encode frames on several threads, store them in order.
///
/// ```swift
/// let bytes = try array.encodeChunk(frame)            // CPU only; nil if all fill value
/// try array.storeEncodedChunk(at: [k, 0, 0], bytes)   // I/O only; nil deletes the chunk
/// try array.readChunk(at: [k, 0, 0], into: buffer)    // decode straight into buffer
/// ```
extension ZarrArray {
    /// Checks `indices` has the array's rank, is non-negative and, when `inGrid`, lies
    /// inside the current chunk grid.
    func checkChunkIndices(_ indices: [Int], inGrid: Bool) throws {
        guard indices.count == shape.count else {
            throw ZarrError.invalidRegion(path: location, reason: "chunk index \(indices) has rank \(indices.count), the array \(shape.count)")
        }
        guard indices.allSatisfy({ $0 >= 0 }) else {
            throw ZarrError.invalidRegion(path: location, reason: "negative chunk index \(indices)")
        }
        if inGrid {
            let grid = gridShape
            for d in 0..<grid.count where indices[d] >= grid[d] {
                throw ZarrError.invalidRegion(path: location, reason: "chunk index \(indices) is outside the chunk grid \(grid)")
            }
        }
    }

    func checkChunkBuffer(_ count: Int) throws {
        guard count == chunkByteCount else {
            throw ZarrError.bufferSizeMismatch(path: location, expected: chunkByteCount, actual: count)
        }
    }

    func checkElementType<T: ZarrElement>(_: T.Type) throws {
        guard T.zarrDataType == dataType else {
            throw ZarrError.elementTypeMismatch(path: location, arrayType: dataType.name, requested: "\(T.self)")
        }
    }

    /// True when every element of a chunk-sized buffer equals the fill value (as zarr-python decides it).
    func isAllFill(_ chunk: UnsafeRawBufferPointer) -> Bool {
        Hyperslab.isAllFill(chunk, pattern: fillPattern, dataType: dataType, fillIsNaN: fillIsNaN)
    }

    // MARK: Encoding

    /// Encodes one chunk given as C-order native bytes of ``chunkShape`` (edge chunks too are
    /// full size). Returns nil when every element equals the fill value and
    /// ``storeEmptyChunks`` is false: such a chunk is not stored.
    public func encodeChunk(_ raw: UnsafeRawBufferPointer) throws -> [UInt8]? {
        try checkChunkBuffer(raw.count)
        if !storeEmptyChunks && isAllFill(raw) { return nil }
        return try withChunkContext("\(location) (new chunk)") { try pipeline.encode(raw) }
    }

    /// Encodes one chunk of typed values; see ``encodeChunk(_:)-(UnsafeRawBufferPointer)``.
    public func encodeChunk<T: ZarrElement>(_ values: [T]) throws -> [UInt8]? {
        try checkElementType(T.self)
        return try values.withUnsafeBytes { try encodeChunk($0) }
    }

    /// Stores encoded chunk bytes at `indices` as `mode` says (by default atomically);
    /// nil deletes the chunk, so it reads as the fill value. Indices beyond the current
    /// shape are allowed — such chunks appear once the array grows (store, then resize),
    /// and can be stored ``StoreWriteMode/unpublished``, the cheapest way.
    public func storeEncodedChunk(at indices: [Int], _ bytes: [UInt8]?, mode: StoreWriteMode = .atomic) throws {
        try checkChunkIndices(indices, inGrid: false)
        let key = chunkKey(at: indices)
        if let bytes { try store.set(key, bytes, mode: mode) } else { try store.delete(key) }
    }

    /// Encodes and stores one chunk of C-order native bytes.
    public func writeChunk(at indices: [Int], raw: UnsafeRawBufferPointer) throws {
        try checkChunkIndices(indices, inGrid: true)
        try checkChunkBuffer(raw.count)
        let encoded: [UInt8]?
        if !storeEmptyChunks && isAllFill(raw) {
            encoded = nil
        } else {
            encoded = try withChunkContext(store.describe(chunkKey(at: indices))) { try pipeline.encode(raw) }
        }
        try storeEncodedChunk(at: indices, encoded)
    }

    /// Encodes and stores one chunk of typed values.
    public func writeChunk<T: ZarrElement>(at indices: [Int], _ values: [T]) throws {
        try checkElementType(T.self)
        try values.withUnsafeBytes { try writeChunk(at: indices, raw: $0) }
    }

    // MARK: Decoding

    /// The stored bytes of the chunk at `indices`, or nil when it was never written.
    public func loadEncodedChunk(at indices: [Int]) throws -> [UInt8]? {
        try checkChunkIndices(indices, inGrid: false)
        return try store.get(chunkKey(at: indices))
    }

    /// True when a chunk is stored at `indices`.
    public func chunkExists(at indices: [Int]) throws -> Bool {
        try loadEncodedChunk(at: indices) != nil
    }

    /// Decodes stored chunk bytes into `buffer` (``chunkByteCount`` bytes, C-order native).
    /// `indices` only names the chunk in errors. Corrupt or truncated bytes throw.
    public func decodeChunk(_ encoded: [UInt8], at indices: [Int], into buffer: UnsafeMutableRawBufferPointer) throws {
        try encoded.withUnsafeBytes { try decodeChunk($0, at: indices, into: buffer) }
    }

    /// Decodes stored chunk bytes held in any buffer (e.g. memory-mapped) into `buffer`;
    /// see ``decodeChunk(_:at:into:)-([UInt8],_,_)``.
    public func decodeChunk(_ encoded: UnsafeRawBufferPointer, at indices: [Int],
                            into buffer: UnsafeMutableRawBufferPointer) throws {
        try checkChunkBuffer(buffer.count)
        try withChunkContext(store.describe(chunkKey(at: indices))) { try pipeline.decode(encoded, into: buffer) }
    }

    /// Reads the chunk at `indices` into `buffer` (``chunkByteCount`` bytes, C-order native),
    /// decoding straight into it. A missing chunk reads as the fill value.
    /// Returns whether the chunk was stored.
    @discardableResult
    public func readChunk(at indices: [Int], into buffer: UnsafeMutableRawBufferPointer) throws -> Bool {
        try checkChunkIndices(indices, inGrid: true)
        return try loadAndDecodeChunk(at: indices, into: buffer)
    }

    /// Reads and decodes the chunk at `indices` (already checked) into `buffer`, or fills
    /// it with the fill value when the chunk is missing; returns whether it was stored.
    func loadAndDecodeChunk(at indices: [Int], into buffer: UnsafeMutableRawBufferPointer) throws -> Bool {
        try checkChunkBuffer(buffer.count)
        guard let encoded = try store.get(chunkKey(at: indices)) else {
            Hyperslab.fill(buffer, pattern: fillPattern)
            return false
        }
        try decodeChunk(encoded, at: indices, into: buffer)
        return true
    }

    /// Reads the chunk at `indices` as typed values (full chunk shape, C order).
    public func readChunk<T: ZarrElement>(at indices: [Int], as type: T.Type = T.self) throws -> [T] {
        try checkElementType(T.self)
        return try typedBuffer(count: chunkByteCount / dataType.size) { try readChunk(at: indices, into: $0) }
    }

    /// A `[T]` of `count` elements filled by `body` through its raw bytes.
    func typedBuffer<T: ZarrElement>(count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) throws -> [T] {
        if T.self == Bool.self {
            // Read bytes first: a stored bool byte other than 0/1 must not become an invalid Bool.
            var bytes = [UInt8](repeating: 0, count: count)
            try bytes.withUnsafeMutableBytes { try body($0) }
            return bytes.map { ($0 != 0) as! T }
        }
        return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Every read path writes each byte of the buffer (decoded data or fill value).
            try body(UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }
}
