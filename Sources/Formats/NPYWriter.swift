import Resonance

/// Writes arrays as NumPy `.npy` files, format version 1.0, as `numpy.save` does:
/// magic, version, a little-endian header length, a Python dict literal padded with spaces
/// to a multiple of 64 bytes and ending in a newline, then the data in C order.
public enum NPYWriter {
    /// The numpy type string of `dtype` ("<i4", "|u1", ...); data is little endian.
    public static func descr(_ dtype: FrameDType) -> String {
        let kind: String
        switch dtype {
        case .uint8, .uint16, .uint32, .uint64: kind = "u"
        case .int8, .int16, .int32, .int64: kind = "i"
        case .float32, .float64: kind = "f"
        }
        return (dtype.size == 1 ? "|" : "<") + kind + String(dtype.size)
    }

    /// The header (magic through the padded dict) for an array of `shape` and `dtype`.
    public static func header(dtype: FrameDType, shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr(dtype))', 'fortran_order': False, 'shape': \(dims), }"
        let prefix = 10  // magic (6) + version (2) + header length (2)
        let total = (prefix + dict.utf8.count + 1 + 63) / 64 * 64
        dict += String(repeating: " ", count: total - prefix - dict.utf8.count - 1) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out.appendLittleEndian(UInt16(dict.utf8.count))
        out += Array(dict.utf8)
        return out
    }

    /// The whole file for an array whose little-endian element bytes are `data`.
    public static func encode(dtype: FrameDType, shape: [Int], data: UnsafeRawBufferPointer) -> [UInt8] {
        precondition(data.count == shape.reduce(1, *) * dtype.size, "data size does not match shape and dtype")
        var out = header(dtype: dtype, shape: shape)
        out.reserveCapacity(out.count + data.count)
        out.append(contentsOf: data)
        return out
    }
}
