import Foundation
import JSONValue
import OrderedCollections
import Testing

/// The fast paths (number scanning and the reusable object writer) against the general
/// ones; Python agreement of both is in PythonAgreementTests, which parse and write
/// through them.
@Suite("Fast paths")
struct FastPathTests {
    @Test func scannedNumbersAreWhatTheStandardLibraryReads() throws {
        var g = ValueGenerator(seed: 7)
        for _ in 0..<20_000 {
            let text: String
            switch g.int(0...3) {
            case 0: text = String(g.integer())
            case 1: text = "\(g.int(-99_999...99_999)).\(g.int(0...999_999_999))e\(g.int(-330...310))"
            default:
                let d = g.double()
                guard d.isFinite else { continue }
                text = JSONValue.double(d).jsonText
            }
            let bytes = Array(text.utf8) + [UInt8(ascii: ",")]
            var i = 0
            let scanned = bytes.withUnsafeBufferPointer { JSONNumber.scan($0.baseAddress!, $0.count, &i) }
            #expect(i == bytes.count - 1, "\(text)")
            let isInteger = !text.contains(".") && !text.contains("e")
            if isInteger, let exact = Int64(text) {
                #expect(scanned == .int(exact), "\(text)")
            } else {
                guard case .double(let d) = scanned else {
                    Issue.record("\(text) scanned as \(String(describing: scanned))")
                    continue
                }
                #expect(d.bitPattern == Double(text)!.bitPattern, "\(text)")
            }
        }
    }

    /// The scanner's own conversions (Clinger's path, Eisel-Lemire) against the standard
    /// library's correctly rounded one, bit for bit.
    @Test func scannerConversionsAgreeWithTheStandardLibraryBitForBit() throws {
        var rng = SplitMix64(seed: 2026)
        var texts: [String] = []
        for _ in 0..<40_000 {
            var d = Double(bitPattern: rng.next() as UInt64)
            while !d.isFinite { d = Double(bitPattern: rng.next() as UInt64) }
            texts.append(d.description)  // shortest round-trip digits, as Python's repr
            texts.append(String(format: "%.17g", d))
            texts.append(String(format: "%.15e", d))
            let scaled = Double.random(in: 1e-12...1e12, using: &rng)
            texts.append(scaled.description)
            texts.append(String(format: "%.16g", scaled))
            // Random digit strings with random exponents, 1 to 19 digits.
            let digits = String(UInt64.random(in: 1...UInt64.max / 2, using: &rng)).prefix(Int.random(in: 1...19, using: &rng))
            texts.append("\(digits)e\(Int.random(in: -130...130, using: &rng))")
            let cut = Int.random(in: 0...digits.count, using: &rng)
            texts.append("\(digits.prefix(cut).isEmpty ? "0" : String(digits.prefix(cut))).\(digits.dropFirst(cut).isEmpty ? "0" : String(digits.dropFirst(cut)))")
            // Exactly halfway between two doubles above 2^53 (ties go to even).
            let big = Double(UInt64.random(in: (1 << 53)...(1 << 63), using: &rng))
            let mid = UInt64(big) + UInt64(big.ulp / 2)
            texts.append("\(mid)e0")
            texts.append("-\(mid)E+0")
        }
        texts += ["9007199254740993e0", "9007199254740995e0", "1e23", "8.98846567431158e307", "2.2250738585072014e-308",
                  "4.9406564584124654e-324", "1.7976931348623157e308", "1.7976931348623159e308", "0.0", "-0.0", "1e-400"]
        var mismatches: [String] = []
        for text in texts {
            var i = 0
            var bytes = Array(text.utf8)
            bytes.append(0)
            let scanned = bytes.withUnsafeBufferPointer { JSONNumber.scan($0.baseAddress!, text.utf8.count, &i) }
            // Without a fraction or exponent it is an integer, as in Python (a float beyond 64 bits).
            let isInteger = !text.contains { ".eE".contains($0) }
            let expected: JSONNumber
            if isInteger, let n = Int64(text) {
                expected = .int(n)
            } else {
                expected = .double(try #require(Double(text), "\(text)"))
            }
            let same: Bool
            switch (scanned, expected) {
            case (.int(let a)?, .int(let b)): same = a == b
            case (.double(let a)?, .double(let b)): same = a.bitPattern == b.bitPattern
            default: same = false
            }
            if !same || i != text.utf8.count {
                mismatches.append(text)
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20))")
    }

    @Test func textThatIsNotANumberIsRefused() {
        for text in ["", "-", "01", ".5", "1.", "1e", "1e+", "+1", "NaN", "Infinity", "-x"] {
            let bytes = Array(text.utf8)
            var i = 0
            let scanned = bytes.withUnsafeBufferPointer { buffer -> JSONNumber? in
                guard let base = buffer.baseAddress else { return nil }
                return JSONNumber.scan(base, buffer.count, &i)
            }
            #expect(scanned == nil, "\(text.debugDescription)")
        }
    }

    @Test func theObjectBufferWritesWhatJSONTextWrites() {
        var g = ValueGenerator(seed: 11)
        var buffer = JSONTextBuffer(capacity: 8)  // small, so it grows
        for k in 0..<5_000 {
            var object = JSONObject()
            var numbers = OrderedDictionary<String, Double>()
            for _ in 0..<g.int(0...8) {
                let name = g.string()
                object[name] = k % 10 == 0 ? g.value() : .double(g.double())
                numbers[name] = g.double()
            }
            #expect(buffer.object(object) == object.jsonText)
            var asObject = JSONObject()
            for (name, value) in numbers { asObject[name] = .double(value) }
            #expect(buffer.numbers(numbers) == asObject.jsonText)
        }
    }
}
