import Foundation

/// A JSON number read straight from bytes: the fast path of ``JSONValue/init(parsing:)``,
/// public for readers that scan JSON text themselves (the event-table loader).
///
/// ```swift
/// var i = 0
/// let text = Array("285.5,".utf8)
/// let n = text.withUnsafeBufferPointer { JSONNumber.scan($0.baseAddress!, $0.count, &i) }
/// // n == .double(285.5), i == 5
/// ```
///
/// Integers of up to 18 digits are converted here; floats of up to 19 significant digits
/// too, correctly rounded: by Clinger's fast path when the digits fit in 53 bits and the
/// power of ten is at most 10^22 (one correctly rounded multiply or divide of exact
/// operands), else by the Eisel-Lemire algorithm. Others go to the standard library's
/// correctly rounded conversion. Like Python's `json`, an integer too long for 64 bits
/// reads as a float.
public enum JSONNumber: Sendable, Equatable {
    case int(Int64)
    case double(Double)

    /// Exact powers of ten as doubles (10^22 is the largest one a double holds exactly).
    @usableFromInline static let powersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }

    /// Scans the number at `p[i]`, leaving `i` after it; nil (with `i` anywhere) when the
    /// bytes there are not a JSON number. `NaN` and `Infinity` are not numbers here.
    @inlinable @inline(__always)
    public static func scan(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> JSONNumber? {
        let start = i
        guard i < n else { return nil }
        let negative = p[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        let intStart = i
        while i < n, p[i] &- 0x30 < 10 {
            if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(p[i] &- 0x30) }
            if mantissa != 0 || digits > 0 { digits += 1 }
            i += 1
        }
        let intDigits = i - intStart
        guard intDigits > 0, !(intDigits > 1 && p[intStart] == UInt8(ascii: "0")) else { return nil }
        var exponent = 0
        var isFloat = false
        if i < n, p[i] == UInt8(ascii: ".") {
            isFloat = true
            i += 1
            let fracStart = i
            while i < n, p[i] &- 0x30 < 10 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(p[i] &- 0x30)
                    exponent -= 1
                }
                if mantissa != 0 || digits > 0 { digits += 1 }
                i += 1
            }
            guard i > fracStart else { return nil }
        }
        if i < n, p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E") {
            isFloat = true
            i += 1
            var expNegative = false
            if i < n, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") {
                expNegative = p[i] == UInt8(ascii: "-")
                i += 1
            }
            let expStart = i
            var e = 0
            while i < n, p[i] &- 0x30 < 10 {
                if e < 100_000 { e = e * 10 + Int(p[i] &- 0x30) }
                i += 1
            }
            guard i > expStart else { return nil }
            exponent += expNegative ? -e : e
        }
        if !isFloat {
            if digits <= 18 {
                let value = Int64(mantissa)
                return .int(negative ? -value : value)
            }
            let text = String(decoding: UnsafeBufferPointer(start: p + start, count: i - start), as: UTF8.self)
            if let value = Int64(text) { return .int(value) }
            return Double(text).map { .double($0) }
        }
        if digits <= 19 {
            if mantissa <= 1 << 53, exponent >= -22, exponent <= 22 {
                var value = Double(mantissa)
                value = exponent < 0 ? value / powersOfTen[-exponent] : value * powersOfTen[exponent]
                return .double(negative ? -value : value)
            }
            if let bits = EiselLemire.bits(mantissa, exponent) {
                return .double(Double(bitPattern: negative ? bits | 1 << 63 : bits))
            }
        }
        let text = String(decoding: UnsafeBufferPointer(start: p + start, count: i - start), as: UTF8.self)
        return Double(text).map { .double($0) }
    }
}
