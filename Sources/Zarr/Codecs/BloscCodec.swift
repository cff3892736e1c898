import CBlosc
import JSONValue

/// The `blosc` codec (bytes → bytes), via libblosc's thread-safe context API.
///
/// ```swift
/// let codec = BloscCodec(cname: .lz4, clevel: 5, shuffle: .shuffle, typesize: 2)
/// ```
public struct BloscCodec: Sendable, Hashable {
    /// The compressor inside blosc.
    public enum Compressor: String, Sendable, Hashable, CaseIterable {
        /// LZ4: fast.
        case lz4
        /// LZ4 high compression.
        case lz4hc
        /// Blosc's own LZ77 variant.
        case blosclz
        /// Zstandard: good ratio.
        case zstd
        /// zlib deflate.
        case zlib
        /// Snappy (when libblosc was built with it).
        case snappy
    }

    /// The pre-compression filter.
    public enum Shuffle: String, Sendable, Hashable, CaseIterable {
        /// No filter.
        case noshuffle
        /// Byte shuffle: groups the n-th bytes of all elements.
        case shuffle
        /// Bit shuffle: groups the n-th bits of all elements.
        case bitshuffle

        var code: Int32 {
            switch self {
            case .noshuffle: return 0
            case .shuffle: return 1
            case .bitshuffle: return 2
            }
        }
    }

    /// Compressor name.
    public var cname: Compressor
    /// Compression level 0...9.
    public var clevel: Int
    /// Shuffle filter.
    public var shuffle: Shuffle { didSet { shuffleWasDefaulted = false } }
    /// Element size used by the shuffle filters; nil until the array's data type fills it in.
    public var typesize: Int?
    /// Block size in bytes; 0 lets blosc choose.
    public var blocksize: Int

    /// A blosc codec. zarr-python's defaults are zstd, level 5, shuffle (bitshuffle for
    /// one-byte types), and the element size as typesize; a nil `typesize` or `shuffle`
    /// is filled in from the array's data type when the array is created.
    public init(cname: Compressor = .zstd, clevel: Int = 5, shuffle: Shuffle? = nil, typesize: Int? = nil,
                blocksize: Int = 0) {
        self.cname = cname
        self.clevel = clevel
        self.shuffle = shuffle ?? .shuffle
        self.typesize = typesize
        self.blocksize = blocksize
        self.shuffleWasDefaulted = shuffle == nil
    }

    /// Remembers that the caller left `shuffle` open, so it can follow the data type.
    private var shuffleWasDefaulted = false

    public static func == (a: BloscCodec, b: BloscCodec) -> Bool {
        a.cname == b.cname && a.clevel == b.clevel && a.shuffle == b.shuffle && a.typesize == b.typesize
            && a.blocksize == b.blocksize
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(cname); hasher.combine(clevel); hasher.combine(shuffle)
        hasher.combine(typesize); hasher.combine(blocksize)
    }

    /// The codec with open settings filled in from the element size, as zarr-python does.
    func resolved(for dataType: ZarrDataType) -> BloscCodec {
        var codec = self
        if codec.typesize == nil { codec.typesize = dataType.size }
        if shuffleWasDefaulted { codec.shuffle = dataType.size == 1 ? .bitshuffle : .shuffle }
        codec.shuffleWasDefaulted = false
        return codec
    }

    static func parse(_ configuration: JSONObject?, path: String) throws -> BloscCodec {
        var config = CodecConfiguration(codec: "blosc", configuration: configuration, path: path)
        let cname = try config.string("cname", oneOf: Compressor.allCases.map(\.rawValue))
        let clevel = try config.int("clevel", in: 0...9)
        let shuffle = try config.string("shuffle", oneOf: Shuffle.allCases.map(\.rawValue))
        let typesize: Int? = config.value("typesize") == nil ? nil : try config.int("typesize", in: 1...255)
        let blocksize = try config.int("blocksize", default: 0, in: 0...Int(Int32.max))
        try config.finish()
        if shuffle != "noshuffle" && typesize == nil {
            throw config.error("\"typesize\" is required with shuffle \"\(shuffle)\"")
        }
        return BloscCodec(cname: Compressor(rawValue: cname)!, clevel: clevel, shuffle: Shuffle(rawValue: shuffle)!,
            typesize: typesize, blocksize: blocksize)
    }

