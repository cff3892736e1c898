/// Why JSON text could not be read: what was wrong and at which byte offset.
public struct JSONParseError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Zero-based byte offset in the UTF-8 text where reading stopped.
    public var offset: Int
    /// What was expected or found there.
    public var reason: String

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
    /// Reads JSON text as Python's `json.loads` does: standard JSON plus the bare
    /// `NaN`, `Infinity` and `-Infinity` tokens. Numbers with a fraction or exponent are
    /// doubles, others integers (integers beyond 64 bits become doubles).
    ///
    /// Where Swift cannot hold what Python would: an integer beyond 64 bits becomes the
    /// nearest double (so `1e400`-sized digit strings become `Infinity`), and an escaped lone
    /// surrogate such as `"\ud800"` becomes U+FFFD. Unlike Python, nesting deeper than 512
    /// arrays/objects is refused with an error (Python's limit is its recursion limit, ~1000),
    /// and byte input must be UTF-8 (Python also sniffs UTF-16/32).
    ///
    /// Throws ``JSONParseError`` naming the offset of the first problem.
    public init(parsing text: String) throws(JSONParseError) {
        var text = text
        let result: Result<JSONValue, JSONParseError> = text.withUTF8 { buffer in
            Result { () throws(JSONParseError) in try JSONValue(parsingUTF8: buffer) }
        }
        self = try result.get()
    }

    /// Reads JSON from UTF-8 bytes; see ``init(parsing:)-(String)``.
    public init(parsingUTF8 bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("extra data after the value") }
        self = value
    }

    /// Reads JSON from UTF-8 bytes (`[UInt8]`, `Data`, a slice...); see ``init(parsing:)-(String)``.
    public init(parsingUTF8 bytes: some Collection<UInt8>) throws(JSONParseError) {
        let parse = { (buffer: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONParseError> in
            Result { () throws(JSONParseError) in try JSONValue(parsingUTF8: buffer) }
        }
        let result = bytes.withContiguousStorageIfAvailable(parse) ?? Array(bytes).withUnsafeBufferPointer(parse)
        self = try result.get()
    }
}

