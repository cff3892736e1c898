import Foundation
import JSONValue
import Testing

/// The rest of the public surface: accessors, literals, equality, byte inputs, writers.
@Suite struct APITests {
    let sample: JSONValue = ["energy": 285.0, "counts": 12, "ok": true, "i0": .double(.nan), "tags": ["a", "b"], "none": nil]

    @Test func documentedExample() throws {
        #expect(sample.jsonText == #"{"energy": 285.0, "counts": 12, "ok": true, "i0": NaN, "tags": ["a", "b"], "none": null}"#)
        #expect(try JSONValue(parsing: sample.jsonText)["i0"]?.doubleValue?.isNaN == true)
    }

    @Test func accessors() {
        #expect(sample["energy"]?.doubleValue == 285)
        #expect(sample["counts"]?.intValue == 12)
        #expect(sample["counts"]?.doubleValue == 12)
        #expect(sample["ok"]?.boolValue == true)
        #expect(sample["ok"]?.intValue == nil)
        #expect(sample["ok"]?.doubleValue == nil)  // bools are not numbers
        #expect(sample["tags"]?.arrayValue == ["a", "b"])
        #expect(sample["tags"]?.arrayValue?.first?.stringValue == "a")
        #expect(sample["none"]?.isNull == true)
        #expect(sample["missing"] == nil)
        #expect(JSONValue.array([])["energy"] == nil)
        #expect(sample.objectValue?.keys.first == "energy")
        #expect(sample["energy"]?.isScalar == true)
        #expect(sample["none"]?.isScalar == true)
        #expect(sample["tags"]?.isScalar == false)
        #expect(sample.isScalar == false)
        #expect(JSONValue(["x", "y"]) == ["x", "y"])
        #expect(JSONValue(["b": 1, "a": 2] as JSONObject).jsonText == #"{"b": 1, "a": 2}"#)
    }

    @Test func equality() {
        // Member order does not matter to ==, but it does to the text.
        let ab: JSONValue = ["a": 1, "b": 2], ba: JSONValue = ["b": 2, "a": 1]
        #expect(ab == ba)
        #expect(ab.jsonText != ba.jsonText)
        #expect(ab != ["a": 1])
        #expect(ab != ["a": 1, "c": 2])
        #expect(JSONValue.int(1) != .double(1))
        #expect(JSONValue.int(1) != .bool(true))
        #expect(JSONValue.array([1, 2]) != .array([2, 1]))
        #expect(JSONValue.null != .string(""))
        #expect(JSONValue.double(.nan) == .double(.nan))
        #expect(JSONValue.double(0) == .double(-0.0))  // as 0.0 == -0.0 in Python
    }

    @Test func byteInputsOfEveryKind() throws {
        let text = #"{"a": [1, 2.5, "é"]}"#
        let expected = try parse(text)
        let bytes = Array(text.utf8)
        #expect(try JSONValue(parsingUTF8: bytes) == expected)
        #expect(try JSONValue(parsingUTF8: Data(text.utf8)) == expected)
        #expect(try JSONValue(parsingUTF8: text.utf8) == expected)
        #expect(try JSONValue(parsingUTF8: ([0x20] + bytes + [0x20])[1...bytes.count]) == expected)  // a slice
        #expect(try JSONValue(parsingUTF8: bytes.lazy.map { $0 }) == expected)  // not contiguous
        let fromBuffer = try bytes.withUnsafeBufferPointer { buffer throws in try JSONValue(parsingUTF8: buffer) }
        #expect(fromBuffer == expected)
        // Errors come through every overload with the same offset and reason.
        let bad = Array(#"[1, 2,]"#.utf8)
        let errors = [
            thrown { () throws(JSONParseError) in _ = try JSONValue(parsingUTF8: bad) },
            thrown { () throws(JSONParseError) in _ = try JSONValue(parsingUTF8: Data(bad)) },
            thrown { () throws(JSONParseError) in _ = try JSONValue(parsingUTF8: bad.lazy.map { $0 }) },
            thrown { () throws(JSONParseError) in _ = try JSONValue(parsing: "[1, 2,]") },
        ]
        for error in errors {
            #expect(error?.offset == 6)
            #expect(error?.reason == "expected a value")
            #expect(error?.description == "invalid JSON at byte 6: expected a value")
        }
        #expect(errors[0] == errors[3])
    }

    func thrown(_ body: () throws(JSONParseError) -> Void) -> JSONParseError? {
        do { try body() } catch { return error }
        return nil
    }

    @Test func writers() {
        var out = Array("prefix ".utf8)
        sample.write(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "prefix " + sample.jsonText)
        #expect(sample.objectValue?.jsonText == sample.jsonText)
        var piecewise: [UInt8] = []
        JSONWriter.writeString("é\"", into: &piecewise)
        JSONWriter.writeInt(-5, into: &piecewise)
        JSONWriter.writeDouble(1e16, into: &piecewise)
        JSONWriter.write(nil, into: &piecewise)
        #expect(String(decoding: piecewise, as: UTF8.self) == #""\u00e9\"""# + "-5" + "1e+16" + "null")
        #expect(JSONValue.array([]).jsonText == "[]")
        #expect(JSONValue.object([:]).jsonText == "{}")
        #expect(JSONValue.array([[], [:], [[]]]).jsonText == "[[], {}, [[]]]")
        #expect(JSONValue.bool(false).jsonText == "false")
    }

    @Test func largeContainersAreReadAndWrittenInLinearTime() throws {
        // 200,000 elements and 50,000 members: about a second even in a debug
        // build; a reader that copied its partial array on each append would take minutes.
        let array = "[" + (0..<200_000).map { String($0) }.joined(separator: ", ") + "]"
        let object = "{" + (0..<50_000).map { "\"k\($0)\": [\($0)]" }.joined(separator: ", ") + "}"
        let clock = ContinuousClock()
        var parsedArray: JSONValue = nil, parsedObject: JSONValue = nil
        let elapsed = try clock.measure {
            parsedArray = try JSONValue(parsing: array)
            parsedObject = try JSONValue(parsing: object)
            #expect(parsedArray.jsonText == array)
            #expect(parsedObject.jsonText == object)
        }
        #expect(parsedArray.arrayValue?.count == 200_000)
        #expect(parsedObject.objectValue?.count == 50_000)
        #expect(parsedObject["k49999"] == [49_999])
        #expect(elapsed < .seconds(20))  // generous: tests run in parallel
    }
}
