import JSONValue
import Testing
@testable import Zarr

@Suite struct Crc32cCodecTests {
    @Test func appendsLittleEndianChecksum() throws {
        let encoded = Array("123456789".utf8).withUnsafeBytes { Crc32cCodec().encode($0) }
        #expect(encoded.count == 13)
        #expect(Array(encoded.suffix(4)) == [0x83, 0x92, 0x06, 0xE3])
        let payload = try encoded.withUnsafeBytes { try Crc32cCodec().verify($0) }
        #expect(payload == 9)
    }

    @Test func detectsCorruption() throws {
        var encoded = Array("123456789".utf8).withUnsafeBytes { Crc32cCodec().encode($0) }
        encoded[3] ^= 0x10
        let error = expectZarrError("checksumMismatch") { _ = try encoded.withUnsafeBytes { try Crc32cCodec().verify($0) } }
        #expect(error?.inChunk("/s/c/0").description.hasPrefix("chunk /s/c/0: checksum mismatch") == true)
        expectZarrError("truncatedChunk") { _ = try [UInt8](repeating: 0, count: 3).withUnsafeBytes { try Crc32cCodec().verify($0) } }
    }

    @Test func json() throws {
        #expect(ZarrCodec.crc32c(Crc32cCodec()).json == ["name": "crc32c"])
        #expect(try ZarrCodec.parse("crc32c", path: "p") == .crc32c(Crc32cCodec()))
        expectZarrError("invalidCodecConfiguration") {
            _ = try ZarrCodec.parse(["name": "crc32c", "configuration": ["x": 1]], path: "p")
        }
    }

    @Test func pipelineRoundTripAndCorruption() throws {
        let pipeline = try CodecPipeline(codecs: [.bytes(.init()), .crc32c(.init())], shape: [4], dataType: .uint32,
            fill: .int(0), path: "p")
        let values: [UInt32] = [1, 2, 3, 0xDEADBEEF]
        var encoded = try values.withUnsafeBytes { try pipeline.encode($0) }
        #expect(encoded.count == 20)
        var out = [UInt32](repeating: 0, count: 4)
        try encoded.withUnsafeBytes { src in try out.withUnsafeMutableBytes { try pipeline.decode(src, into: $0) } }
        #expect(out == values)
        encoded[0] ^= 1
        expectZarrError("checksumMismatch") {
            try encoded.withUnsafeBytes { src in try out.withUnsafeMutableBytes { try pipeline.decode(src, into: $0) } }
        }
    }
}
