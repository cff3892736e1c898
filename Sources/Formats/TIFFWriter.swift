import Resonance

/// Writes one grayscale image as a baseline, uncompressed, little-endian TIFF 6.0 file:
/// one strip, BlackIsZero, 8/16/32 (or 64) bits per sample, and a SampleFormat tag
/// saying unsigned integer, signed integer or IEEE float.
///
/// Layout: the 8-byte header, the pixels (so the strip starts at offset 8), then the IFD and
/// the resolution rationals it points to.
public enum TIFFWriter {
    private enum FieldType: UInt16 { case short = 3, long = 4, rational = 5 }

    /// Tag numbers from the TIFF 6.0 specification.
    private enum Tag: UInt16 {
        case imageWidth = 256, imageLength = 257, bitsPerSample = 258, compression = 259
        case photometric = 262, stripOffsets = 273, samplesPerPixel = 277, rowsPerStrip = 278
        case stripByteCounts = 279, xResolution = 282, yResolution = 283, resolutionUnit = 296
        case sampleFormat = 339
    }

    /// SampleFormat: 1 unsigned integer, 2 two's complement signed integer, 3 IEEE float.
    static func sampleFormat(_ dtype: FrameDType) -> UInt16 {
        switch dtype {
        case .uint8, .uint16, .uint32, .uint64: return 1
        case .int8, .int16, .int32, .int64: return 2
        case .float32, .float64: return 3
        }
    }

    /// The whole file for a `rows` x `columns` image whose little-endian pixel bytes are `data`.
    public static func encode(dtype: FrameDType, rows: Int, columns: Int, data: UnsafeRawBufferPointer) throws -> [UInt8] {
        precondition(data.count == rows * columns * dtype.size, "data size does not match shape and dtype")
        // Classic TIFF addresses bytes with 32-bit offsets.
        guard data.count < Int(UInt32.max) - 4096 else {
            throw RenderError("a \(rows)x\(columns) \(dtype.rawValue) frame is too large for a classic TIFF file (4 GiB)")
        }
        var out: [UInt8] = Array("II".utf8)
        out.appendLittleEndian(UInt16(42))
        out.appendLittleEndian(UInt32(8))  // first IFD offset, patched below
        out.append(contentsOf: data)
        if out.count % 2 == 1 { out.append(0) }  // the IFD starts on a word boundary
        let ifdOffset = out.count
        let entries: [(Tag, FieldType, UInt32)] = [
            (.imageWidth, .long, UInt32(columns)),
            (.imageLength, .long, UInt32(rows)),
            (.bitsPerSample, .short, UInt32(dtype.size * 8)),
            (.compression, .short, 1),
            (.photometric, .short, 1),  // BlackIsZero
            (.stripOffsets, .long, 8),
            (.samplesPerPixel, .short, 1),
            (.rowsPerStrip, .long, UInt32(rows)),
            (.stripByteCounts, .long, UInt32(data.count)),
            (.xResolution, .rational, 0),  // offsets filled in below
            (.yResolution, .rational, 0),
            (.resolutionUnit, .short, 1),  // no absolute unit
            (.sampleFormat, .short, UInt32(sampleFormat(dtype))),
        ]
        let rationalsOffset = UInt32(ifdOffset + 2 + entries.count * 12 + 4)
        out.appendLittleEndian(UInt16(entries.count))
        var rational = 0
        for (tag, type, value) in entries {
            out.appendLittleEndian(tag.rawValue)
            out.appendLittleEndian(type.rawValue)
            out.appendLittleEndian(UInt32(1))
            switch type {
            case .short:
                out.appendLittleEndian(UInt16(value))  // left-justified in the 4-byte field
                out.appendLittleEndian(UInt16(0))
            case .long:
                out.appendLittleEndian(value)
            case .rational:
                out.appendLittleEndian(rationalsOffset + UInt32(8 * rational))
                rational += 1
            }
        }
        out.appendLittleEndian(UInt32(0))  // no next IFD
        for _ in 0..<rational {  // 1/1 pixels per unit
            out.appendLittleEndian(UInt32(1))
            out.appendLittleEndian(UInt32(1))
        }
        out.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(ifdOffset).littleEndian, toByteOffset: 4, as: UInt32.self) }
        return out
    }
}
