import Concurrency
import JSONValue

/// The `sharding_indexed` codec (array → bytes): one stored object (a shard) holds a grid
/// of inner chunks, each encoded with `codecs`, plus an index of their offsets and sizes
/// encoded with `indexCodecs`. Inner chunks whose every element equals the fill value are
/// not stored (index entry `0xFFFFFFFFFFFFFFFF`, `0xFFFFFFFFFFFFFFFF`).
///
/// ```swift
/// // shards of 4 frames, one inner chunk per frame
/// let sharding = ShardingCodec(chunkShape: [1, 512, 512], codecs: ZarrCodec.defaults(for: .uint16))
/// let metadata = try ZarrArrayMetadata(shape: [0, 512, 512], dataType: .uint16,
///                                      chunkShape: [4, 512, 512], codecs: [.shardingIndexed(sharding)])
/// ```
public struct ShardingCodec: Sendable, Equatable {
    /// Where the index sits in the shard.
    public enum IndexLocation: String, Sendable, Hashable {
        /// Before the inner chunks.
        case start
        /// After the inner chunks (the default).
        case end
    }

    /// Shape of the inner chunks; must divide the shard (outer chunk) shape.
    public var chunkShape: [Int]
    /// Codecs of the inner chunks.
    public var codecs: [ZarrCodec]
    /// Codecs of the index; only fixed-size ones (`bytes`, `crc32c`, `transpose`) are allowed.
    public var indexCodecs: [ZarrCodec]
    /// Index position.
    public var indexLocation: IndexLocation

    /// A sharding codec; the index defaults are what zarr-python writes
    /// (little-endian `bytes` then `crc32c`, at the end).
    public init(chunkShape: [Int], codecs: [ZarrCodec],
                indexCodecs: [ZarrCodec] = [.bytes(BytesCodec(endian: .little)), .crc32c(Crc32cCodec())],
                indexLocation: IndexLocation = .end) {
        self.chunkShape = chunkShape
        self.codecs = codecs
        self.indexCodecs = indexCodecs
        self.indexLocation = indexLocation
    }

    static func parse(_ configuration: JSONObject?, path: String) throws -> ShardingCodec {
        var config = CodecConfiguration(codec: "sharding_indexed", configuration: configuration, path: path)
        let chunkShape = try config.intArray("chunk_shape")
        guard let codecsJSON = config.value("codecs") else { throw config.error("missing \"codecs\"") }
        guard let indexJSON = config.value("index_codecs") else { throw config.error("missing \"index_codecs\"") }
        let location = try config.string("index_location", default: "end", oneOf: ["start", "end"])
        try config.finish()
        return ShardingCodec(
            chunkShape: chunkShape,
            codecs: try ZarrCodec.parseList(codecsJSON, field: "codecs", path: path),
            indexCodecs: try ZarrCodec.parseList(indexJSON, field: "index_codecs", path: path),
            indexLocation: IndexLocation(rawValue: location)!)
    }

    var json: JSONValue {
        ["name": "sharding_indexed",
         "configuration": [
            "chunk_shape": .array(chunkShape.map { .int(Int64($0)) }),
            "codecs": .array(codecs.map(\.json)),
            "index_codecs": .array(indexCodecs.map(\.json)),
            "index_location": .string(indexLocation.rawValue),
         ]]
    }
}

/// A sharding codec resolved for one shard shape: inner and index pipelines ready.
struct ShardingRuntime: Sendable {
    let codec: ShardingCodec
    let shardShape: [Int]
    let chunksPerShard: [Int]
    let innerCount: Int
    let inner: CodecPipeline
    let index: CodecPipeline
    let indexByteCount: Int
    let dataType: ZarrDataType
    let fillPattern: [UInt8]
    let fillIsNaN: Bool

    static let empty = UInt64.max

    init(codec: ShardingCodec, shardShape: [Int], dataType: ZarrDataType, fill: ZarrFillValue, path: String) throws {
        func invalid(_ reason: String) -> ZarrError {
            .invalidCodecConfiguration(path: path, codec: "sharding_indexed", reason: reason)
        }
        guard codec.chunkShape.count == shardShape.count else {
            throw invalid("chunk_shape \(codec.chunkShape) has \(codec.chunkShape.count) dimensions, the shard \(shardShape.count)")
        }
        var perShard: [Int] = []
        for (inner, outer) in zip(codec.chunkShape, shardShape) {
            guard inner > 0, outer % inner == 0 else {
                throw invalid("chunk_shape \(codec.chunkShape) does not evenly divide the shard shape \(shardShape)")
            }
            perShard.append(outer / inner)
        }
        self.codec = codec
        self.shardShape = shardShape
        self.chunksPerShard = perShard
        self.dataType = dataType
        guard let pattern = fill.elementBytes(for: dataType) else {
            throw ZarrError.invalidFillValue(path: path, value: fill.description, dataType: dataType.name)
        }
        self.fillPattern = pattern
        self.fillIsNaN = fill.isNaN
        self.inner = try CodecPipeline(codecs: codec.codecs, shape: codec.chunkShape, dataType: dataType, fill: fill, path: path)
        self.index = try CodecPipeline(codecs: codec.indexCodecs, shape: perShard + [2], dataType: .uint64,
            fill: .uint(Self.empty), path: path)
        guard let size = index.fixedEncodedSize else {
            throw invalid("index_codecs must have a fixed encoded size (bytes, crc32c, transpose only)")
        }
        self.indexByteCount = size
        // The index pipeline checked that chunks-per-shard × 16 bytes fits in an Int.
        self.innerCount = index.decodedByteCount / 16
    }

