import JSONValue
import Testing

/// Strings and keys: exact text as `json.dumps` writes it, and the way back.
@Suite struct StringTests {
    /// Writes `s`, checks the exact text, and checks it parses back to `s`.
    func check(_ s: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let text = JSONValue.string(s).jsonText
        #expect(text == expected, sourceLocation: sourceLocation)
        #expect(try parse(text, sourceLocation: sourceLocation) == .string(s), sourceLocation: sourceLocation)
    }

    @Test("every control character, and DEL, is escaped as json.dumps does",
          arguments: Array(0x00...0x1F) + [0x7F])
    func controlCharacter(_ code: Int) throws {
        let short: [Int: String] = [0x08: #"\b"#, 0x09: #"\t"#, 0x0A: #"\n"#, 0x0C: #"\f"#, 0x0D: #"\r"#]
        let hex = String(code, radix: 16)
        let escape = short[code] ?? #"\u"# + String(repeating: "0", count: 4 - hex.count) + hex
        let c = String(Character(Unicode.Scalar(UInt8(code))))
        try check(c, "\"\(escape)\"")
        try check("a\(c)b\(c)", "\"a\(escape)b\(escape)\"")
        // The long form is read too, in either case of hex digit.
        let long = #"\u"# + String(repeating: "0", count: 4 - hex.count) + hex.uppercased()
        #expect(try parse("\"\(long)\"") == .string(c))
        // Raw, it is refused inside a string (Python's strict mode) -- except DEL.
        if code < 0x20 {
            let error = parseError([0x22, 0x61, UInt8(code), 0x22])
            #expect(error?.offset == 2)
            #expect(error?.reason.contains("control character") == true)
        } else {
            #expect(try JSONValue(parsingUTF8: [0x22, UInt8(code), 0x22]) == .string(c))
        }
    }

    @Test func quotesAndBackslashes() throws {
        try check(#"""#, #""\"""#)
        try check(#"\"#, #""\\""#)
        try check(#"a"b\c"#, #""a\"b\\c""#)
        try check(#"\""#, #""\\\"""#)
        try check(#"\\u0041"#, #""\\\\u0041""#)  // not an escape once written
        try check("\"\"", #""\"\"""#)
    }

    @Test func slashIsNotEscapedButEscapedSlashIsRead() throws {
        try check("/", #""/""#)
        try check("</script>", #""</script>""#)
        #expect(try parse(#""\/\/""#) == "//")
    }

    @Test func emptyString() throws {
        try check("", #""""#)
        #expect(try parse(#"  ""  "#) == "")
    }

    @Test func nonASCIIIsEscapedWithLowercaseHex() throws {
        try check("é", #""\u00e9""#)
        try check("naïve café", #""na\u00efve caf\u00e9""#)
        try check("日本語", #""\u65e5\u672c\u8a9e""#)
        try check("\u{00A0}\u{FEFF}\u{FFFF}", #""\u00a0\ufeff\uffff""#)
        // Raw UTF-8 and escapes in either case read the same.
        #expect(try parse("\"é日\"") == "é日")
        #expect(try parse(#""\u00E9\u65E5""#) == "é日")
    }

    @Test func astralCharactersBecomeSurrogatePairs() throws {
        try check("😀", #""\ud83d\ude00""#)
        try check("\u{10000}\u{10FFFF}", #""\ud800\udc00\udbff\udfff""#)
        try check("🇫🇷", #""\ud83c\uddeb\ud83c\uddf7""#)  // one Character, two scalars
        try check("👩‍👩‍👧", #""\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d\udc67""#)
        #expect(try parse(#""\uD83D\uDE00""#) == "😀")
        #expect(try parse("\"😀\"") == "😀")
    }

    @Test func graphemeClustersAreWrittenScalarByScalar() throws {
        try check("e\u{301}", #""e\u0301""#)
        try check("\r\n", #""\r\n""#)  // a single Swift Character
        // Canonically equivalent strings are equal in Swift, but each is written as it is.
        #expect(JSONValue.string("\u{E9}").jsonText != JSONValue.string("e\u{301}").jsonText)
    }

    @Test func stringsThatLookLikeOtherValues() throws {
        for s in ["NaN", "Infinity", "-Infinity", "null", "true", "0", "285.0", "nan", "[]", "{}"] {
            try check(s, "\"\(s)\"")
        }
        let text = #"["NaN", NaN, "-Infinity", -Infinity]"#
        let value = try parse(text)
        #expect(value.arrayValue?[0] == .string("NaN"))
        #expect(value.arrayValue?[1].doubleValue?.isNaN == true)
        #expect(value.arrayValue?[2] == .string("-Infinity"))
        #expect(value.arrayValue?[3] == .double(-.infinity))
        #expect(value.jsonText == text)
    }

    @Test func adversarialKeysKeepTheirOrder() throws {
        let value: JSONValue = [
            "": "", "NaN": "NaN", "\"": "\\", "\\": "\"", "\u{0}": "\u{1F}", "/": "/", "é": "日本",
            "😀": "🇫🇷", "\u{7F}": "e\u{301}", "\r\n": "Infinity",
        ]
        // json.dumps of the same dict:
        let expected = #"""
            {"": "", "NaN": "NaN", "\"": "\\", "\\": "\"", "\u0000": "\u001f", "/": "/", "\u00e9": "\u65e5\u672c", "\ud83d\ude00": "\ud83c\uddeb\ud83c\uddf7", "\u007f": "e\u0301", "\r\n": "Infinity"}
            """#
        #expect(value.jsonText == expected)
        let back = try parse(expected)
        #expect(back == value)
        #expect(back.objectValue.map { Array($0.keys) } == value.objectValue.map { Array($0.keys) })
        #expect(back.jsonText == expected)
    }

    @Test func keyOrderIsKeptAndARepeatedKeyKeepsItsPlaceAndLastValue() throws {
        let text = #"{"b": 1, "a": 2, "c": {"z": null, "y": []}}"#
        #expect(try parse(text).jsonText == text)
        // json.loads('{"a":1,"b":2,"a":3}') == {'a': 3, 'b': 2}
        #expect(try parse(#"{"a":1,"b":2,"a":3}"#).jsonText == #"{"a": 3, "b": 2}"#)
    }

    @Test func loneSurrogatesBecomeTheReplacementCharacter() throws {
        // Python reads "\ud800" into a str holding a lone surrogate and writes it back as
        // "\ud800"; a Swift String cannot hold one, so it is read as U+FFFD and written as
        // "\ufffd". A deliberate, documented difference.
        #expect(try parse(#""\ud800""#) == "\u{FFFD}")
        #expect(try parse(#""\udc00""#) == "\u{FFFD}")
        #expect(try parse(#""a\ud800b""#) == "a\u{FFFD}b")
        #expect(try parse(#""\ud800\u0041""#) == "\u{FFFD}A")  // high then not-low: both kept
        #expect(try parse(#""\udc00\ud800""#) == "\u{FFFD}\u{FFFD}")  // reversed pair
        #expect(try parse(#""\ud800\ud83d\ude00""#) == "\u{FFFD}😀")  // lone, then a pair
        #expect(try parse(#""\ud800\"""#) == "\u{FFFD}\"")
        #expect(try parse(#""\ud800""#).jsonText == #""\ufffd""#)
    }

    @Test func escapesInsideLongerStrings() throws {
        let text = #""plain then \"quoted\" then \\ then \/ then \b\f\n\r\t then \u0041\u00e9\ud83d\ude00 end""#
        let value = try parse(text)
        #expect(value == .string("plain then \"quoted\" then \\ then / then \u{8}\u{C}\n\r\t then Aé😀 end"))
        #expect(value.jsonText == #""plain then \"quoted\" then \\ then / then \b\f\n\r\t then A\u00e9\ud83d\ude00 end""#)
    }
}
