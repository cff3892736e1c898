import JSONValue
import Testing
@testable import Zarr

@Suite struct ZstdCodecTests {
    @Test func roundTripsAndCompresses() throws {
        let input = sampleBytes(count: 65536)
        for codec in [ZstdCodec(), ZstdCodec(level: 1, checksum: true), ZstdCodec(level: -3), ZstdCodec(level: 19)] {
            let (encoded, decoded) = try roundTrip(.zstd(codec), input)
            #expect(decoded == input)
            #expect(encoded.count < input.count / 2)
            #expect(Array(encoded.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])  // zstd frame magic
        }
    }

    @Test func checksumFlagIsSetInTheFrame() throws {
        let input = sampleBytes(count: 1000)
        let plain = try roundTrip(.zstd(ZstdCodec(checksum: false)), input).encoded
        let checked = try roundTrip(.zstd(ZstdCodec(checksum: true)), input).encoded
        #expect(checked.count == plain.count + 4)
        #expect(plain[4] & 0x04 == 0 && checked[4] & 0x04 != 0)  // frame header descriptor bit 2
    }

    @Test func damagedInputThrows() throws {
        let input = sampleBytes(count: 4096)
        let encoded = try roundTrip(.zstd(ZstdCodec(checksum: true)), input).encoded
        decodeMustThrow(.zstd(.init()), Array(encoded.prefix(encoded.count / 2)), count: input.count)
        decodeMustThrow(.zstd(.init()), [], count: input.count)
        decodeMustThrow(.zstd(.init()), [1, 2, 3, 4, 5, 6, 7, 8], count: input.count)
        var flipped = encoded
        flipped[flipped.count - 2] ^= 0xFF  // inside the content checksum
        decodeMustThrow(.zstd(.init()), flipped, count: input.count)
        decodeMustThrow(.zstd(.init()), encoded, count: input.count - 2)  // wrong expected size
        var rng = SplitMix64(seed: 3)
        for _ in 0..<200 {
            var damaged = encoded
            damaged[Int.random(in: 0..<damaged.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            // Either decodes (the damage hit nothing checked) or throws; never crashes.
            let pipeline = try CodecPipeline(codecs: [.bytes(.init()), .zstd(.init())], shape: [input.count / 2],
                dataType: .uint16, fill: .int(0), path: "p")
            var out = [UInt8](repeating: 0, count: input.count)
            _ = try? damaged.withUnsafeBytes { src in try out.withUnsafeMutableBytes { try pipeline.decode(src, into: $0) } }
        }
    }

    @Test func unknownSizeDecodingHandlesFramesWithoutContentSize() throws {
        // zstd before another bytes codec is decoded without knowing the size in advance.
        let input = sampleBytes(count: 10000)
        let pipeline = try CodecPipeline(codecs: [.bytes(.init()), .zstd(.init()), .gzip(GzipCodec(level: 1))],
            shape: [5000], dataType: .uint16, fill: .int(0), path: "p")
        let encoded = try input.withUnsafeBytes { try pipeline.encode($0) }
        var out = [UInt8](repeating: 0, count: input.count)
        try encoded.withUnsafeBytes { src in try out.withUnsafeMutableBytes { try pipeline.decode(src, into: $0) } }
        #expect(out == input)
    }

    @Test func json() throws {
        #expect(ZarrCodec.zstd(ZstdCodec()).json.jsonText == #"{"name": "zstd", "configuration": {"level": 0, "checksum": false}}"#)
        #expect(try ZarrCodec.parse(["name": "zstd", "configuration": ["level": 5, "checksum": true]], path: "p")
            == .zstd(ZstdCodec(level: 5, checksum: true)))
        expectZarrError("invalidCodecConfiguration") {
            _ = try ZarrCodec.parse(["name": "zstd", "configuration": ["level": "high"]], path: "p")
        }
        expectZarrError("invalidCodecConfiguration") {
            _ = try ZarrCodec.parse(["name": "zstd", "configuration": ["level": 3, "extra": 1]], path: "p")
        }
    }
}
