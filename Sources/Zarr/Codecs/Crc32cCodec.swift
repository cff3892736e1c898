import JSONValue

/// The `crc32c` codec (bytes → bytes): appends the CRC-32C of the bytes, little endian,
/// and checks it on decode (``ZarrError/checksumMismatch(chunk:stored:computed:)``).
///
/// ```swift
/// let codecs: [ZarrCodec] = [.bytes(.init()), .zstd(.init()), .crc32c(.init())]
/// ```
public struct Crc32cCodec: Sendable, Hashable {
    /// The codec has no configuration.
    public init() {}

    static func parse(_ configuration: JSONObject?, path: String) throws -> Crc32cCodec {
        try CodecConfiguration(codec: "crc32c", configuration: configuration, path: path).finish()
        return Crc32cCodec()
    }

    var json: JSONValue { ["name": "crc32c"] }

    /// `input` followed by its checksum.
    func encode(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: input.count + 4)
        out.withUnsafeMutableBytes { o in
            if let base = input.baseAddress, input.count > 0 { o.baseAddress!.copyMemory(from: base, byteCount: input.count) }
            o.storeBytes(of: CRC32C.checksum(input).littleEndian, toByteOffset: input.count, as: UInt32.self)
        }
        return out
    }

    /// Checks the trailing checksum and returns the length of the payload before it.
    func verify(_ input: UnsafeRawBufferPointer) throws -> Int {
        guard input.count >= 4 else {
            throw ZarrError.truncatedChunk(chunk: "", reason: "\(input.count) bytes cannot hold a crc32c checksum")
        }
        let payload = input.count - 4
        let stored = UInt32(littleEndian: input.loadUnaligned(fromByteOffset: payload, as: UInt32.self))
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: input[0..<payload]))
        guard stored == computed else {
            throw ZarrError.checksumMismatch(chunk: "", stored: stored, computed: computed)
        }
        return payload
    }
}
