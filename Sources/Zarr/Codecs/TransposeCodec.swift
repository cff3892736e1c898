import JSONValue

/// The `transpose` codec (array → array): stores the chunk with its dimensions permuted.
/// Encoded dimension `i` is decoded dimension `order[i]`.
///
/// ```swift
/// let codec = try TransposeCodec(order: [1, 0])   // a 2-D chunk stored column-major
/// ```
public struct TransposeCodec: Sendable, Hashable {
    /// A permutation of `0..<rank`.
    public let order: [Int]

    /// Throws unless `order` is a permutation of `0..<order.count`.
    public init(order: [Int]) throws {
        guard Set(order) == Set(0..<order.count) else {
            throw ZarrError.invalidCodecConfiguration(
                path: "", codec: "transpose", reason: "order \(order) is not a permutation of 0..<\(order.count)")
        }
        self.order = order
    }

    static func parse(_ configuration: JSONObject?, path: String) throws -> TransposeCodec {
        var config = CodecConfiguration(codec: "transpose", configuration: configuration, path: path)
        let order = try config.intArray("order")
        try config.finish()
        guard Set(order) == Set(0..<order.count), order.count == Set(order).count else {
            throw config.error("order \(order) is not a permutation of 0..<\(order.count)")
        }
        return try TransposeCodec(order: order)
    }

    var json: JSONValue {
        ["name": "transpose", "configuration": ["order": .array(order.map { .int(Int64($0)) })]]
    }

    func validate(rank: Int, path: String) throws {
        guard order.count == rank else {
            throw ZarrError.invalidCodecConfiguration(
                path: path, codec: "transpose", reason: "order \(order) has \(order.count) entries for a \(rank)-D chunk")
        }
    }

    /// The shape of the stored (transposed) chunk.
    func encodedShape(_ shape: [Int]) -> [Int] { order.map { shape[$0] } }

    /// `order` inverted: the permutation that undoes this codec.
    var inverse: [Int] {
        var inv = [Int](repeating: 0, count: order.count)
        for (i, o) in order.enumerated() { inv[o] = i }
        return inv
    }

    /// Writes `source` (C order, `shape`) to `destination` in the stored, transposed layout.
    func encode(_ source: UnsafeRawBufferPointer, shape: [Int], elementSize: Int,
                into destination: UnsafeMutableRawBufferPointer) {
        permute(source, shape: shape, permutation: order, elementSize: elementSize, into: destination)
    }

    /// Writes `source` (stored layout, shape `encodedShape(shape)`) back to C order of `shape`.
    func decode(_ source: UnsafeRawBufferPointer, shape: [Int], elementSize: Int,
                into destination: UnsafeMutableRawBufferPointer) {
        permute(source, shape: encodedShape(shape), permutation: inverse, elementSize: elementSize, into: destination)
    }
}

/// Copies `source` (C order, `shape`) into `destination` with shape `permutation.map { shape[$0] }`,
/// so that destination index `e` holds source index `d` where `d[permutation[i]] == e[i]`.
func permute(_ source: UnsafeRawBufferPointer, shape: [Int], permutation: [Int], elementSize: Int,
             into destination: UnsafeMutableRawBufferPointer) {
    let rank = shape.count
    let count = shape.reduce(1, *)
    guard count > 0, let src = source.baseAddress, let dst = destination.baseAddress else { return }
    if rank == 0 {
        dst.copyMemory(from: src, byteCount: elementSize)
        return
    }
    var sourceStrides = [Int](repeating: elementSize, count: rank)
    for d in stride(from: rank - 2, through: 0, by: -1) { sourceStrides[d] = sourceStrides[d + 1] * shape[d + 1] }
    let outShape = permutation.map { shape[$0] }
    let outStrides = permutation.map { sourceStrides[$0] }  // source stride of each output dimension
    let innerCount = outShape[rank - 1]
    let innerStride = outStrides[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var sourceOffset = 0
    var out = dst
    let rows = count / innerCount
    for _ in 0..<rows {
        var s = sourceOffset
        switch elementSize {
        case 1:
            for i in 0..<innerCount { out.storeBytes(of: src.load(fromByteOffset: s, as: UInt8.self), toByteOffset: i, as: UInt8.self); s += innerStride }
        case 2:
            for i in 0..<innerCount { out.storeBytes(of: src.loadUnaligned(fromByteOffset: s, as: UInt16.self), toByteOffset: 2 * i, as: UInt16.self); s += innerStride }
        case 4:
            for i in 0..<innerCount { out.storeBytes(of: src.loadUnaligned(fromByteOffset: s, as: UInt32.self), toByteOffset: 4 * i, as: UInt32.self); s += innerStride }
        case 8:
            for i in 0..<innerCount { out.storeBytes(of: src.loadUnaligned(fromByteOffset: s, as: UInt64.self), toByteOffset: 8 * i, as: UInt64.self); s += innerStride }
        default:
            for i in 0..<innerCount { (out + i * elementSize).copyMemory(from: src + s, byteCount: elementSize); s += innerStride }
        }
        out += innerCount * elementSize
        // Advance the odometer over the outer output dimensions.
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            sourceOffset += outStrides[d]
            if index[d] < outShape[d] { break }
            sourceOffset -= outStrides[d] * outShape[d]
            index[d] = 0
            d -= 1
        }
    }
}
