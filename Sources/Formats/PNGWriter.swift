import CZlib

/// Encodes 8-bit grayscale or RGB images as PNG (RFC 2083): IHDR, one zlib IDAT, IEND.
public enum PNGWriter {
    /// The pixel layouts this writer produces.
    public enum ColorType: UInt8 {
        /// One byte per pixel.
        case gray = 0
        /// Three bytes per pixel: red, green, blue.
        case rgb = 2

        var channels: Int { self == .gray ? 1 : 3 }
    }

    /// A PNG file of `width` x `height` pixels, row after row, `channels` bytes per pixel.
    /// `level` is zlib's 1 (fastest) to 9 (smallest); noisy detector images gain little
    /// from high levels but take several times longer.
    public static func encode(width: Int, height: Int, color: ColorType, pixels: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        let rowBytes = width * color.channels
        precondition(pixels.count == rowBytes * height, "pixel count does not match the image size")
        // Every row starts with its filter type; 0 (None) keeps this simple, and deflate
        // still shrinks plots (mostly one color) and quick-looks well.
        var raw = [UInt8](repeating: 0, count: (rowBytes + 1) * height)
        pixels.withUnsafeBufferPointer { src in
            raw.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let from = src.baseAddress! + y * rowBytes
                    (dst.baseAddress! + y * (rowBytes + 1) + 1).update(from: from, count: rowBytes)
                }
            }
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header += [8, color.rawValue, 0, 0, 0]  // bit depth, color type, deflate, filter set 0, no interlace
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", try deflate(raw, level: level), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// zlib-wrapped deflate, as IDAT wants it.
    static func deflate(_ data: [UInt8], level: Int32) throws -> [UInt8] {
        var length = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let status = out.withUnsafeMutableBufferPointer { o in
            data.withUnsafeBufferPointer { i in
                compress2(o.baseAddress, &length, i.baseAddress, uLong(i.count), level)
            }
        }
        guard status == Z_OK else { throw RenderError("zlib compress2 failed (status \(status))") }
        out.removeSubrange(Int(length)...)
        return out
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        png.appendBigEndian(UInt32(data.count))
        let typeAndData = Array(type.utf8) + data
        png += typeAndData
        let crc = typeAndData.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        png.appendBigEndian(UInt32(crc))
    }
}

extension [UInt8] {
    package mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }

    package mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// A picture or file that could not be encoded, with the reason.
public struct RenderError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
