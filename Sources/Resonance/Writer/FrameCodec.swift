import Zarr

/// How the writer compresses detector frames. Every choice is one zarr-python 3.1 reads.
///
/// The name (``name``) is what `image_refs.compression_codec` records and what
/// `resonance demo --codec` takes.
public enum FrameCodec: Sendable, Equatable, CustomStringConvertible {
    /// `bytes` + `zstd` at `level` (0 means zstd's default, 3): zarr-python's default.
    case zstd(level: Int)
    /// `bytes` + `blosc` with an inner compressor, level and byte shuffle.
    case blosc(compressor: BloscCodec.Compressor, level: Int, shuffle: BloscCodec.Shuffle)
    /// `bytes` + `gzip` at `level`.
    case gzip(level: Int)
    /// `bytes` only: no compression.
    case none

    /// The writer's default: blosc with zstd level 1 and byte shuffle compresses detector
    /// frames better than zstd alone, at several times its speed (docs/benchmarks.md,
    /// "Figures behind the writer's constants").
    public static let `default` = FrameCodec.blosc(compressor: .zstd, level: 1, shuffle: .shuffle)

    /// Blosc's block size for frames (recorded in `zarr.json`; every reader honours it).
    /// Left to itself, blosc picks blocks of a few tens of KiB at level 1, and zstd pays its
    /// setup on each; larger blocks gain little more and leave a 512x512 frame a single
    /// block (docs/benchmarks.md, "Figures behind the writer's constants").
    public static let bloscBlockSize = 256 << 10

    /// Every codec the writer offers, by name.
    public static let all: [FrameCodec] = [
        .default, .blosc(compressor: .lz4, level: 5, shuffle: .shuffle), .zstd(level: 0), .zstd(level: 1), .gzip(level: 5), .none,
    ]

    /// A short name: `blosc-zstd`, `blosc-lz4`, `zstd`, `zstd-1`, `gzip`, `none`, ...
    public var name: String {
        switch self {
        case .zstd(let level): return level == 0 ? "zstd" : "zstd-\(level)"
        case .gzip(let level): return level == 5 ? "gzip" : "gzip-\(level)"
        case .none: return "none"
        case .blosc(let compressor, let level, let shuffle):
            var name = "blosc-\(compressor.rawValue)"
            let defaultLevel = compressor == .zstd ? 1 : 5
            if level != defaultLevel { name += "-\(level)" }
            if shuffle != .shuffle { name += "-\(shuffle.rawValue)" }
            return name
        }
    }

    public var description: String { name }

    /// Parses a name as ``name`` writes it (`blosc-zstd`, `blosc-zstd-3-bitshuffle`,
    /// `zstd-1`, `gzip-9`, `none`). Returns nil for anything else.
    public init?(name: String) {
        let parts = name.lowercased().split(separator: "-").map(String.init)
        guard let head = parts.first else { return nil }
        func level(_ index: Int, default value: Int, range: ClosedRange<Int>) -> Int? {
            guard parts.count > index else { return value }
            guard let n = Int(parts[index]), range.contains(n) else { return nil }
            return n
        }
        switch head {
        case "zstd" where parts.count <= 2:
            guard let l = level(1, default: 0, range: -7...22) else { return nil }
            self = .zstd(level: l)
        case "gzip" where parts.count <= 2:
            guard let l = level(1, default: 5, range: 0...9) else { return nil }
            self = .gzip(level: l)
        case "none" where parts.count == 1:
            self = .none
        case "blosc" where (2...4).contains(parts.count):
            guard let compressor = BloscCodec.Compressor(rawValue: parts[1]) else { return nil }
            var rest = Array(parts.dropFirst(2))
            var shuffle = BloscCodec.Shuffle.shuffle
            if let last = rest.last, let s = BloscCodec.Shuffle(rawValue: last) {
                shuffle = s
                rest.removeLast()
            }
            var l = compressor == .zstd ? 1 : 5
            if let first = rest.first {
                guard rest.count == 1, let n = Int(first), (0...9).contains(n) else { return nil }
                l = n
            }
            self = .blosc(compressor: compressor, level: l, shuffle: shuffle)
        default:
            return nil
        }
    }

    /// The Zarr codec list for frames of `dtype`.
    public func zarrCodecs(for dtype: FrameDType) -> [ZarrCodec] {
        let bytes = ZarrCodec.bytes(.standard(for: dtype.zarrDataType))
        switch self {
        case .zstd(let level): return [bytes, .zstd(ZstdCodec(level: level, checksum: false))]
        case .gzip(let level): return [bytes, .gzip(GzipCodec(level: level))]
        case .none: return [bytes]
        case .blosc(let compressor, let level, let shuffle):
            return [bytes, .blosc(BloscCodec(cname: compressor, clevel: level, shuffle: shuffle, typesize: dtype.size,
                                             blocksize: Self.bloscBlockSize))]
        }
    }
}
