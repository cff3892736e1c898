/// Inner chunks: the smallest pieces of an array that can be read or written on their own.
/// For a sharded array (`sharding_indexed` as its only codec, nothing before or after it)
/// they are the shard's inner chunks; for any other array they are its chunks.
///
/// ```swift
/// // frame k of a (frames, rows, cols) array, one inner chunk per frame, sharded or not
/// try array.readInnerChunk(at: [k, 0, 0], into: buffer)   // reads the index and one chunk, not the shard
/// let bytes = try array.encodeInnerChunk(frame)            // what ShardAppender.append stores
/// ```
extension ZarrArray {
    /// The sharding codec, resolved, when the array's chunks are shards whose inner chunks
    /// can be reached one by one (no codec before or after `sharding_indexed`).
    var sharding: ShardingRuntime? {
        guard pipeline.arrayToArray.isEmpty, pipeline.bytesToBytes.isEmpty,
              case .sharding(let runtime) = pipeline.arrayToBytes else { return nil }
        return runtime
    }

    /// The configuration of the array's `sharding_indexed` codec when its inner chunks can
    /// be read and written one by one (see ``innerChunkShape``), else nil.
    public var shardingCodec: ShardingCodec? { sharding?.codec }

    /// Shape of an inner chunk: the sharding codec's `chunk_shape`, or ``chunkShape`` for an
    /// array that is not sharded.
    public var innerChunkShape: [Int] { sharding?.codec.chunkShape ?? chunkShape }

    /// Bytes in one decoded inner chunk.
    public var innerChunkByteCount: Int { sharding?.inner.decodedByteCount ?? chunkByteCount }

    /// The store key of the object holding inner chunk `indices` (in units of
    /// ``innerChunkShape``), and the inner chunk's number in its shard (C order; 0 when
    /// the array is not sharded).
    public func innerChunkLocation(at indices: [Int]) -> (key: String, inner: Int) {
        guard let sharding else { return (chunkKey(at: indices), 0) }
        var outer: [Int] = [], inner = 0
        for d in 0..<indices.count {
            let perShard = sharding.chunksPerShard[d]
            outer.append(indices[d] / perShard)
            inner = inner * perShard + indices[d] % perShard
        }
        return (chunkKey(at: outer), inner)
    }

    /// Encodes one inner chunk (C-order native bytes of ``innerChunkShape``) with the inner
    /// codecs; nil when every element is the fill value (and ``storeEmptyChunks`` is false),
    /// which the shard index records as a missing chunk. For an array that is not sharded
    /// this is ``encodeChunk(_:)-(UnsafeRawBufferPointer)``.
    public func encodeInnerChunk(_ raw: UnsafeRawBufferPointer) throws -> [UInt8]? {
        guard let sharding else { return try encodeChunk(raw) }
        guard raw.count == sharding.inner.decodedByteCount else {
            throw ZarrError.bufferSizeMismatch(path: location, expected: sharding.inner.decodedByteCount, actual: raw.count)
        }
        if !storeEmptyChunks && isAllFill(raw) { return nil }
        return try withChunkContext("\(location) (new inner chunk)") { try sharding.inner.encode(raw) }
    }

    /// Reads inner chunk `indices` (in units of ``innerChunkShape``) into `buffer`
    /// (``innerChunkByteCount`` bytes): for a shard, its index and then only that chunk's
    /// bytes. A missing shard or chunk reads as the fill value; returns whether it was
    /// stored. Indices beyond the array's shape are allowed (a writer may have stored the
    /// chunk before it grew the array).
    @discardableResult
    public func readInnerChunk(at indices: [Int], into buffer: UnsafeMutableRawBufferPointer) throws -> Bool {
        try checkChunkIndices(indices, inGrid: false)
        guard let sharding else { return try loadAndDecodeChunk(at: indices, into: buffer) }
        guard buffer.count == sharding.inner.decodedByteCount else {
            throw ZarrError.bufferSizeMismatch(path: location, expected: sharding.inner.decodedByteCount, actual: buffer.count)
        }
        let (key, n) = innerChunkLocation(at: indices)
        let name = store.describe(key)
        guard let entry = try withChunkContext(name, { try shardIndexEntry(key, n, sharding) }) else {
            Hyperslab.fill(buffer, pattern: fillPattern)
            return false
        }
        guard let bytes = try store.get(key, range: entry), bytes.count == entry.count else {
            throw ZarrError.truncatedChunk(chunk: name, reason: "inner chunk \(n) at bytes \(entry) lies beyond the end of the shard")
        }
        try withChunkContext("\(name) (inner chunk \(n))") {
            try bytes.withUnsafeBytes { try sharding.inner.decode($0, into: buffer) }
        }
        return true
    }

    /// Reads inner chunk `indices` as typed values (the inner chunk shape, C order).
    public func readInnerChunk<T: ZarrElement>(at indices: [Int], as type: T.Type = T.self) throws -> [T] {
        try checkElementType(T.self)
        return try typedBuffer(count: innerChunkByteCount / dataType.size) { try readInnerChunk(at: indices, into: $0) }
    }

    /// The byte range of inner chunk `n` in shard `key`, from the shard's index; nil when
    /// the shard or the chunk is missing.
    private func shardIndexEntry(_ key: String, _ n: Int, _ sharding: ShardingRuntime) throws -> Range<Int>? {
        let size = sharding.indexByteCount
        let read = sharding.codec.indexLocation == .start ? try store.get(key, range: 0..<size) : try store.get(key, suffix: size)
        guard let indexBytes = read else { return nil }
        guard indexBytes.count == size else {
            throw ZarrError.truncatedChunk(chunk: "", reason: "shard of \(indexBytes.count) bytes cannot hold its \(size)-byte index")
        }
        var entries = [UInt64](repeating: 0, count: 2 * sharding.innerCount)
        try indexBytes.withUnsafeBytes { src in
            try entries.withUnsafeMutableBytes { try sharding.index.decode(src, into: $0) }
        }
        let offset = entries[2 * n], length = entries[2 * n + 1]
        if offset == ShardingRuntime.empty && length == ShardingRuntime.empty { return nil }
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= UInt64(Int.max) else {
            throw ZarrError.truncatedChunk(chunk: "", reason: "inner chunk \(n) has an impossible byte range \(offset)+\(length)")
        }
        return Int(offset)..<Int(end)
    }
}