    var json: JSONValue {
        var config: JSONObject = [:]
        if let typesize { config["typesize"] = .int(Int64(typesize)) }
        config["cname"] = .string(cname.rawValue)
        config["clevel"] = .int(Int64(clevel))
        config["shuffle"] = .string(shuffle.rawValue)
        config["blocksize"] = .int(Int64(blocksize))
        return ["name": "blosc", "configuration": .object(config)]
    }

    func encode(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard input.count <= Int(Int32.max) - Int(BLOSC_MAX_OVERHEAD) else {
            throw ZarrError.encodingFailed(chunk: "", codec: "blosc", reason: "\(input.count) bytes exceed blosc's 2 GiB limit")
        }
        guard (0...9).contains(clevel), (1...255).contains(typesize ?? 1), blocksize >= 0 else {
            throw ZarrError.encodingFailed(
                chunk: "", codec: "blosc", reason: "clevel \(clevel), typesize \(typesize ?? 1) or blocksize \(blocksize) out of range")
        }
        return try compressedBytes(capacity: input.count + Int(BLOSC_MAX_OVERHEAD)) { o in
            let written = CodecThreads.run(bytes: input.count) { threads in
                blosc_compress_ctx(Int32(clevel), shuffle.code, typesize ?? 1, input.count, input.baseAddress,
                    o.baseAddress, o.count, cname.rawValue, blocksize, threads)
            }
            guard written > 0 else {
                throw ZarrError.encodingFailed(
                    chunk: "", codec: "blosc", reason: "blosc_compress_ctx failed (\(written)); is \(cname.rawValue) built in?")
            }
            return Int(written)
        }
    }

    /// The decoded size the blosc header declares, after checking the header against the input.
    private func declaredSize(_ input: UnsafeRawBufferPointer) throws -> Int {
        guard input.count >= Int(BLOSC_MIN_HEADER_LENGTH) else {
            throw ZarrError.truncatedChunk(chunk: "", reason: "\(input.count) bytes cannot hold a blosc header")
        }
        var nbytes = 0, cbytes = 0, blocksize = 0
        blosc_cbuffer_sizes(input.baseAddress, &nbytes, &cbytes, &blocksize)
        if cbytes > input.count {
            throw ZarrError.truncatedChunk(chunk: "", reason: "blosc header declares \(cbytes) bytes, found \(input.count)")
        }
        var validated = 0
        guard blosc_cbuffer_validate(input.baseAddress, input.count, &validated) == 0 else {
            throw ZarrError.corruptChunk(chunk: "", codec: "blosc", reason: "invalid blosc header")
        }
        return validated
    }

    /// Decodes into `output`, which must be exactly the decoded size.
    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        let size = try declaredSize(input)
        guard size == output.count else {
            throw ZarrError.corruptChunk(chunk: "", codec: "blosc", reason: "holds \(size) bytes, expected \(output.count)")
        }
        if size == 0 { return }
        let written = CodecThreads.run(bytes: output.count) { threads in
            blosc_decompress_ctx(input.baseAddress, output.baseAddress, output.count, threads)
        }
        guard written == size else {
            throw ZarrError.corruptChunk(chunk: "", codec: "blosc", reason: "blosc_decompress_ctx failed (\(written))")
        }
    }

    /// Decodes input whose decoded size is only known from its header.
    func decode(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        let size = try declaredSize(input)
        guard size <= limit else {
            throw ZarrError.corruptChunk(chunk: "", codec: "blosc", reason: "declares \(size) bytes, more than \(limit)")
        }
        var out = [UInt8](repeating: 0, count: size)
        try out.withUnsafeMutableBytes { try decode(input, into: $0) }
        return out
    }
}
