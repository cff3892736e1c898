import Foundation
import JSONValue
import Testing

/// What `json.loads` refuses is refused, with a reason and the offset where reading stopped.
@Suite struct ParserErrorTests {
    /// (text, offset of the error, a word of its reason). All of these are refused by json.loads too.
    static let refused: [(String, Int, String)] = [
        // truncated
        ("", 0, "end of text"), (" ", 1, "end of text"), ("[", 1, "end of text"), ("[1", 2, "unterminated array"),
        ("[1,", 3, "end of text"), ("{", 1, "member name"), (#"{"a""#, 4, "':'"), (#"{"a":"#, 5, "end of text"),
        (#"{"a":1"#, 6, "unterminated object"), (#""abc"#, 4, "unterminated string"), (#""\"#, 2, "unterminated string"),
        (#""\u12"#, 3, "short"), ("tru", 0, "expected a value"), ("nul", 0, "expected a value"),
        ("Infinit", 0, "expected a value"), ("-Infinit", 1, "digit"), ("[1, [2, [3", 10, "unterminated array"),
        // trailing garbage
        ("1 2", 2, "extra data"), ("[] x", 3, "extra data"), ("[1]]", 3, "extra data"), ("NaNx", 3, "extra data"),
        (#"{} {}"#, 3, "extra data"), ("truefalse", 4, "extra data"), ("null\u{0}", 4, "extra data"),
        // structure
        ("[1,]", 3, "expected a value"), (#"{"a":1,}"#, 7, "member name"), ("{1:2}", 1, "member name"),
        ("[1 2]", 3, "',' or ']'"), (#"{"a" 1}"#, 5, "':'"), (#"{"a":1 "b":2}"#, 7, "',' or '}'"), ("[,1]", 1, "expected a value"),
        ("{'a':1}", 1, "member name"), ("]", 0, "expected a value"), (":", 0, "expected a value"),
        // numbers
        ("01", 1, "extra data"), ("-01", 2, "extra data"), ("00", 1, "extra data"), ("+1", 0, "expected a value"),
        (".5", 0, "expected a value"), ("1.", 2, "digit after '.'"), ("1.e5", 2, "digit after '.'"), ("-", 1, "digit"),
        ("- 1", 1, "digit"), ("1e", 2, "exponent"), ("1e+", 3, "exponent"), ("1.5e", 4, "exponent"), ("0x10", 1, "extra data"),
        ("1_000", 1, "extra data"), ("--1", 1, "digit"),
        // words Python does not accept
        ("nan", 0, "expected a value"), ("infinity", 0, "expected a value"), ("inf", 0, "expected a value"),
        ("-NaN", 1, "digit"), ("+Infinity", 0, "expected a value"), ("-inf", 1, "digit"), ("NAN", 0, "expected a value"),
        ("True", 0, "expected a value"), ("None", 0, "expected a value"), ("undefined", 0, "expected a value"),
        // escapes
        (#""\x""#, 1, #"bad escape \x"#), (#""\U0041""#, 1, #"bad escape \U"#), (#""\'""#, 1, #"bad escape \'"#),
        (#""\u12g4""#, 5, "hex"), (#""\u-123""#, 3, "hex"), (#""\ud800\uzzzz""#, 9, "hex"), ("\"\\\u{E9}\"", 1, "byte 0xc3"),
        ("\"\\ \"", 1, "byte 0x20"),
        // control characters, raw
        ("\"a\tb\"", 2, "control character"), ("\"\n\"", 1, "control character"), ("\"\u{0}\"", 1, "control character"),
        ("\"\\n\u{1F}\"", 3, "control character"),  // after an escape (the slower path)
        // whitespace Python does not skip
        ("\u{FEFF}1", 0, "expected a value"), ("\u{A0}1", 0, "expected a value"), ("1\u{B}", 1, "extra data"),
        ("\u{C}1", 0, "expected a value"),
    ]

    @Test("refused with a sensible offset", arguments: refused)
    func refusedText(_ text: String, _ offset: Int, _ reason: String) throws {
        let error = try #require(parseError(text))
        #expect(error.offset == offset, "\(text.debugDescription): \(error)")
        #expect(error.reason.localizedCaseInsensitiveContains(reason), "\(text.debugDescription): \(error)")
    }

    @Test func whitespaceAroundValuesIsSkipped() throws {
        #expect(try parse(" \t\r\n[ 1 ,\n\t2 ] \r\n") == [1, 2])
        #expect(try parse(#"{ "a" : { } , "b" : [ ] }"#).jsonText == #"{"a": {}, "b": []}"#)
    }

    @Test func invalidUTF8IsRefused() throws {
        // json.loads(bytes) raises UnicodeDecodeError on each of these.
        let cases: [([UInt8], Int)] = [
            ([0x22, 0xFF, 0x22], 1), ([0x22, 0x80, 0x22], 1),  // not a lead byte
            ([0x22, 0xC0, 0x80, 0x22], 1), ([0x22, 0xE0, 0x80, 0x80, 0x22], 1),  // overlong
            ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),  // an encoded surrogate (CESU-8)
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1), ([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1),  // > U+10FFFF
            ([0x22, 0x61, 0xE6, 0x97, 0x22], 2), ([0x22, 0xE6, 0x97], 1),  // truncated sequence
            ([0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22], 3),  // after an escape
            ([0x5B, 0x22, 0x61, 0x22, 0x2C, 0x22, 0xF0, 0x9F, 0x98, 0x22, 0x5D], 6),
        ]
        for (bytes, offset) in cases {
            let error = try #require(parseError(bytes))
            #expect(error.offset == offset, "\(bytes): \(error)")
            #expect(error.reason.contains("UTF-8"), "\(bytes): \(error)")
        }
        #expect(parseError([0xFF])?.offset == 0)
        #expect(parseError([0x31, 0xFF])?.offset == 1)
        // Well-formed sequences of every length are read.
        let good: [UInt8] = [0x22, 0x24, 0xC2, 0xA2, 0xE2, 0x82, 0xAC, 0xF0, 0x90, 0x8D, 0x88, 0x5C, 0x6E, 0xE6, 0x97, 0xA5, 0x22]
        #expect(try JSONValue(parsingUTF8: good) == .string("$¢€𐍈\n日"))
    }

    @Test func deepNestingIsRefusedNotACrash() throws {
        let deep = String(repeating: "[", count: 100_000)
        var error = try #require(parseError(deep))
        #expect(error.offset == 512)
        #expect(error.reason.contains("nesting deeper than 512"))
        // Balanced, and with objects.
        error = try #require(parseError(deep + String(repeating: "]", count: 100_000)))
        #expect(error.offset == 512)
        error = try #require(parseError(String(repeating: #"{"a":"#, count: 100_000)))
        #expect(error.offset == 512 * 5)
        error = try #require(parseError(String(repeating: #"[{"":"#, count: 50_000)))
        #expect(error.offset == 256 * 5)
    }

    @Test func nestingUpTo512IsRead() throws {
        let text = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        let value = try parse(text)
        #expect(value.jsonText == text)
        #expect(parseError("[" + text + "]")?.offset == 512)
        var object = "1"
        for _ in 0..<512 { object = #"{"k": "# + object + "}" }
        #expect(try parse(object).jsonText == object)
    }

    /// Runs `body` on a thread of its own with the given stack size.
    func onThread(stackSize: Int, _ body: @escaping @Sendable () -> Bool) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.stackSize = stackSize
            thread.start()
        }
    }

    @Test func nestingToTheLimitFitsInASmallThreadStack() async throws {
        // Parsing may happen on a secondary thread (512 KiB by default on macOS): reading,
        // writing and comparing the deepest value allowed must fit well inside that, even in
        // a debug build. (The reader and writer keep open containers on a heap stack.)
        let text = String(repeating: "[{\"a\": ", count: 256) + "0" + String(repeating: "}]", count: 256)
        let ok = await onThread(stackSize: 256 * 1024) {
            guard let value = try? JSONValue(parsing: text) else { return false }
            let refused = (try? JSONValue(parsing: String(repeating: "[", count: 100_000))) == nil
            return value.jsonText == text && value == value && refused
        }
        #expect(ok)
    }

    @Test func writingDeeperValuesThanTheReaderAcceptsDoesNotRecurse() async throws {
        // Built in code, a value may be deeper than the reader's limit; the writer copes.
        let ok = await onThread(stackSize: 16 << 20) {
            var value: JSONValue = "x"
            for n in 0..<20_000 { value = n.isMultiple(of: 2) ? [value] : ["k": value] }
            let text = value.jsonText
            let expected = String(repeating: #"{"k": ["#, count: 10_000) + #""x""# + String(repeating: "]}", count: 10_000)
            return text == expected
                && (try? JSONValue(parsing: text)) == nil  // and the reader refuses it, cleanly
        }
        #expect(ok)
    }
}