/// A reader over UTF-8 bytes. Arrays and objects being read are kept on an explicit stack,
/// not the call stack, so no input can overflow the thread's stack.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    /// Deeper nesting is refused: the values would be written, compared and freed recursively.
    static let maxDepth = JSONValue.maxNestingDepth

    /// An array or object whose members are still being read. (A struct, not an enum, so
    /// that its members grow in place: an enum payload taken out to append to would be a
    /// second reference, and each append would copy the whole array.)
    struct OpenContainer {
        let isArray: Bool
        var elements: [JSONValue] = []
        var members = JSONObject()
        /// The name of the member whose value is being read.
        var key = ""

        mutating func add(_ value: JSONValue) {
            // Like Python, a repeated key keeps its first place and its last value.
            if isArray { elements.append(value) } else { members[key] = value }
        }

        var value: JSONValue { isArray ? .array(elements) : .object(members) }
    }

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func error(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func consume(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard index + n <= bytes.count else { return false }
        let start = literal.utf8Start
        for k in 0..<n where bytes[index + k] != start[k] { return false }
        index += n
        return true
    }

    /// Reads one value, nested as deep as ``maxDepth``.
    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        var open: [OpenContainer] = []
        nextValue: while true {
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of text") }
            var value: JSONValue
            switch bytes[index] {
            case UInt8(ascii: "["):
                guard open.count < Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth)") }
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    value = .array([])
                } else {
                    open.append(OpenContainer(isArray: true))
                    continue nextValue
                }
            case UInt8(ascii: "{"):
                guard open.count < Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth)") }
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    value = .object([:])
                } else {
                    open.append(OpenContainer(isArray: false, key: try parseMemberName()))
                    continue nextValue
                }
            default:
                value = try parseScalar()
            }
            // `value` is complete: add it to the innermost open container, closing
            // containers for as long as their closing bracket follows.
            while var container = open.popLast() {
                container.add(value)
                skipWhitespace()
                guard index < bytes.count else {
                    throw error(container.isArray ? "unterminated array" : "unterminated object")
                }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    if !container.isArray {
                        skipWhitespace()
                        container.key = try parseMemberName()
                    }
                    open.append(container)
                    continue nextValue
                }
                guard bytes[index] == UInt8(ascii: container.isArray ? "]" : "}") else {
                    throw error(container.isArray ? "expected ',' or ']'" : "expected ',' or '}'")
                }
                index += 1
                value = container.value
            }
            return value
        }
    }

    /// Reads `"name"` and the `:` after it.
    mutating func parseMemberName() throws(JSONParseError) -> String {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            throw error("expected a quoted member name")
        }
        let key = try parseString()
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
        index += 1
        return key
    }

    /// Reads a string, number, bool, null or non-finite token.
    mutating func parseScalar() throws(JSONParseError) -> JSONValue {
        switch bytes[index] {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            if consume("true") { return .bool(true) }
        case UInt8(ascii: "f"):
            if consume("false") { return .bool(false) }
        case UInt8(ascii: "n"):
            if consume("null") { return .null }
        case UInt8(ascii: "N"):
            if consume("NaN") { return .double(.nan) }
        case UInt8(ascii: "I"):
            if consume("Infinity") { return .double(.infinity) }
        case UInt8(ascii: "-"):
            if consume("-Infinity") { return .double(-.infinity) }
            return try parseNumber()
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default: break
        }
        throw error("expected a value")
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        if let base = bytes.baseAddress, let number = JSONNumber.scan(base, bytes.count, &index) {
            switch number {
            case .int(let i): return .int(i)
            case .double(let d): return .double(d)
            }
        }
        // Not a number: read it again slowly to say where and why (or, for a leading
        // zero, to take the "0" and let the caller find what follows).
        index = start
        var isFloat = false
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
            throw error("expected a digit")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isFloat = true
            index += 1
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digits else { throw error("expected a digit after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isFloat = true
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digits else { throw error("expected a digit in the exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if !isFloat, let i = Int64(text) { return .int(i) }
        guard let d = Double(text) else { throw JSONParseError(offset: start, reason: "bad number \(text)") }
        return .double(d)
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw error("short \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw error("bad hex digit in \\u escape")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    /// Steps over one well-formed UTF-8 sequence (Unicode Table 3-7: no overlong forms,
    /// no surrogates, nothing above U+10FFFF) starting at a byte >= 0x80, or throws at its
    /// first byte. Python's `json.loads` refuses such bytes too (UnicodeDecodeError).
    mutating func skipUTF8Sequence() throws(JSONParseError) {
        let lead = bytes[index]
        let count: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF  // range of the second byte
        switch lead {
        case 0xC2...0xDF: count = 2
        case 0xE0: count = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 3
        case 0xED: count = 3; high = 0x9F
        case 0xF0: count = 4; low = 0x90
        case 0xF1...0xF3: count = 4
        case 0xF4: count = 4; high = 0x8F
        default: throw error("invalid UTF-8")
        }
        guard index + count <= bytes.count else { throw error("invalid UTF-8") }
        guard (low...high).contains(bytes[index + 1]) else { throw error("invalid UTF-8") }
        for k in 2..<count where !(0x80...0xBF).contains(bytes[index + k]) { throw error("invalid UTF-8") }
        index += count
    }

    mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error("control character in string") }
            if c < 0x80 { index += 1 } else { try skipUTF8Sequence() }
        }
        var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: out, as: UTF8.self)
            }
            if c < 0x20 { throw error("control character in string") }
            if c >= 0x80 {
                let sequenceStart = index
                try skipUTF8Sequence()
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[sequenceStart..<index]))
                continue
            }
            if c != UInt8(ascii: "\\") { out.append(c); index += 1; continue }
            index += 1
            guard index < bytes.count else { break }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = UInt32(try parseHex4())
                if (0xD800..<0xDC00).contains(scalar), index + 6 <= bytes.count,
                    bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                {
                    let save = index
                    index += 2
                    let low = UInt32(try parseHex4())
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = save
                    }
                }
                // A lone surrogate (legal in Python's str) has no Swift equivalent: U+FFFD.
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: String(Character(u)).utf8)
            default:
                index -= 2
                guard (0x21...0x7E).contains(e) else {
                    throw error("bad escape: backslash then byte 0x\(String(e, radix: 16))")
                }
                throw error("bad escape \\\(Character(Unicode.Scalar(e)))")
            }
        }
        throw error("unterminated string")
    }
}
