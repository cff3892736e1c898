import JSONValue
import Testing

enum Fuzz {
    /// Bytes that matter to a JSON reader, drawn more often than others.
    static let interesting: [UInt8] = Array(#"{}[]":,0123456789-+.eE \\/ntrufalsNIiybu"#.utf8)
        + [0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xA9, 0xED, 0xA0, 0xF0, 0x9F, 0xF4, 0xFF]

    static func randomByte(using rng: inout SplitMix64) -> UInt8 {
        Bool.random(using: &rng) ? interesting.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
    }

    /// One to three random edits: flip, insert, delete, duplicate, truncate, swap, splice a token.
    static func mutate(_ bytes: inout [UInt8], using rng: inout SplitMix64) {
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let n = bytes.count
            let at = n == 0 ? 0 : Int.random(in: 0..<n, using: &rng)
            switch Int.random(in: 0...7, using: &rng) {
            case 0 where n > 0: bytes[at] = randomByte(using: &rng)
            case 1: bytes.insert(randomByte(using: &rng), at: Int.random(in: 0...n, using: &rng))
            case 2 where n > 0: bytes.removeSubrange(at..<min(n, at + Int.random(in: 1...4, using: &rng)))
            case 3 where n > 0:
                let end = min(n, at + Int.random(in: 1...8, using: &rng))
                bytes.insert(contentsOf: bytes[at..<end], at: Int.random(in: 0...n, using: &rng))
            case 4 where n > 0: bytes.removeSubrange(Int.random(in: 0..<n, using: &rng)...)
            case 5 where n > 1: bytes.swapAt(at, Int.random(in: 0..<n, using: &rng))
            case 6:
                let token = ["NaN", "-Infinity", "Infinity", "\\u", "\\ud83d", "\\udc00", "1e", "-0", ".5", "\"", "\\",
                             "[", "]", "{", "}", ",", ":", "null", "1e400", "99999999999999999999", "[[[[[["].randomElement(using: &rng)!
                bytes.insert(contentsOf: token.utf8, at: Int.random(in: 0...n, using: &rng))
            default: bytes[at...].reverse()
            }
        }
    }

    /// Parses `bytes`; when they parse, the value must re-write and re-read to an equal value
    /// with identical text. Returns a description of a failure, or nil.
    static func check(_ bytes: [UInt8]) -> String? {
        let value: JSONValue
        do {
            value = try JSONValue(parsingUTF8: bytes)
        } catch {
            // Typed throws: the only possible error is JSONParseError; its offset must be in range.
            return (0...bytes.count).contains(error.offset) ? nil : "offset \(error.offset) of \(bytes.count): \(bytes)"
        }
        let text = value.jsonText
        guard text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return "non-ASCII output \(text)" }
        do {
            let again = try JSONValue(parsing: text)
            if again != value { return "\(bytes) -> \(text) -> \(again.jsonText): not equal" }
            if again.jsonText != text { return "\(bytes) -> \(text) -> \(again.jsonText): text changed" }
        } catch {
            return "\(bytes) -> \(text) does not re-read: \(error)"
        }
        return nil
    }
}

/// Random bytes and mutations of valid JSON must never crash the reader, and whatever is
/// read must survive a write/read round trip.
@Suite struct FuzzTests {
    @Test func randomBytes() {
        var rng = SplitMix64(seed: 0xF00D)
        var failures: [String] = []
        for _ in 0..<25_000 {
            let count = Int.random(in: 0...24, using: &rng)
            let bytes = (0..<count).map { _ in Fuzz.randomByte(using: &rng) }
            if let failure = Fuzz.check(bytes) { failures.append(failure) }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func mutationsOfValidJSON() {
        var rng = SplitMix64(seed: 0xBEEF)
        var generator = ValueGenerator(seed: 77)
        var failures: [String] = []
        var parsed = 0
        for _ in 0..<2_000 {
            let original = Array(generator.value().jsonText.utf8)
            for _ in 0..<15 {
                var bytes = original
                Fuzz.mutate(&bytes, using: &rng)
                if let failure = Fuzz.check(bytes) { failures.append(failure) }
                if (try? JSONValue(parsingUTF8: bytes)) != nil { parsed += 1 }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(parsed > 3_000)  // the mutations do not only make garbage
    }

    @Test func truncationsOfValidJSONAreRefused() {
        // Every proper prefix of a container's text is refused (never a crash, never a value).
        var generator = ValueGenerator(seed: 12)
        var checked = 0
        while checked < 200 {
            let value = generator.value()
            guard value.arrayValue != nil || value.objectValue != nil else { continue }
            checked += 1
            let bytes = Array(value.jsonText.utf8)
            for end in 0..<bytes.count {
                #expect((try? JSONValue(parsingUTF8: bytes[..<end])) == nil, "\(value.jsonText) cut at \(end)")
            }
        }
    }
}
