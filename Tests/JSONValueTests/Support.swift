import Foundation
import JSONValue
import Testing
@_exported import TestSupport


/// Parses, failing the test with the error when the text is refused.
func parse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
    do {
        return try JSONValue(parsing: text)
    } catch {
        Issue.record("\(text.debugDescription) was refused: \(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The error parsing `text` throws, or nil (and a recorded issue) when it parses.
func parseError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONParseError? {
    parseError(Array(text.utf8), sourceLocation: sourceLocation)
}

func parseError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> JSONParseError? {
    do {
        let value = try JSONValue(parsingUTF8: bytes)
        Issue.record("\(bytes.count) bytes parsed to \(value.jsonText) but should be refused", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect((0...bytes.count).contains(error.offset), "offset \(error.offset) outside the text", sourceLocation: sourceLocation)
        #expect(error.description.contains("byte \(error.offset)"), sourceLocation: sourceLocation)
        return error
    }
}

// MARK: - Random values

/// Random JSON values that stress the writer: odd strings, doubles from raw bit patterns
/// and from the places where repr's layout changes, extreme integers, nesting.
struct ValueGenerator {
    var rng: SplitMix64
    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    mutating func scalar() -> Unicode.Scalar {
        let roll = int(0...99)
        let value: UInt32
        switch roll {
        case 0..<35: value = UInt32(int(0x20...0x7E))
        case 35..<45: value = UInt32(int(0x00...0x1F))
        case 45..<55: value = [0x22, 0x5C, 0x2F, 0x7F, 0x27, 0x80, 0x9F, 0xA0][int(0...7)]
        case 55..<70: value = UInt32(int(0x80...0x7FF))  // é and friends
        case 70..<85: value = UInt32(int(0x800...0xFFFF))  // CJK, BMP edges
        default: value = UInt32(int(0x10000...0x10FFFF))  // emoji, surrogate pairs
        }
        return Unicode.Scalar(value) ?? "\u{FFFD}"  // surrogate code points
    }

    mutating func string() -> String {
        if chance(0.1) { return ["", "NaN", "Infinity", "-Infinity", "null", "\"NaN\"", "é", "日本語", "😀", "a\u{0}b"][int(0...9)] }
        var s = String.UnicodeScalarView()
        for _ in 0..<int(0...12) { s.append(scalar()) }
        return String(s)
    }

    mutating func double() -> Double {
        switch int(0...9) {
        case 0...2: return Double(bitPattern: rng.next())  // anything, NaN payloads included
        case 3: return [Double.nan, .infinity, -.infinity, 0.0, -0.0, .leastNonzeroMagnitude,
                        .greatestFiniteMagnitude, .leastNormalMagnitude, 1e16, 1e-5, 1e-4, 9007199254740994][int(0...11)]
        case 4:  // around the fixed/exponent switch-overs: 1e-4 and 1e16, and 2^53
            let base = [1e-4, 1e16, 9007199254740992.0, 1e15, 1e-5][int(0...4)]
            var d = base
            for _ in 0..<int(0...20) { d = chance(0.5) ? d.nextUp : d.nextDown }
            return chance(0.5) ? d : -d
        case 5: return Double(Int64.random(in: -(1 << 60)...(1 << 60), using: &rng))  // integral floats
        case 6: return Double(int(-100000...100000)) / [1, 10, 100, 1000, 1e6][int(0...4)]
        case 7: return Double(sign: chance(0.5) ? .minus : .plus, exponent: int(-1074...1023),
                              significand: Double.random(in: 1..<2, using: &rng))
        default: return Double.random(in: -1e6...1e6, using: &rng)
        }
    }

    mutating func integer() -> Int64 {
        switch int(0...5) {
        case 0: return [0, -1, 1, .min, .max, .min + 1, .max - 1, 285][int(0...7)]
        case 1: return Int64(bitPattern: rng.next())
        default: return Int64(int(-1_000_000...1_000_000))
        }
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        let containers = depth < 4
        switch int(0...(containers ? 9 : 6)) {
        case 0: return .null
        case 1: return .bool(chance(0.5))
        case 2, 3: return .int(integer())
        case 4, 5: return .double(double())
        case 6: return .string(string())
        case 7, 8:
            return .array((0..<int(0...5)).map { _ in value(depth: depth + 1) })
        default:
            var object = JSONObject()
            for _ in 0..<int(0...5) { object[string()] = value(depth: depth + 1) }
            return .object(object)
        }
    }
}

// MARK: - Python

enum Python {
    /// python3 on PATH, or nil.
    static let executable: URL? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let url = URL(fileURLWithPath: String(dir)).appendingPathComponent("python3")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }()

    /// Runs `script` with `input` as the file named by sys.argv[1] (plus `arguments`) and
    /// returns its standard output. Fails the test with a clear message when python3 is missing
    /// or the script fails.
    static func run(_ script: String, input: String = "", arguments: [String] = [],
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let python = try #require(
            executable,
            "python3 was not found on PATH: the byte-for-byte agreement tests need Python 3 (apt-get install python3)",
            sourceLocation: sourceLocation)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jsonvalue-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let scriptURL = dir.appendingPathComponent("script.py")
        let inputURL = dir.appendingPathComponent("input.txt")
        let outputURL = dir.appendingPathComponent("output.txt")
        let errorURL = dir.appendingPathComponent("error.txt")
        try Data(script.utf8).write(to: scriptURL)
        try Data(input.utf8).write(to: inputURL)
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)

        let process = Process()
        process.executableURL = python
        process.arguments = [scriptURL.path, inputURL.path] + arguments
        let stdout = try FileHandle(forWritingTo: outputURL)
        let stderr = try FileHandle(forWritingTo: errorURL)
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try stdout.close()
        try stderr.close()
        let output = String(decoding: try Data(contentsOf: outputURL), as: UTF8.self)
        let errors = String(decoding: try Data(contentsOf: errorURL), as: UTF8.self)
        try #require(process.terminationStatus == 0, "python3 failed (\(process.terminationStatus)): \(errors)",
                     sourceLocation: sourceLocation)
        return output
    }
}
