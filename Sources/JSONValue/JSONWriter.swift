// Writes JSON text byte for byte as Python's `json.dumps(value)` does with its defaults:
// separators ", " and ": ", ensure_ascii (non-ASCII as \uXXXX, surrogate pairs above the
// BMP), floats as `repr(float)`, and NaN / Infinity / -Infinity as bare tokens.

extension JSONValue {
    /// The value as `json.dumps` writes it.
    public var jsonText: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        JSONWriter.write(self, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the value's JSON text (as `json.dumps` writes it) to `bytes`.
    public func write(into bytes: inout [UInt8]) {
        JSONWriter.write(self, into: &bytes)
    }
}

extension JSONObject {
    /// The object as `json.dumps` writes it.
    public var jsonText: String { JSONValue.object(self).jsonText }
}

/// The serializer behind ``JSONValue/jsonText``; also usable piecewise by fast writers.
public enum JSONWriter {
    /// Appends `value` as JSON text.
    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): writeInt(i, into: &out)
        case .double(let d): writeDouble(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (n, element) in a.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " ")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, element) in o {
                if !first { out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " ")) }
                first = false
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":")); out.append(UInt8(ascii: " "))
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends an integer in decimal.
    public static func writeInt(_ i: Int64, into out: inout [UInt8]) {
        out.append(contentsOf: i.description.utf8)
    }

    /// Appends a float as Python's `repr(float)` does (shortest round-trip digits,
    /// exponent form below 1e-4 and from 1e16 on), non-finite values as bare tokens.
    public static func writeDouble(_ d: Double, into out: inout [UInt8]) {
        if d.isNaN { out.append(contentsOf: "NaN".utf8); return }
        if d.isInfinite { out.append(contentsOf: (d < 0 ? "-Infinity" : "Infinity").utf8); return }
        // Swift's description uses the same shortest-digits algorithm and the same
        // switch-over points to exponent notation as Python's repr.
        out.append(contentsOf: d.description.utf8)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends a quoted string with Python's ensure_ascii escaping.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for unit in s.utf16 {
            switch unit {
            case 0x22: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\""))
            case 0x5C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\\"))
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
            case 0x20...0x7E: out.append(UInt8(unit))
            default:
                out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "u"))
                out.append(hexDigits[Int(unit >> 12) & 0xF])
                out.append(hexDigits[Int(unit >> 8) & 0xF])
                out.append(hexDigits[Int(unit >> 4) & 0xF])
                out.append(hexDigits[Int(unit) & 0xF])
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
