/// A codec list resolved for one chunk shape and data type: the order checked, the
/// shapes after each array → array codec computed, sharding's inner pipelines built.
///
/// Decoding writes into the caller's buffer; with no `transpose`, the innermost
/// decompressor writes straight into it and no intermediate copy is made.
struct CodecPipeline: Sendable {
    indirect enum ArrayToBytes: Sendable {
        case bytes(BytesCodec)
        case sharding(ShardingRuntime)
    }

    let shape: [Int]
    let dataType: ZarrDataType
    let arrayToArray: [TransposeCodec]
    /// `shapes[i]` is the shape entering array → array codec `i`; the last is the encoded shape.
    let shapes: [[Int]]
    let arrayToBytes: ArrayToBytes
    let bytesToBytes: [ZarrCodec]
    /// Bytes in one decoded chunk.
    let decodedByteCount: Int

    /// Upper bound for intermediate results of unknown size, against decompression bombs.
    static let unknownSizeLimit = 1 << 36

    init(codecs: [ZarrCodec], shape: [Int], dataType: ZarrDataType, fill: ZarrFillValue, path: String) throws {
        self.shape = shape
        self.dataType = dataType
        var arrayToArray: [TransposeCodec] = []
        var arrayToBytes: ZarrCodec? = nil
        var bytesToBytes: [ZarrCodec] = []
        for codec in codecs {
            switch codec.kind {
            case .ignored:
                continue
            case .arrayToArray:
                guard arrayToBytes == nil else {
                    throw ZarrError.invalidCodecOrder(path: path, reason: "\"\(codec.name)\" (array → array) follows the array → bytes codec")
                }
                if case .transpose(let t) = codec { arrayToArray.append(t) }
            case .arrayToBytes:
                guard arrayToBytes == nil else {
                    throw ZarrError.invalidCodecOrder(path: path, reason: "second array → bytes codec \"\(codec.name)\"")
                }
                arrayToBytes = codec
            case .bytesToBytes:
                guard arrayToBytes != nil else {
                    throw ZarrError.invalidCodecOrder(path: path, reason: "\"\(codec.name)\" (bytes → bytes) comes before the array → bytes codec")
                }
                if case .blosc(let b) = codec, b.typesize == nil, b.shuffle != .noshuffle {
                    throw ZarrError.invalidCodecConfiguration(path: path, codec: "blosc", reason: "\"typesize\" is required with shuffle")
                }
                bytesToBytes.append(codec)
            }
        }
        guard let arrayToBytes else {
            throw ZarrError.invalidCodecOrder(path: path, reason: "no array → bytes codec (such as \"bytes\")")
        }
        var shapes = [shape]
        for t in arrayToArray {
            try t.validate(rank: shapes.last!.count, path: path)
            shapes.append(t.encodedShape(shapes.last!))
        }
        self.arrayToArray = arrayToArray
        self.shapes = shapes
        self.bytesToBytes = bytesToBytes
        var count = dataType.size
        for n in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw ZarrError.invalidMetadata(path: path, reason: "chunk shape \(shape) is too large") }
            count = product
        }
        decodedByteCount = count
        switch arrayToBytes {
        case .bytes(let b):
            try b.validate(for: dataType, path: path)
            self.arrayToBytes = .bytes(b)
        case .shardingIndexed(let s):
            self.arrayToBytes = .sharding(try ShardingRuntime(codec: s, shardShape: shapes.last!, dataType: dataType, fill: fill, path: path))
        default:
            fatalError("unreachable: \(arrayToBytes.name) is not array → bytes")
        }
    }

    /// The encoded size of a chunk when every codec has a fixed overhead (needed for the
    /// shard index), else nil.
    var fixedEncodedSize: Int? {
        guard case .bytes = arrayToBytes else { return nil }
        var size = decodedByteCount
        for codec in bytesToBytes {
            guard case .crc32c = codec else { return nil }
            size += 4
        }
        return size
    }

    // MARK: Encoding

    /// Encodes one chunk given as C-order native bytes of `shape`.
    func encode(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        precondition(input.count == decodedByteCount, "chunk buffer size")
        if arrayToArray.isEmpty { return try encodeArrayToBytes(input) }
        var current = Array(input)
        for (i, t) in arrayToArray.enumerated() {
            var next = [UInt8](repeating: 0, count: decodedByteCount)
            current.withUnsafeBytes { src in
                next.withUnsafeMutableBytes { dst in
                    t.encode(src, shape: shapes[i], elementSize: dataType.size, into: dst)
                }
            }
            current = next
        }
        return try current.withUnsafeBytes { try encodeArrayToBytes($0) }
    }

    private func encodeArrayToBytes(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        switch arrayToBytes {
        case .bytes(let codec):
            if codec.swapsBytes(elementSize: dataType.size) {
                var swapped = [UInt8](repeating: 0, count: input.count)
                swapped.withUnsafeMutableBytes { BytesCodec.byteSwapCopy(input, to: $0, elementSize: dataType.size) }
                return try swapped.withUnsafeBytes { try encodeBytes($0) }
            }
            return try encodeBytes(input)
        case .sharding(let sharding):
            let shard = try sharding.encode(input)
            if bytesToBytes.isEmpty { return shard }
            return try shard.withUnsafeBytes { try encodeBytes($0) }
        }
    }

    private func encodeBytes(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard let first = bytesToBytes.first else { return Array(input) }
        var current = try Self.encode(input, with: first)
        for codec in bytesToBytes.dropFirst() {
            current = try current.withUnsafeBytes { try Self.encode($0, with: codec) }
        }
        return current
    }

    private static func encode(_ input: UnsafeRawBufferPointer, with codec: ZarrCodec) throws -> [UInt8] {
        switch codec {
        case .zstd(let c): return try c.encode(input)
        case .gzip(let c): return try c.encode(input)
        case .blosc(let c): return try c.encode(input)
        case .crc32c(let c): return c.encode(input)
        default: fatalError("unreachable: \(codec.name) is not bytes → bytes")
        }
    }

    // MARK: Decoding

    /// Decodes one stored chunk into `output` (C-order native bytes of `shape`).
    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        precondition(output.count == decodedByteCount, "chunk buffer size")
        if arrayToArray.isEmpty {
            try decodeArrayToBytes(input, into: output)
            return
        }
        var current = [UInt8](repeating: 0, count: decodedByteCount)
        try current.withUnsafeMutableBytes { try decodeArrayToBytes(input, into: $0) }
        for i in stride(from: arrayToArray.count - 1, through: 0, by: -1) {
            let t = arrayToArray[i]
            if i == 0 {
                current.withUnsafeBytes { t.decode($0, shape: shapes[0], elementSize: dataType.size, into: output) }
            } else {
                var next = [UInt8](repeating: 0, count: decodedByteCount)
                current.withUnsafeBytes { src in
                    next.withUnsafeMutableBytes { t.decode(src, shape: shapes[i], elementSize: dataType.size, into: $0) }
                }
                current = next
            }
        }
    }

    private func decodeArrayToBytes(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        switch arrayToBytes {
        case .bytes(let codec):
            try decodeBytes(input, upTo: bytesToBytes.count, into: output)
            if codec.swapsBytes(elementSize: dataType.size) {
                BytesCodec.byteSwap(output, elementSize: dataType.size)
            }
        case .sharding(let sharding):
            try withDecodedBytes(input, upTo: bytesToBytes.count) { try sharding.decode($0, into: output) }
        }
    }

    /// Undoes bytes → bytes codecs `0..<n` (last first) into `output`, which must end up full.
    private func decodeBytes(_ input: UnsafeRawBufferPointer, upTo n: Int, into output: UnsafeMutableRawBufferPointer) throws {
        if n == 0 {
            guard input.count == output.count else {
                if input.count < output.count {
                    throw ZarrError.truncatedChunk(chunk: "", reason: "\(input.count) bytes, expected \(output.count)")
                }
                throw ZarrError.corruptChunk(chunk: "", codec: "bytes", reason: "\(input.count) bytes, expected \(output.count)")
            }
            if let src = input.baseAddress, let dst = output.baseAddress, input.count > 0 {
                dst.copyMemory(from: src, byteCount: input.count)
            }
            return
        }
        let codec = bytesToBytes[n - 1]
        if case .crc32c(let c) = codec {
            // The payload is a prefix of the input: check it and go on without copying.
            let length = try c.verify(input)
            try decodeBytes(UnsafeRawBufferPointer(rebasing: input[0..<length]), upTo: n - 1, into: output)
            return
        }
        if n == 1 {
            switch codec {
            case .zstd(let c): try c.decode(input, into: output)
            case .gzip(let c): try c.decode(input, into: output)
            case .blosc(let c): try c.decode(input, into: output)
            default: fatalError("unreachable: \(codec.name) is not bytes → bytes")
            }
            return
        }
        let middle = try Self.decode(input, with: codec)
        try middle.withUnsafeBytes { try decodeBytes($0, upTo: n - 1, into: output) }
    }

    /// Undoes bytes → bytes codecs `0..<n` when the decoded size is not known in advance.
    private func withDecodedBytes<R>(_ input: UnsafeRawBufferPointer, upTo n: Int,
                                     _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        if n == 0 { return try body(input) }
        let codec = bytesToBytes[n - 1]
        if case .crc32c(let c) = codec {
            let length = try c.verify(input)
            return try withDecodedBytes(UnsafeRawBufferPointer(rebasing: input[0..<length]), upTo: n - 1, body)
        }
        let middle = try Self.decode(input, with: codec)
        return try middle.withUnsafeBytes { try withDecodedBytes($0, upTo: n - 1, body) }
    }

    private static func decode(_ input: UnsafeRawBufferPointer, with codec: ZarrCodec) throws -> [UInt8] {
        switch codec {
        case .zstd(let c): return try c.decode(input, limit: unknownSizeLimit)
        case .gzip(let c): return try c.decode(input, limit: unknownSizeLimit)
        case .blosc(let c): return try c.decode(input, limit: unknownSizeLimit)
        case .crc32c(let c): return Array(input[0..<(try c.verify(input))])
        default: fatalError("unreachable: \(codec.name) is not bytes → bytes")
        }
    }
}
