import JSONValue
import Testing
@testable import Zarr

@Suite struct TransposeCodecTests {
    @Test func twoDimensionalIsColumnMajor() throws {
        let pipeline = try CodecPipeline(codecs: [.transpose(try TransposeCodec(order: [1, 0])), .bytes(.init())],
            shape: [2, 3], dataType: .uint8, fill: .int(0), path: "p")
        let encoded = try [UInt8]([1, 2, 3, 4, 5, 6]).withUnsafeBytes { try pipeline.encode($0) }
        #expect(encoded == [1, 4, 2, 5, 3, 6])
        var out = [UInt8](repeating: 0, count: 6)
        try encoded.withUnsafeBytes { src in try out.withUnsafeMutableBytes { try pipeline.decode(src, into: $0) } }
        #expect(out == [1, 2, 3, 4, 5, 6])
    }

    @Test func threeDimensionalRoundTripsForEveryPermutation() throws {
        let shape = [2, 3, 4]
        let values = (0..<24).map { UInt32($0 * 7 + 1) }
        for order in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            let codec = try TransposeCodec(order: order)
            let pipeline = try CodecPipeline(codecs: [.transpose(codec), .bytes(BytesCodec(endian: .big)), .zstd(.init())],
                shape: shape, dataType: .uint32, fill: .int(0), path: "p")
            let encoded = try values.withUnsafeBytes { try pipeline.encode($0) }
            var out = [UInt32](repeating: 0, count: 24)
            try encoded.withUnsafeBytes { src in try out.withUnsafeMutableBytes { try pipeline.decode(src, into: $0) } }
            #expect(out == values, "order \(order)")
            // The stored element at encoded index e is decoded index d with d[order[i]] = e[i].
            var transposed = [UInt32](repeating: 0, count: 24)
            values.withUnsafeBytes { src in transposed.withUnsafeMutableBytes { codec.encode(src, shape: shape, elementSize: 4, into: $0) } }
            let encodedShape = codec.encodedShape(shape)
            var e = [0, 0, 0]
            for n in 0..<24 {
                e = [n / (encodedShape[1] * encodedShape[2]), (n / encodedShape[2]) % encodedShape[1], n % encodedShape[2]]
                var d = [0, 0, 0]
                for i in 0..<3 { d[order[i]] = e[i] }
                #expect(transposed[n] == values[d[0] * 12 + d[1] * 4 + d[2]])
            }
        }
    }

    @Test func rejectsBadOrders() throws {
        #expect(throws: ZarrError.self) { try TransposeCodec(order: [0, 0]) }
        expectZarrError("invalidCodecConfiguration") {
            _ = try ZarrCodec.parse(["name": "transpose", "configuration": ["order": [1, 2]]], path: "p")
        }
        expectZarrError("invalidCodecConfiguration") {
            _ = try CodecPipeline(codecs: [.transpose(try TransposeCodec(order: [1, 0])), .bytes(.init())], shape: [2, 2, 2],
                dataType: .uint8, fill: .int(0), path: "p")
        }
        expectZarrError("invalidCodecOrder") {
            _ = try CodecPipeline(codecs: [.bytes(.init()), .transpose(try TransposeCodec(order: [0]))], shape: [2],
                dataType: .uint8, fill: .int(0), path: "p")
        }
    }

    @Test func json() throws {
        let codec = ZarrCodec.transpose(try TransposeCodec(order: [2, 0, 1]))
        #expect(codec.json.jsonText == #"{"name": "transpose", "configuration": {"order": [2, 0, 1]}}"#)
        #expect(try ZarrCodec.parse(codec.json, path: "p") == codec)
    }
}
