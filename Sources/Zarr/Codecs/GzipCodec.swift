import CZlib
import JSONValue

/// The `gzip` codec (bytes → bytes): RFC 1952 gzip via zlib.
///
/// ```swift
/// let codec = GzipCodec(level: 5)   // {"name": "gzip", "configuration": {"level": 5}}
/// ```
public struct GzipCodec: Sendable, Hashable {
    /// Compression level 0...9.
    public var level: Int

    /// A gzip codec; zarr-python's default level is 5.
    public init(level: Int = 5) { self.level = level }

    static func parse(_ configuration: JSONObject?, path: String) throws -> GzipCodec {
        var config = CodecConfiguration(codec: "gzip", configuration: configuration, path: path)
        let level = try config.int("level", in: 0...9)
        try config.finish()
        return GzipCodec(level: level)
    }

    var json: JSONValue { ["name": "gzip", "configuration": ["level": .int(Int64(level))]] }

    /// zlib counts in UInt32; feed large buffers in slices of this size.
    private static let slice = 1 << 30

    func encode(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 selects the gzip wrapper.
        var status = deflateInit2_(&stream, Int32(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
            zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw ZarrError.encodingFailed(chunk: "", codec: "gzip", reason: "deflateInit2 failed (\(status))")
        }
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        var consumed = 0
        var produced = 0
        repeat {
            if produced == out.count { out.append(contentsOf: repeatElement(0, count: out.count)) }
            let feed = min(Self.slice, input.count - consumed)
            let finish = consumed + feed == input.count
            status = out.withUnsafeMutableBytes { o -> Int32 in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.advanced(by: consumed)
                    .assumingMemoryBound(to: Bytef.self))
                stream.avail_in = UInt32(feed)
                stream.next_out = o.baseAddress!.advanced(by: produced).assumingMemoryBound(to: Bytef.self)
                stream.avail_out = UInt32(min(Self.slice, o.count - produced))
                let before = (stream.avail_in, stream.avail_out)
                let r = deflate(&stream, finish ? Z_FINISH : Z_NO_FLUSH)
                consumed += feed - Int(stream.avail_in)
                produced += Int(before.1 - stream.avail_out)
                return r
            }
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw ZarrError.encodingFailed(chunk: "", codec: "gzip", reason: "deflate failed (\(status))")
            }
        } while status != Z_STREAM_END
        out.removeSubrange(produced...)
        return out
    }

    /// Inflates `input` (gzip, or zlib, members back to back) until `output` is exactly
    /// full; `output` nil means the size is unknown and the result grows up to `limit`.
    private func inflate(_ input: UnsafeRawBufferPointer, exact output: UnsafeMutableRawBufferPointer?,
                         limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 32: accept both gzip and zlib headers.
        let status = inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw ZarrError.corruptChunk(chunk: "", codec: "gzip", reason: "inflateInit2 failed (\(status))")
        }
        defer { inflateEnd(&stream) }
        var grown: [UInt8] = output == nil ? [UInt8](repeating: 0, count: max(1024, min(limit, input.count * 4))) : []
        var consumed = 0
        var produced = 0
        while true {
            if output == nil && produced == grown.count {
                guard grown.count < limit else {
                    throw ZarrError.corruptChunk(chunk: "", codec: "gzip", reason: "decoded data exceeds \(limit) bytes")
                }
                grown.append(contentsOf: repeatElement(0, count: min(grown.count, limit - grown.count)))
            }
            let feed = min(Self.slice, input.count - consumed)
            let step: (Int32, Int, Int) = {
                let run = { (o: UnsafeMutableRawBufferPointer) -> (Int32, Int, Int) in
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.advanced(by: consumed)
                        .assumingMemoryBound(to: Bytef.self))
                    stream.avail_in = UInt32(feed)
                    let room = min(Self.slice, o.count - produced)
                    stream.next_out = o.baseAddress?.advanced(by: produced).assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = UInt32(room)
                    let r = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return (r, feed - Int(stream.avail_in), room - Int(stream.avail_out))
                }
                if let output { return run(output) }
                return grown.withUnsafeMutableBytes(run)
            }()
            consumed += step.1
            produced += step.2
            let capacity = output?.count ?? limit
            switch step.0 {
            case Z_STREAM_END:
                if consumed == input.count {
                    if let output, produced != output.count {
                        throw ZarrError.truncatedChunk(chunk: "", reason: "gzip data decodes to \(produced) bytes, expected \(output.count)")
                    }
                    grown.removeSubrange(min(produced, grown.count)...)
                    return grown
                }
                inflateReset(&stream)  // another gzip member follows
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                if produced >= capacity {
                    throw ZarrError.corruptChunk(chunk: "", codec: "gzip", reason: "decoded data exceeds \(capacity) bytes")
                }
                if consumed == input.count {
                    throw ZarrError.truncatedChunk(chunk: "", reason: "gzip stream ends early")
                }
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "error \(step.0)"
                throw ZarrError.corruptChunk(chunk: "", codec: "gzip", reason: message)
            }
        }
    }

    /// Decodes into `output`, which must be exactly the decoded size.
    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        _ = try inflate(input, exact: output, limit: output.count)
    }

    /// Decodes input whose decoded size is not known in advance.
    func decode(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        try inflate(input, exact: nil, limit: limit)
    }
}
