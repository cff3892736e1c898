import Zarr

/// How a field's frames are laid out in the Zarr store (docs/format.md, "Sharded frame
/// layout"). Either way a frame is one chunk of shape `(1, rows, columns)` that zarr-python
/// reads like any other; what differs is the files.
///
/// - ``chunkPerFrame``: a file per frame, `runs/<run>/<field>/c/<k>/0/0`.
/// - ``sharded(framesPerShard:)``: `sharding_indexed` with one inner chunk per frame and
///   `framesPerShard` frames per file (`c/<k / framesPerShard>/0/0`), the shard's index at
///   the start of the file, so a frame is appended and then indexed in place. Small frames
///   cost the file system a write instead of two folders, a file and their inodes.
/// - ``automatic`` (the default): sharded for frames of at most ``shardedUpToBytes``
///   (512x512 uint16 and smaller), a file per frame above.
public enum FrameLayout: Sendable, Equatable, CustomStringConvertible {
    case chunkPerFrame
    case sharded(framesPerShard: Int)
    case automatic

    /// Largest uncompressed frame that ``automatic`` shards: small frames are faster in
    /// shards (a write instead of two folders and a file each). At 512x512 uint16 (512 KiB),
    /// with the shard's `fdatasync` off the storing thread, shards of 128 were 1.02-1.39x a
    /// file per frame in every run, journaled ext4 and not, loaded machine and idle
    /// (docs/benchmarks.md, 2026-12-02). Larger frames were not measured sharded: a file each.
    public static let shardedUpToBytes = 512 << 10

    /// Uncompressed bytes ``automatic`` aims at per shard: a few dozen MiB, so a shard of
    /// small frames is one file per second or so at full speed, and its index stays small.
    public static let shardBytes = 64 << 20

    /// What ``automatic`` chooses for frames of `frameBytes` uncompressed bytes.
    public static func automatic(frameBytes: Int) -> FrameLayout {
        guard frameBytes <= shardedUpToBytes else { return .chunkPerFrame }
        return .sharded(framesPerShard: min(4096, max(16, shardBytes / max(frameBytes, 1))))
    }

    /// The layout for frames of `frameBytes`: ``automatic`` resolved, the others as they are.
    public func resolved(frameBytes: Int) -> FrameLayout {
        self == .automatic ? Self.automatic(frameBytes: frameBytes) : self
    }

    public var description: String {
        switch self {
        case .chunkPerFrame: return "chunk-per-frame"
        case .sharded(let n): return "sharded-\(n)"
        case .automatic: return "automatic"
        }
    }

    /// Parses ``description``'s names: `chunk-per-frame`, `sharded-<N>`, `automatic`.
    public init?(name: String) {
        switch name {
        case "chunk-per-frame": self = .chunkPerFrame
        case "automatic": self = .automatic
        default:
            guard name.hasPrefix("sharded-"), let n = Int(name.dropFirst(8)), n >= 1 else { return nil }
            self = .sharded(framesPerShard: n)
        }
    }

    /// The array metadata of a new frame stack of `rows` x `columns` `dtype` frames.
    func metadata(rows: Int, columns: Int, dtype: FrameDType, codec: FrameCodec) throws -> ZarrArrayMetadata {
        let frame = [1, rows, columns]
        let type = dtype.zarrDataType
        switch resolved(frameBytes: rows * columns * dtype.size) {
        case .sharded(let n):
            let sharding = ShardingCodec(chunkShape: frame, codecs: codec.zarrCodecs(for: dtype),
                                         indexCodecs: [.bytes(BytesCodec(endian: .little))], indexLocation: .start)
            return try ZarrArrayMetadata(shape: [0, rows, columns], dataType: type, chunkShape: [n, rows, columns],
                                         fillValue: .zero(for: type), codecs: [.shardingIndexed(sharding)])
        default:
            return try ZarrArrayMetadata(shape: [0, rows, columns], dataType: type, chunkShape: frame,
                                         fillValue: .zero(for: type), codecs: codec.zarrCodecs(for: dtype))
        }
    }
}
