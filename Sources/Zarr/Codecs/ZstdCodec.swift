import CZstd
import JSONValue

/// The `zstd` codec (bytes → bytes), zarr-python's default compressor.
///
/// ```swift
/// let codec = ZstdCodec(level: 0, checksum: false)  // level 0 is zstd's default (3)
/// ```
public struct ZstdCodec: Sendable, Hashable {
    /// Compression level; 0 means zstd's default, negative levels are faster.
    public var level: Int
    /// Whether frames carry zstd's own content checksum.
    public var checksum: Bool

    /// A zstd codec; the defaults are what zarr-python 3.1 writes.
    public init(level: Int = 0, checksum: Bool = false) {
        self.level = level
        self.checksum = checksum
    }

    static func parse(_ configuration: JSONObject?, path: String) throws -> ZstdCodec {
        var config = CodecConfiguration(codec: "zstd", configuration: configuration, path: path)
        let level = try config.int("level", default: 0, in: -131072...22)
        let checksum = try config.bool("checksum", default: false)
        try config.finish()
        return ZstdCodec(level: level, checksum: checksum)
    }

    var json: JSONValue {
        ["name": "zstd", "configuration": ["level": .int(Int64(level)), "checksum": .bool(checksum)]]
    }

    private static func failure(_ code: Int) -> String { String(cString: ZSTD_getErrorName(code)) }

    func encode(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        try ZstdContextPool.shared.withCompressor { context in
            ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(clamping: level))
            ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, checksum ? 1 : 0)
            return try compressedBytes(capacity: ZSTD_compressBound(input.count)) { out in
                let written = ZSTD_compress2(context, out.baseAddress, out.count, input.baseAddress, input.count)
                if ZSTD_isError(written) != 0 {
                    throw ZarrError.encodingFailed(chunk: "", codec: "zstd", reason: Self.failure(written))
                }
                return written
            }
        }
    }

    /// Decodes into `output`, which must be exactly the decoded size.
    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        try ZstdContextPool.shared.withDecompressor { context in try decode(input, into: output, context: context) }
    }

    private func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                        context: OpaquePointer) throws {
        let declared = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        // UInt64.max: size not recorded; UInt64.max - 1: not a zstd frame (reported below).
        if declared < UInt64.max - 1 && declared != UInt64(output.count) {
            throw ZarrError.corruptChunk(
                chunk: "", codec: "zstd", reason: "frame holds \(declared) bytes, expected \(output.count)")
        }
        let written = ZSTD_decompressDCtx(context, output.baseAddress, output.count, input.baseAddress, input.count)
        if ZSTD_isError(written) != 0 {
            let reason = Self.failure(written)
            if reason.lowercased().contains("src size") || reason.lowercased().contains("truncated") {
                throw ZarrError.truncatedChunk(chunk: "", reason: "zstd: \(reason)")
            }
            throw ZarrError.corruptChunk(chunk: "", codec: "zstd", reason: reason)
        }
        guard written == output.count else {
            throw ZarrError.truncatedChunk(chunk: "", reason: "zstd data decodes to \(written) bytes, expected \(output.count)")
        }
    }

    /// Decodes input whose decoded size is not known in advance (e.g. before another bytes codec).
    func decode(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        guard let stream = ZSTD_createDStream() else {
            throw ZarrError.corruptChunk(chunk: "", codec: "zstd", reason: "cannot allocate a decompression context")
        }
        defer { ZSTD_freeDStream(stream) }
        var out = [UInt8](repeating: 0, count: max(1024, min(limit, input.count * 4)))
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var produced = 0
        var lastResult = 0
        while true {
            if produced == out.count {
                guard out.count < limit else {
                    throw ZarrError.corruptChunk(chunk: "", codec: "zstd", reason: "decoded data exceeds \(limit) bytes")
                }
                out.append(contentsOf: repeatElement(0, count: min(out.count, limit - out.count)))
            }
            let before = (inBuffer.pos, produced)
            lastResult = out.withUnsafeMutableBytes { o in
                var outBuffer = ZSTD_outBuffer(dst: o.baseAddress, size: o.count, pos: produced)
                let r = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
                produced = outBuffer.pos
                return r
            }
            if ZSTD_isError(lastResult) != 0 {
                throw ZarrError.corruptChunk(chunk: "", codec: "zstd", reason: Self.failure(lastResult))
            }
            if inBuffer.pos == inBuffer.size && lastResult == 0 { break }
            if (inBuffer.pos, produced) == before && produced < out.count {
                throw ZarrError.truncatedChunk(chunk: "", reason: "zstd frame ends early")
            }
        }
        out.removeSubrange(produced...)
        return out
    }
}
