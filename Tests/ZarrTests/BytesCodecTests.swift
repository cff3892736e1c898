import JSONValue
import Testing
@testable import Zarr

@Suite struct BytesCodecTests {
    @Test func littleEndianIsIdentity() throws {
        let pipeline = try CodecPipeline(codecs: [.bytes(BytesCodec(endian: .little))], shape: [3], dataType: .uint16,
            fill: .int(0), path: "p")
        let encoded = try [UInt16(0x0102), 0x0304, 0x0506].withUnsafeBytes { try pipeline.encode($0) }
        #expect(encoded == [0x02, 0x01, 0x04, 0x03, 0x06, 0x05])
    }

    @Test func bigEndianSwapsEachElement() throws {
        for (type, values) in [(ZarrDataType.uint16, [0x0102, 0x0304]), (.int32, [0x01020304, -2]), (.float64, [1, 2])] as [(ZarrDataType, [Int])] {
            let pipeline = try CodecPipeline(codecs: [.bytes(BytesCodec(endian: .big))], shape: [2], dataType: type,
                fill: .zero(for: type), path: "p")
            var native = [UInt8](repeating: 0, count: 2 * type.size)
            native.withUnsafeMutableBytes { raw in
                for (i, v) in values.enumerated() {
                    switch type {
                    case .uint16: raw.storeBytes(of: UInt16(v), toByteOffset: 2 * i, as: UInt16.self)
                    case .int32: raw.storeBytes(of: Int32(v), toByteOffset: 4 * i, as: Int32.self)
                    default: raw.storeBytes(of: Double(v), toByteOffset: 8 * i, as: Double.self)
                    }
                }
            }
            let encoded = try native.withUnsafeBytes { try pipeline.encode($0) }
            for i in 0..<2 {
                #expect(Array(encoded[(i * type.size)..<((i + 1) * type.size)]) == Array(native[(i * type.size)..<((i + 1) * type.size)].reversed()))
            }
            var decoded = [UInt8](repeating: 0, count: native.count)
            try encoded.withUnsafeBytes { src in try decoded.withUnsafeMutableBytes { try pipeline.decode(src, into: $0) } }
            #expect(decoded == native)
        }
    }

    @Test func configurationMayBeOmittedOnlyForOneByteTypes() throws {
        #expect(try ZarrCodec.parse(["name": "bytes"], path: "p") == .bytes(BytesCodec(endian: nil)))
        _ = try CodecPipeline(codecs: [.bytes(BytesCodec(endian: nil))], shape: [2], dataType: .uint8, fill: .int(0), path: "p")
        _ = try CodecPipeline(codecs: [.bytes(BytesCodec(endian: nil))], shape: [2], dataType: .bool, fill: .bool(false), path: "p")
        expectZarrError("invalidCodecConfiguration") {
            _ = try CodecPipeline(codecs: [.bytes(BytesCodec(endian: nil))], shape: [2], dataType: .uint16, fill: .int(0), path: "p")
        }
    }

    @Test func jsonAsZarrPythonWritesIt() throws {
        #expect(ZarrCodec.bytes(.standard(for: .uint8)).json.jsonText == #"{"name": "bytes"}"#)
        #expect(ZarrCodec.bytes(.standard(for: .uint16)).json.jsonText == #"{"name": "bytes", "configuration": {"endian": "little"}}"#)
        #expect(ZarrCodec.bytes(BytesCodec(endian: .big)).json.jsonText == #"{"name": "bytes", "configuration": {"endian": "big"}}"#)
        expectZarrError("invalidCodecConfiguration") {
            _ = try ZarrCodec.parse(["name": "bytes", "configuration": ["endian": "middle"]], path: "p")
        }
    }

    @Test func wrongSizeThrows() throws {
        let pipeline = try CodecPipeline(codecs: [.bytes(.init())], shape: [4], dataType: .uint16, fill: .int(0), path: "p")
        var out = [UInt8](repeating: 0, count: 8)
        expectZarrError("truncatedChunk") {
            try [UInt8](repeating: 1, count: 7).withUnsafeBytes { src in try out.withUnsafeMutableBytes { try pipeline.decode(src, into: $0) } }
        }
        expectZarrError("corruptChunk") {
            try [UInt8](repeating: 1, count: 9).withUnsafeBytes { src in try out.withUnsafeMutableBytes { try pipeline.decode(src, into: $0) } }
        }
    }
}
