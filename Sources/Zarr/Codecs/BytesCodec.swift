import JSONValue

/// The `bytes` codec (array → bytes): elements in C order, in the chosen byte order.
///
/// `endian` may be nil only for one-byte types; zarr-python then writes `{"name": "bytes"}`.
///
/// ```swift
/// let codec = BytesCodec(endian: .big)   // {"name": "bytes", "configuration": {"endian": "big"}}
/// ```
public struct BytesCodec: Sendable, Hashable {
    /// Byte order of multi-byte elements in the stored chunk.
    public enum Endian: String, Sendable, Hashable {
        /// Least significant byte first (the native order here).
        case little
        /// Most significant byte first.
        case big
    }

    /// Byte order; nil (configuration omitted) is allowed for one-byte data types only.
    public var endian: Endian?

    /// A `bytes` codec with the given byte order.
    public init(endian: Endian? = .little) { self.endian = endian }

    /// The codec zarr-python writes for `dataType`: little endian, or no configuration for
    /// one-byte types.
    public static func standard(for dataType: ZarrDataType) -> BytesCodec {
        BytesCodec(endian: dataType.size == 1 ? nil : .little)
    }

    static func parse(_ configuration: JSONObject?, path: String) throws -> BytesCodec {
        var config = CodecConfiguration(codec: "bytes", configuration: configuration, path: path)
        let endian: Endian?
        if config.value("endian") == nil {
            endian = nil
        } else {
            endian = Endian(rawValue: try config.string("endian", oneOf: ["little", "big"]))
        }
        try config.finish()
        return BytesCodec(endian: endian)
    }

    var json: JSONValue {
        guard let endian else { return ["name": "bytes"] }
        return ["name": "bytes", "configuration": ["endian": .string(endian.rawValue)]]
    }

    func validate(for dataType: ZarrDataType, path: String) throws {
        if endian == nil && dataType.size > 1 {
            throw ZarrError.invalidCodecConfiguration(
                path: path, codec: "bytes", reason: "\"endian\" is required for \(dataType.name)")
        }
    }

    /// True when stored bytes differ from the native little-endian layout.
    func swapsBytes(elementSize: Int) -> Bool { endian == .big && elementSize > 1 }

    /// Reverses the bytes of every `elementSize`-byte element in place.
    static func byteSwap(_ buffer: UnsafeMutableRawBufferPointer, elementSize: Int) {
        byteSwapCopy(UnsafeRawBufferPointer(buffer), to: buffer, elementSize: elementSize)
    }

    /// Copies `source` to `destination` reversing each element's bytes.
    static func byteSwapCopy(
        _ source: UnsafeRawBufferPointer, to destination: UnsafeMutableRawBufferPointer, elementSize: Int
    ) {
        guard let src = source.baseAddress, let dst = destination.baseAddress else { return }
        let count = min(source.count, destination.count) / elementSize
        switch elementSize {
        case 2:
            for i in 0..<count {
                dst.storeBytes(of: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).byteSwapped,
                    toByteOffset: 2 * i, as: UInt16.self)
            }
        case 4:
            for i in 0..<count {
                dst.storeBytes(of: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).byteSwapped,
                    toByteOffset: 4 * i, as: UInt32.self)
            }
        case 8:
            for i in 0..<count {
                dst.storeBytes(of: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).byteSwapped,
                    toByteOffset: 8 * i, as: UInt64.self)
            }
        default:
            if src != UnsafeRawPointer(dst) { dst.copyMemory(from: src, byteCount: count * elementSize) }
        }
    }
}
