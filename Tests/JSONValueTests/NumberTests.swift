import JSONValue
import Testing

/// Numbers: repr(float) layout, ints kept apart from floats, the non-finite tokens.
@Suite struct NumberTests {
    /// (value, what json.dumps(value) writes), taken from Python 3.
    static let floats: [(Double, String)] = [
        (0.1, "0.1"), (1e-05, "1e-05"), (0.0001, "0.0001"), (1e16, "1e+16"),
        (123456789012345680.0, "1.2345678901234568e+17"), (.leastNonzeroMagnitude, "5e-324"),
        (1.7976931348623157e+308, "1.7976931348623157e+308"), (0.0, "0.0"), (-0.0, "-0.0"),
        (285.0, "285.0"), (2.5e-7, "2.5e-07"), (100.0, "100.0"), (1.5, "1.5"), (-1.5e-10, "-1.5e-10"),
        (1e15, "1000000000000000.0"), (1e22, "1e+22"), (1e100, "1e+100"),
        (2.2250738585072014e-308, "2.2250738585072014e-308"), (1.0 / 3, "0.3333333333333333"),
        (0.1 + 0.2, "0.30000000000000004"), (4.35, "4.35"), (12345.678, "12345.678"),
        (0.0001 * 3, "0.00030000000000000003"), (0.00009999999999999999, "9.999999999999999e-05"),
        // Between 2^53 and 1e16 Swift's description switches to exponent form, Python does not.
        (9007199254740992.0, "9007199254740992.0"), (9007199254740994.0, "9007199254740994.0"),
        (9999999999999998.0, "9999999999999998.0"), (1e16.nextDown, "9999999999999998.0"),
        (1234567890123456.8, "1234567890123456.8"),
    ]

    @Test("floats are written as repr(float)", arguments: floats)
    func floatText(_ value: Double, _ expected: String) throws {
        #expect(JSONValue.double(value).jsonText == expected)
        let back = try parse(expected)
        #expect(back == .double(value))
        #expect(back.doubleValue?.bitPattern == value.bitPattern)  // -0.0 stays -0.0
        if value != 0 {
            let negated = expected.hasPrefix("-") ? String(expected.dropFirst()) : "-" + expected
            #expect(JSONValue.double(-value).jsonText == negated)
        }
    }

    @Test func nonFiniteTokens() throws {
        #expect(JSONValue.double(.nan).jsonText == "NaN")
        #expect(JSONValue.double(-.nan).jsonText == "NaN")
        #expect(JSONValue.double(Double(bitPattern: 0x7FF0_0000_0000_0001)).jsonText == "NaN")  // signalling
        #expect(JSONValue.double(.infinity).jsonText == "Infinity")
        #expect(JSONValue.double(-.infinity).jsonText == "-Infinity")
        #expect(try parse("NaN").doubleValue?.isNaN == true)
        #expect(try parse("Infinity") == .double(.infinity))
        #expect(try parse("-Infinity") == .double(-.infinity))
        #expect(try parse("[NaN,Infinity,-Infinity]").jsonText == "[NaN, Infinity, -Infinity]")
        #expect(JSONValue.double(.nan) == .double(.nan))  // so round trips compare equal
        #expect(JSONValue.double(.nan) != .double(0))
    }

    @Test func integers() throws {
        let cases: [(Int64, String)] = [
            (0, "0"), (-1, "-1"), (285, "285"), (Int64.max, "9223372036854775807"),
            (Int64.min, "-9223372036854775808"), (1_000_000, "1000000"),
        ]
        for (value, text) in cases {
            #expect(JSONValue.int(value).jsonText == text)
            #expect(try parse(text) == .int(value))
            #expect(try parse(text).intValue == value)
        }
        #expect(try parse("-0") == .int(0))
        #expect(try parse("-0").jsonText == "0")  // as Python: int("-0") is 0
    }

    @Test func intsAndFloatsStayApart() throws {
        #expect(try parse("285") == .int(285))
        #expect(try parse("285.0") == .double(285))
        #expect(JSONValue.int(285) != .double(285))
        #expect(try parse("285").jsonText == "285")
        #expect(try parse("285.0").jsonText == "285.0")
        // An exponent makes a float, as in Python: json.loads("1E5") == 100000.0
        #expect(try parse("1E5") == .double(100000))
        #expect(try parse("1E5").jsonText == "100000.0")
        #expect(try parse("1e+2").jsonText == "100.0")
        #expect(try parse("0e0").jsonText == "0.0")
        #expect(try parse("1.0e-0").jsonText == "1.0")
        #expect(try parse("0.1e1").jsonText == "1.0")
        #expect(try parse("2.50").jsonText == "2.5")
        #expect(try parse("-0.0").jsonText == "-0.0")
        #expect(try parse("[1, 1.0, 1e0, -1, -1.0]").jsonText == "[1, 1.0, 1.0, -1, -1.0]")
        // Literals
        let literal: JSONValue = ["i": 285, "f": 285.0]
        #expect(literal.jsonText == #"{"i": 285, "f": 285.0}"#)
        #expect(JSONValue.int(285).doubleValue == 285)  // the accessor converts
        #expect(JSONValue.double(285).intValue == nil)  // but never the other way
    }

    @Test func integersBeyond64BitsBecomeDoubles() throws {
        // Python keeps these as ints and writes every digit; Int64 cannot, so they become
        // the nearest double. A documented difference.
        #expect(try parse("9223372036854775808") == .double(9223372036854775808.0))
        #expect(try parse("9223372036854775808").jsonText == "9.223372036854776e+18")
        #expect(try parse("-9223372036854775809") == .double(-9223372036854775808.0))
        #expect(try parse("123456789012345678901234567890").jsonText == "1.2345678901234568e+29")
        #expect(try parse(String(repeating: "9", count: 400)) == .double(.infinity))
    }

    @Test func decimalTextIsRoundedCorrectly() throws {
        // Halfway between 1 and the next double: ties to even, as float() does.
        #expect(try parse("1.00000000000000011102230246251565404236316680908203125") == .double(1))
        #expect(try parse("1.00000000000000011102230246251565404236316680908203126") == .double(1.0.nextUp))
        #expect(try parse("1e400") == .double(.infinity))
        #expect(try parse("-1e400") == .double(-.infinity))
        #expect(try parse("1e-400").doubleValue?.bitPattern == 0)
        #expect(try parse("-1e-400").doubleValue?.bitPattern == (-0.0).bitPattern)
        #expect(try parse("2.4703282292062328e-324") == .double(.leastNonzeroMagnitude))  // just over half
        #expect(try parse("0." + String(repeating: "0", count: 1000) + "1") == .double(0))
    }

    @Test func everyDoubleBitPatternClassRoundTrips() throws {
        // Exact round trip of the bits through text, for a spread of random patterns.
        var rng = SplitMix64(seed: 42)
        for _ in 0..<5000 {
            let d = Double(bitPattern: rng.next())
            let text = JSONValue.double(d).jsonText
            let back = try parse(text)
            if d.isNaN {
                #expect(text == "NaN")
                #expect(back.doubleValue?.isNaN == true)
            } else {
                #expect(back.doubleValue?.bitPattern == d.bitPattern, "\(text)")
            }
        }
    }
}
