import JSONValue
import Testing
@testable import Zarr

@Suite struct GzipCodecTests {
    @Test func roundTripsWithGzipHeader() throws {
        let input = sampleBytes(count: 50000)
        for level in [0, 1, 5, 9] {
            let (encoded, decoded) = try roundTrip(.gzip(GzipCodec(level: level)), input)
            #expect(decoded == input)
            #expect(Array(encoded.prefix(3)) == [0x1F, 0x8B, 0x08], "gzip magic and deflate method")
        }
    }

    @Test func emptyAndTinyInputs() throws {
        #expect(try roundTrip(.gzip(GzipCodec()), [1, 2]).decoded == [1, 2])
    }

    @Test func damagedInputThrows() throws {
        let input = sampleBytes(count: 4096)
        let encoded = try roundTrip(.gzip(GzipCodec()), input).encoded
        decodeMustThrow(.gzip(.init()), Array(encoded.prefix(encoded.count - 12)), count: input.count)
        decodeMustThrow(.gzip(.init()), [0x1F, 0x8B], count: input.count)
        decodeMustThrow(.gzip(.init()), [9, 9, 9, 9, 9, 9, 9, 9, 9, 9], count: input.count)
        var crcBroken = encoded
        crcBroken[crcBroken.count - 6] ^= 0x55  // the gzip trailer's CRC-32
        decodeMustThrow(.gzip(.init()), crcBroken, count: input.count)
        decodeMustThrow(.gzip(.init()), encoded, count: input.count - 2)
        decodeMustThrow(.gzip(.init()), encoded, count: input.count + 2)
    }

    @Test func json() throws {
        #expect(ZarrCodec.gzip(GzipCodec(level: 5)).json.jsonText == #"{"name": "gzip", "configuration": {"level": 5}}"#)
        expectZarrError("invalidCodecConfiguration") {
            _ = try ZarrCodec.parse(["name": "gzip", "configuration": ["level": 10]], path: "p")
        }
        expectZarrError("invalidCodecConfiguration") { _ = try ZarrCodec.parse(["name": "gzip"], path: "p") }
    }
}
