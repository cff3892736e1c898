import JSONValue
import Testing
@testable import Zarr

@Suite struct ShardingCodecTests {
    func pipeline(_ sharding: ShardingCodec, shape: [Int], fill: ZarrFillValue = .int(0)) throws -> CodecPipeline {
        try CodecPipeline(codecs: [.shardingIndexed(sharding)], shape: shape, dataType: .uint16, fill: fill, path: "p")
    }

    @Test(arguments: [ShardingCodec.IndexLocation.end, .start])
    func roundTripWithEmptyInnerChunks(location: ShardingCodec.IndexLocation) throws {
        let sharding = ShardingCodec(chunkShape: [2, 2], codecs: ZarrCodec.defaults(for: .uint16), indexLocation: location)
        let shard = try pipeline(sharding, shape: [4, 6])
        var values = [UInt16](repeating: 0, count: 24)
        for i in 0..<2 { for j in 0..<6 { values[i * 6 + j] = UInt16(i * 6 + j + 1) } }  // bottom half stays fill
        let encoded = try values.withUnsafeBytes { try shard.encode($0) }
        // 6 inner chunks, index 6 * 16 + 4 bytes; 3 empty entries.
        let index = location == .end ? Array(encoded.suffix(100)) : Array(encoded.prefix(100))
        let entries = index.prefix(96).withUnsafeBytes { raw in (0..<12).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self) } }
        #expect(entries.filter { $0 == UInt64.max }.count == 6)
        #expect(CRC32C.checksum(Array(index.prefix(96))) == index.suffix(4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
        var decoded = [UInt16](repeating: 7, count: 24)
        try encoded.withUnsafeBytes { src in try decoded.withUnsafeMutableBytes { try shard.decode(src, into: $0) } }
        #expect(decoded == values)
    }

    @Test func innerTransposeAndIndexWithoutChecksum() throws {
        let sharding = ShardingCodec(chunkShape: [1, 3],
            codecs: [.transpose(try TransposeCodec(order: [1, 0])), .bytes(BytesCodec(endian: .big)), .gzip(GzipCodec(level: 1))],
            indexCodecs: [.bytes(BytesCodec(endian: .big))], indexLocation: .start)
        let shard = try pipeline(sharding, shape: [2, 3], fill: .int(5))
        let values: [UInt16] = [1, 2, 3, 4, 5, 6]
        let encoded = try values.withUnsafeBytes { try shard.encode($0) }
        var decoded = [UInt16](repeating: 0, count: 6)
        try encoded.withUnsafeBytes { src in try decoded.withUnsafeMutableBytes { try shard.decode(src, into: $0) } }
        #expect(decoded == values)
    }

    @Test func corruptShardsThrow() throws {
        let sharding = ShardingCodec(chunkShape: [2, 2], codecs: ZarrCodec.defaults(for: .uint16))
        let shard = try pipeline(sharding, shape: [4, 4])
        let values = (0..<16).map { UInt16($0 + 1) }
        let encoded = try values.withUnsafeBytes { try shard.encode($0) }
        var out = [UInt16](repeating: 0, count: 16)
        func decode(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { src in try out.withUnsafeMutableBytes { try shard.decode(src, into: $0) } }
        }
        expectZarrError("truncatedChunk") { try decode(Array(encoded.prefix(10))) }
        var flipped = encoded
        flipped[flipped.count - 10] ^= 1  // inside the index
        expectZarrError("checksumMismatch") { try decode(flipped) }
        #expect(throws: ZarrError.self) { try decode(Array(encoded.dropFirst(3))) }  // body shifted under the index
        // A valid index pointing beyond the shard.
        var entries = [UInt64](repeating: UInt64.max, count: 8)
        entries[0] = 1000; entries[1] = 10
        var index = entries.withUnsafeBytes { Array($0) }
        index += withUnsafeBytes(of: CRC32C.checksum(index).littleEndian) { Array($0) }
        expectZarrError("truncatedChunk") { try decode(index) }
        // Offsets that overflow when added.
        entries[0] = UInt64.max - 1; entries[1] = 5
        index = entries.withUnsafeBytes { Array($0) }
        index += withUnsafeBytes(of: CRC32C.checksum(index).littleEndian) { Array($0) }
        expectZarrError("truncatedChunk") { try decode(index) }
    }

    @Test func configurationErrors() throws {
        expectZarrError("invalidCodecConfiguration") {
            _ = try pipeline(ShardingCodec(chunkShape: [3, 2], codecs: ZarrCodec.defaults(for: .uint16)), shape: [4, 4])
        }
        expectZarrError("invalidCodecConfiguration") {
            _ = try pipeline(ShardingCodec(chunkShape: [2], codecs: ZarrCodec.defaults(for: .uint16)), shape: [4, 4])
        }
        expectZarrError("invalidCodecConfiguration") {
            _ = try pipeline(ShardingCodec(chunkShape: [2, 2], codecs: ZarrCodec.defaults(for: .uint16),
                indexCodecs: [.bytes(.init()), .zstd(.init())]), shape: [4, 4])
        }
    }

    @Test func jsonAsZarrPythonWritesIt() throws {
        let codec = ZarrCodec.shardingIndexed(ShardingCodec(chunkShape: [2, 2], codecs: ZarrCodec.defaults(for: .float64)))
        #expect(codec.json.jsonText == """
            {"name": "sharding_indexed", "configuration": {"chunk_shape": [2, 2], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 0, "checksum": false}}], "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}], "index_location": "end"}}
            """)
        #expect(try ZarrCodec.parse(codec.json, path: "p") == codec)
    }
}
