import Testing
@testable import Zarr

/// Detector-like test data: smooth background, noise and a few bright pixels.
func sampleBytes(count: Int, seed: UInt64 = 1) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    var values = [UInt16](repeating: 0, count: (count + 1) / 2)
    for i in values.indices { values[i] = UInt16(100 + (i % 37) + Int.random(in: 0..<8, using: &rng)) }
    return Array(values.withUnsafeBytes { Array($0) }.prefix(count))
}

/// Encodes then decodes `input` through a one-compressor pipeline over uint16 elements.
func roundTrip(_ codec: ZarrCodec, _ input: [UInt8]) throws -> (encoded: [UInt8], decoded: [UInt8]) {
    let pipeline = try CodecPipeline(codecs: [.bytes(.init()), codec], shape: [input.count / 2], dataType: .uint16,
        fill: .int(0), path: "p")
    let encoded = try input.withUnsafeBytes { try pipeline.encode($0) }
    var decoded = [UInt8](repeating: 0, count: input.count)
    try encoded.withUnsafeBytes { src in try decoded.withUnsafeMutableBytes { try pipeline.decode(src, into: $0) } }
    return (encoded, decoded)
}

/// Decoding `encoded` into `count` bytes must throw (and never crash).
func decodeMustThrow(_ codec: ZarrCodec, _ encoded: [UInt8], count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let pipeline = try CodecPipeline(codecs: [.bytes(.init()), codec], shape: [count / 2], dataType: .uint16,
            fill: .int(0), path: "p")
        var out = [UInt8](repeating: 0, count: count)
        try encoded.withUnsafeBytes { src in try out.withUnsafeMutableBytes { try pipeline.decode(src, into: $0) } }
        Issue.record("decoding \(encoded.count) damaged bytes did not throw", sourceLocation: sourceLocation)
    } catch let error as ZarrError {
        let name = error.caseName
        #expect(name == "corruptChunk" || name == "truncatedChunk", "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}
