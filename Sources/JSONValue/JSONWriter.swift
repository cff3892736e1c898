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
    ///
    /// Arrays and objects being written are kept on an explicit stack, not the call stack,
    /// so however deep the value, writing it cannot overflow the thread's stack.
    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        // Flat objects of scalars (event data, timestamps) go without the container stack.
        if case .object(let object) = value, object.values.allSatisfy(\.isScalar) {
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, member) in object {
                if !first { out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " ")) }
                first = false
                writeMemberName(key, into: &out)
                writeScalar(member, into: &out)
            }
            out.append(UInt8(ascii: "}"))
            return
        }
        var open: [OpenContainer] = []
        var value = value
        nextValue: while true {
            switch value {
            case .null, .bool, .int, .double, .string: writeScalar(value, into: &out)
            case .array(let array):
                out.append(UInt8(ascii: "["))
                if let first = array.first {
                    open.append(.array(array, next: 1))
                    value = first
                    continue nextValue
                }
                out.append(UInt8(ascii: "]"))
            case .object(let object):
                out.append(UInt8(ascii: "{"))
                if !object.isEmpty {
                    writeMemberName(object.keys[0], into: &out)
                    open.append(.object(object, next: 1))
                    value = object.values[0]
                    continue nextValue
                }
                out.append(UInt8(ascii: "}"))
            }
            // `value` is written: go on with the innermost open container's next member,
            // closing those that have none left.
            while let container = open.popLast() {
                switch container {
                case .array(let array, let next):
                    if next < array.count {
                        out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " "))
                        open.append(.array(array, next: next + 1))
                        value = array[next]
                        continue nextValue
                    }
                    out.append(UInt8(ascii: "]"))
                case .object(let object, let next):
                    if next < object.count {
                        out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " "))
                        writeMemberName(object.keys[next], into: &out)
                        open.append(.object(object, next: next + 1))
                        value = object.values[next]
                        continue nextValue
                    }
                    out.append(UInt8(ascii: "}"))
                }
            }
            return
        }
    }

    /// Appends a number, string, bool or null (containers are written by ``write(_:into:)``).
    @inline(__always)
    private static func writeScalar(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): writeInt(i, into: &out)
        case .double(let d): writeDouble(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array, .object: write(value, into: &out)
        }
    }

    /// An array or object partly written: the index of the member to write next.
    private enum OpenContainer {
        case array([JSONValue], next: Int)
        case object(JSONObject, next: Int)
    }

    private static func writeMemberName(_ key: String, into out: inout [UInt8]) {
        writeString(key, into: &out)
        out.append(UInt8(ascii: ":")); out.append(UInt8(ascii: " "))
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
        if d.sign == .minus { out.append(UInt8(ascii: "-")) }
        if d == 0 { out.append(contentsOf: "0.0".utf8); return }
        var text = d.magnitude.description
        text.withUTF8 { swift in
            // Without an exponent Swift's text is Python's: both write the shortest round-trip
            // digits, and Swift uses plain notation only inside Python's plain range
            // (1e-4 <= |d| < 1e16). Most readings take this path.
            if !swift.contains(UInt8(ascii: "e")) {
                out.append(contentsOf: swift)
                return
            }
            relayout(swift, into: &out)
        }
    }

    /// Lays out Swift's exponent-form digits as Python's float_repr does. Swift switches to
    /// exponent form above 2^53 (9.007199254740994e+15 where Python writes
    /// 9007199254740994.0) and for some values Python writes plainly (1e+15 is
    /// 1000000000000000.0 in Python), so take the digits and the decimal point's place from
    /// Swift's text and lay them out again.
    private static func relayout(_ swift: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: swift.count) { digitBuffer in
            var count = 0  // digits in digitBuffer
            var pointAt: Int? = nil  // digits before the '.'
            var exponent = 0
            var exponentSign = 1
            var inExponent = false
            for c in swift {
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if inExponent {
                        exponent = exponent * 10 + Int(c - UInt8(ascii: "0"))
                    } else {
                        digitBuffer[count] = c
                        count += 1
                    }
                case UInt8(ascii: "."): pointAt = count
                case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
                case UInt8(ascii: "-"): exponentSign = -1
                default: break  // "+"
                }
            }
            let digits = UnsafeBufferPointer(rebasing: digitBuffer[0..<count])
            var decimalPoint = (pointAt ?? count) + exponentSign * exponent
            let firstNonZero = digits.firstIndex { $0 != UInt8(ascii: "0") } ?? 0
            decimalPoint -= firstNonZero
            let lastNonZero = digits.lastIndex { $0 != UInt8(ascii: "0") } ?? 0
            let significant = UnsafeBufferPointer(rebasing: digits[firstNonZero...lastNonZero])
            if decimalPoint <= -4 || decimalPoint > 16 {
                // d.ddde+XX, at least two exponent digits
                out.append(significant[0])
                if significant.count > 1 {
                    out.append(UInt8(ascii: "."))
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: significant[1...]))
                }
                let e = decimalPoint - 1
                out.append(UInt8(ascii: "e"))
                out.append(UInt8(ascii: e < 0 ? "-" : "+"))
                if e.magnitude < 10 { out.append(UInt8(ascii: "0")) }
                out.append(contentsOf: e.magnitude.description.utf8)
            } else if decimalPoint <= 0 {
                out.append(contentsOf: "0.".utf8)
                out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -decimalPoint))
                out.append(contentsOf: significant)
            } else if decimalPoint >= significant.count {
                out.append(contentsOf: significant)
                out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: decimalPoint - significant.count))
                out.append(contentsOf: ".0".utf8)
            } else {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: significant[..<decimalPoint]))
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: UnsafeBufferPointer(rebasing: significant[decimalPoint...]))
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends a quoted string with Python's ensure_ascii escaping.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Printable ASCII without quote or backslash (field names, most values) is copied as is.
        var s = s
        let copied: Bool = s.withUTF8 { bytes in
            for b in bytes where b < 0x20 || b > 0x7E || b == 0x22 || b == 0x5C { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied {
            out.append(UInt8(ascii: "\""))
            return
        }
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