    /// Start of inner chunk `n` (C order over the chunks-per-shard grid) inside the shard.
    private func start(ofInner n: Int) -> [Int] {
        var rest = n
        var start = [Int](repeating: 0, count: chunksPerShard.count)
        for d in stride(from: chunksPerShard.count - 1, through: 0, by: -1) {
            start[d] = (rest % chunksPerShard[d]) * codec.chunkShape[d]
            rest /= chunksPerShard[d]
        }
        return start
    }

    // MARK: Decoding

    /// Decodes a whole shard into `output` (C-order native bytes of the shard shape).
    func decode(_ shard: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        guard shard.count >= indexByteCount else {
            throw ZarrError.truncatedChunk(chunk: "", reason: "shard of \(shard.count) bytes cannot hold its \(indexByteCount)-byte index")
        }
        let indexRange = codec.indexLocation == .start ? 0..<indexByteCount : (shard.count - indexByteCount)..<shard.count
        var entries = [UInt64](repeating: 0, count: 2 * innerCount)
        try entries.withUnsafeMutableBytes { try index.decode(UnsafeRawBufferPointer(rebasing: shard[indexRange]), into: $0) }
        let innerBytes = inner.decodedByteCount
        let contiguous = Hyperslab.isContiguous(box: codec.chunkShape, in: shardShape)
        let elementSize = dataType.size
        try parallelFor(innerCount) { n in
            let offset = entries[2 * n], length = entries[2 * n + 1]
            let origin = start(ofInner: n)
            if offset == Self.empty && length == Self.empty {
                Hyperslab.fill(box: codec.chunkShape, in: output, shape: shardShape, at: origin, pattern: fillPattern)
                return
            }
            let (end, overflow) = offset.addingReportingOverflow(length)
            guard !overflow, end <= UInt64(shard.count) else {
                throw ZarrError.truncatedChunk(
                    chunk: "", reason: "inner chunk \(n) at bytes \(offset)..<\(offset &+ length) lies beyond the shard's \(shard.count) bytes")
            }
            let bytes = UnsafeRawBufferPointer(rebasing: shard[Int(offset)..<Int(end)])
            if contiguous {
                let at = Hyperslab.offset(of: origin, in: shardShape, elementSize: elementSize)
                try inner.decode(bytes, into: UnsafeMutableRawBufferPointer(rebasing: output[at..<(at + innerBytes)]))
            } else {
                var temp = [UInt8](repeating: 0, count: innerBytes)
                try temp.withUnsafeMutableBytes { try inner.decode(bytes, into: $0) }
                temp.withUnsafeBytes { src in
                    Hyperslab.copy(box: codec.chunkShape, from: src, shape: codec.chunkShape, at: [Int](repeating: 0, count: origin.count),
                        to: output, shape: shardShape, at: origin, elementSize: elementSize)
                }
            }
        }
    }

    // MARK: Encoding

    /// Encodes a whole shard given as C-order native bytes of the shard shape.
    func encode(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let innerBytes = inner.decodedByteCount
        let contiguous = Hyperslab.isContiguous(box: codec.chunkShape, in: shardShape)
        let elementSize = dataType.size
        let encoded = Slots<[UInt8]?>(count: innerCount)
        try parallelFor(innerCount) { n in
            let origin = start(ofInner: n)
            let bytes: [UInt8]?
            if contiguous {
                let at = Hyperslab.offset(of: origin, in: shardShape, elementSize: elementSize)
                bytes = try encodeInner(UnsafeRawBufferPointer(rebasing: input[at..<(at + innerBytes)]))
            } else {
                var temp = [UInt8](repeating: 0, count: innerBytes)
                temp.withUnsafeMutableBytes { dst in
                    Hyperslab.copy(box: codec.chunkShape, from: input, shape: shardShape, at: origin,
                        to: dst, shape: codec.chunkShape, at: [Int](repeating: 0, count: origin.count), elementSize: elementSize)
                }
                bytes = try temp.withUnsafeBytes { try encodeInner($0) }
            }
            encoded[n] = bytes
        }
        let chunks = encoded.values.map { $0 ?? nil }
        var entries = [UInt64](repeating: Self.empty, count: 2 * innerCount)
        var position = codec.indexLocation == .start ? indexByteCount : 0
        var body: [UInt8] = []
        body.reserveCapacity(chunks.reduce(0) { $0 + ($1?.count ?? 0) })
        for (n, chunk) in chunks.enumerated() {
            guard let chunk else { continue }
            entries[2 * n] = UInt64(position)
            entries[2 * n + 1] = UInt64(chunk.count)
            body.append(contentsOf: chunk)
            position += chunk.count
        }
        let indexBytes = try entries.withUnsafeBytes { try index.encode($0) }
        return codec.indexLocation == .start ? indexBytes + body : body + indexBytes
    }

    /// An inner chunk's bytes, or nil when every element is the fill value.
    private func encodeInner(_ chunk: UnsafeRawBufferPointer) throws -> [UInt8]? {
        if Hyperslab.isAllFill(chunk, pattern: fillPattern, dataType: dataType, fillIsNaN: fillIsNaN) { return nil }
        return try inner.encode(chunk)
    }
}
