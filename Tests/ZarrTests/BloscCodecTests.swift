import JSONValue
import Testing
@testable import Zarr

@Suite struct BloscCodecTests {
    @Test(arguments: BloscCodec.Compressor.allCases.filter { $0 != .snappy })
    func roundTripsForEachCompressorAndShuffle(cname: BloscCodec.Compressor) throws {
        let input = sampleBytes(count: 40000)
        for shuffle in BloscCodec.Shuffle.allCases {
            let codec = BloscCodec(cname: cname, clevel: 5, shuffle: shuffle, typesize: 2)
            let (encoded, decoded) = try roundTrip(.blosc(codec), input)
            #expect(decoded == input, "\(cname) \(shuffle)")
            #expect(encoded.count < input.count, "\(cname) \(shuffle)")
            #expect(encoded[0] == 2, "blosc format version")
        }
    }

    @Test func blocksizeAndLevelZero() throws {
        let input = sampleBytes(count: 20000)
        #expect(try roundTrip(.blosc(BloscCodec(cname: .lz4, clevel: 0, shuffle: .noshuffle, typesize: 2)), input).decoded == input)
        #expect(try roundTrip(.blosc(BloscCodec(cname: .zstd, clevel: 3, shuffle: .shuffle, typesize: 2, blocksize: 4096)), input).decoded == input)
    }

    @Test func damagedInputThrows() throws {
        let input = sampleBytes(count: 4096)
        let encoded = try roundTrip(.blosc(BloscCodec(cname: .lz4, shuffle: .shuffle, typesize: 2)), input).encoded
        decodeMustThrow(.blosc(.init(typesize: 2)), Array(encoded.prefix(10)), count: input.count)
        decodeMustThrow(.blosc(.init(typesize: 2)), Array(encoded.prefix(encoded.count - 5)), count: input.count)
        decodeMustThrow(.blosc(.init(typesize: 2)), encoded, count: input.count - 2)
        var header = encoded
        header[4] = 0xFF  // nbytes far too large
        decodeMustThrow(.blosc(.init(typesize: 2)), header, count: input.count)
    }

    @Test func defaultsFollowTheDataTypeLikeZarrPython() throws {
        let wide = try ZarrArrayMetadata(shape: [4], dataType: .uint32, chunkShape: [4], codecs: [.bytes(.init()), .blosc(BloscCodec())])
        #expect(wide.codecs[1].json.jsonText
            == #"{"name": "blosc", "configuration": {"typesize": 4, "cname": "zstd", "clevel": 5, "shuffle": "shuffle", "blocksize": 0}}"#)
        let narrow = try ZarrArrayMetadata(shape: [4], dataType: .uint8, chunkShape: [4], codecs: [.bytes(BytesCodec(endian: nil)), .blosc(BloscCodec())])
        #expect(narrow.codecs[1] == .blosc(BloscCodec(cname: .zstd, clevel: 5, shuffle: .bitshuffle, typesize: 1)))
        let explicit = try ZarrArrayMetadata(shape: [4], dataType: .uint32, chunkShape: [4],
            codecs: [.bytes(.init()), .blosc(BloscCodec(cname: .lz4, clevel: 3, shuffle: .noshuffle))])
        #expect(explicit.codecs[1] == .blosc(BloscCodec(cname: .lz4, clevel: 3, shuffle: .noshuffle, typesize: 4)))
    }

    @Test func parsing() throws {
        let json: JSONValue = ["name": "blosc", "configuration": ["typesize": 2, "cname": "lz4", "clevel": 3, "shuffle": "bitshuffle", "blocksize": 0]]
        #expect(try ZarrCodec.parse(json, path: "p") == .blosc(BloscCodec(cname: .lz4, clevel: 3, shuffle: .bitshuffle, typesize: 2)))
        expectZarrError("invalidCodecConfiguration") {
            _ = try ZarrCodec.parse(["name": "blosc", "configuration": ["cname": "lzma", "clevel": 3, "shuffle": "shuffle", "typesize": 2]], path: "p")
        }
        expectZarrError("invalidCodecConfiguration") {
            _ = try ZarrCodec.parse(["name": "blosc", "configuration": ["cname": "lz4", "clevel": 3, "shuffle": "shuffle"]], path: "p")
        }
    }
}
