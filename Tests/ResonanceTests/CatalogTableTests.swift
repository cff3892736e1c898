import Foundation
import GRDB
@testable import Resonance
import Testing

@Suite("Catalog event tables")
struct CatalogTableTests {
    let dir = TempDir()
    var db: String { dir.file("beamtime.db") }
    let uid = fakeUID("feed")

    /// A new beamtime with one open run whose "primary" stream holds these event data texts.
    func run(_ data: [String]) throws -> Run {
        let db = dir.file(UUID().uuidString + ".db")
        let b = try BeamtimeBuilder(db)
        try b.run(uid, start: 1)
        let s = try b.stream("primary", run: uid)
        try b.events(s, data)
        try b.close()
        return try Catalog(dbPath: db).open().run(uid)
    }

    /// The table of stream `stream` of such a run.
    func table(_ data: [String], stream: String = "primary") throws -> EventTable {
        try run(data).table(stream: stream)
    }

    @Test func columnsAreSeqNumTimeThenFieldsInFirstSeenOrder() throws {
        let t = try table([#"{"b": 1, "a": 2.0}"#, #"{"a": 3.0, "c": "x"}"#, #"{"d": true, "b": 4}"#])
        #expect(t.columnNames == ["seq_num", "time", "b", "a", "c", "d"])
        #expect(t.seqNums == [1, 2, 3])
        #expect(t.times == [1000, 1001, 1002])
        #expect(t.count == 3)
        #expect(t.fields.map(\.name) == ["b", "a", "c", "d"])
    }

    @Test func columnsAreTypedByTheirValues() throws {
        let t = try table([
            #"{"i": 1, "f": 1.5, "mix": 1, "s": "open", "ok": true, "odd": 1, "big": 12345678901234567890}"#,
            #"{"i": -2, "f": -2.25e3, "mix": 2.5, "s": "closed", "ok": false, "odd": "two", "big": 1}"#,
            #"{"i": 9223372036854775807, "f": 0.1, "mix": -3, "s": "", "ok": true, "odd": true, "big": 2}"#,
        ])
        #expect(t.column("i")?.kind == .int64)
        #expect(try t.int64s("i") == [1, -2, .max])
        #expect(t.column("f")?.kind == .double)
        #expect(try t.doubles("f") == [1.5, -2250, 0.1])
        #expect(t.column("mix")?.kind == .double)  // ints and floats: Double
        #expect(try t.doubles("mix") == [1, 2.5, -3])
        #expect(try t.strings("s") == ["open", "closed", ""])
        #expect(try t.bools("ok") == [true, false, true])
        // Incompatible kinds: String, each value as its JSON text.
        #expect(t.column("odd")?.kind == .string)
        #expect(try t.strings("odd") == ["1", "two", "true"])
        // Beyond 64 bits an integer reads as a float (as Python's json reads it into numpy).
        #expect(t.column("big")?.kind == .double)
        #expect(try t.doubles("big") == [12345678901234567890.0, 1, 2])
        // An Int64 column reads as doubles too; the reverse is refused, naming the column.
        #expect(try t.doubles("i") == [1, -2, 9223372036854775807.0])
        #expect(throws: CatalogError.columnTypeMismatch(name: "f", kind: .double, requested: "Int64")) { try t.int64s("f") }
        #expect(throws: CatalogError.columnTypeMismatch(name: "s", kind: .string, requested: "Double")) { try t.doubles("s") }
        #expect(throws: CatalogError.noSuchColumn(name: "nope", available: t.columnNames)) { try t.doubles("nope") }
    }

    @Test func missingFieldsAndNullsAreMissingAndNaNStaysNaN() throws {
        let t = try table([
            #"{"a": 1.0, "b": NaN, "n": null}"#,
            #"{"b": Infinity, "n": null}"#,
            #"{"a": 3.0, "b": -Infinity, "s": "x"}"#,
        ])
        let a = try t.doubles("a")
        #expect(a == [1.0, nil, 3.0])
        #expect(t.column("a")?.missingCount == 1)
        #expect(t.column("a")?.isMissing(1) == true)
        let b = try t.doubles("b")
        #expect(b[0]?.isNaN == true)
        #expect(b[1] == .infinity)
        #expect(b[2] == -.infinity)
        #expect(t.column("b")?.missingCount == 0)
        #expect(try t.doubles("a", missing: -1) == [1, -1, 3])
        // A field that is only ever null: an all-missing Double column.
        #expect(t.column("n")?.kind == .double)
        #expect(try t.doubles("n") == [nil, nil, nil])
        #expect(try t.strings("s") == [nil, nil, "x"])
        // Rows give the typed value, nil where missing.
        let rows = Array(t.rows)
        #expect(rows[1]["a"] == nil)
        #expect(rows[0]["a"] == .double(1))
        #expect(rows[0]["b"]?.doubleValue?.isNaN == true)
        #expect(rows[2]["s"] == "x")
        #expect(rows[2].seqNum == 3)
        #expect(rows[2].time == 1002)
        #expect(rows[2]["no such column"] == nil)
        #expect(rows[0].values.count == t.columnNames.count)
    }

    @Test func rowsTypeIntegersOfADoubleColumnAsDoubles() throws {
        let t = try table([#"{"x": 1}"#, #"{"x": 1.5}"#])
        #expect(t.rows[0]["x"] == .double(1))
        #expect(t.rows[1]["x"] == .double(1.5))
    }

    @Test func unknownStreamGivesAnEmptyTableWithTheTwoLeadingColumns() throws {
        let t = try table([#"{"x": 1}"#], stream: "baseline")
        #expect(t.columnNames == ["seq_num", "time"])
        #expect(t.isEmpty)
        #expect(t.seqNums.isEmpty)
        #expect(t.rows.isEmpty)
    }

    @Test func escapesNestingAndOddSpacingGoThroughTheFullParser() throws {
        let t = try table([
            #"{"s": "say \"hi\"\n", "k\u00e9y": 1, "arr": [1, 2], "obj": {"a": 1}}"#,
            #"{ "s" : "plain" , "k\u00e9y" : 2 , "arr" : 3 , "obj": null }"#,
            "{\"s\": \"naïve\", \"kéy\": 3}",  // raw UTF-8, as a writer without ensure_ascii writes it
            "{}",
            "  {\t\"s\":\"tight\"}\n",
        ])
        #expect(try t.strings("s") == ["say \"hi\"\n", "plain", "naïve", nil, "tight"])
        #expect(try t.int64s("kéy") == [1, 2, 3, nil, nil])
        // A nested value is kept as JSON text; with a number beside it the column is String.
        #expect(try t.strings("arr") == ["[1, 2]", "3", nil, nil, nil])
        #expect(try t.strings("obj") == [#"{"a": 1}"#, nil, nil, nil, nil])
    }

    @Test func dataFieldsNamedLikeTheLeadingColumnsAreRenamed() throws {
        let t = try table([#"{"time": 5.0, "seq_num": 7, "x": 1}"#])
        #expect(t.columnNames == ["seq_num", "time", "data.time", "data.seq_num", "x"])
        #expect(t.seqNums == [1])
        #expect(try t.doubles("data.time") == [5.0])
        #expect(try t.int64s("data.seq_num") == [7])
    }

    @Test func malformedEventDataIsAnErrorNamingTheEvent() throws {
        #expect(throws: CatalogError.self) { try table([#"{"x": 1}"#, #"{"x": }"#]) }
        do {
            _ = try table([#"{"x": 1}"#, "[1, 2]"])
            Issue.record("expected an error")
        } catch let error as CatalogError {
            guard case .malformedJSON(let location, _) = error else { Issue.record("\(error)"); return }
            #expect(location.contains("seq_num 2"))
            #expect(location.contains("primary"))
        }
    }

    @Test func numbersParseExactlyAsTheStandardLibraryReadsThem() throws {
        var rng = SystemRandomNumberGenerator()
        var values: [Double] = [0.1, 0.2, 0.3, 1e-7, 123456.789, .leastNonzeroMagnitude, 1.7976931348623157e308, 2.2250738585072014e-308,
                                9007199254740992, 4.35, 1e22, 1e23, -0.0, 285.0, 0.1 + 0.2]
        for _ in 0..<3000 {
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: values.append(Double(bitPattern: rng.next() as UInt64))
            case 1: values.append(Double.random(in: 250...2000, using: &rng))
            default: values.append((Double(Int.random(in: 0...100_000, using: &rng)) / 1000))
            }
        }
        values = values.filter(\.isFinite)
        var texts: [String] = []
        for v in values {
            var out: [UInt8] = []
            JSONWriter.writeDouble(v, into: &out)
            texts.append(#"{"v": "# + String(decoding: out, as: UTF8.self) + "}")
        }
        // Python's repr and these hand-written forms, too.
        let extra = ["1E5", "1e+5", "-12.5e-3", "0.000001", "100000000000000000000000", "-0", "007"].map { #"{"w": \#($0)}"# }
        let t = try table(texts + extra.dropLast())
        let read = try t.doubles("v")
        for (k, v) in values.enumerated() {
            #expect(read[k]?.bitPattern == v.bitPattern, "\(texts[k])")
        }
        #expect(try t.doubles("w").suffix(6).map { $0! } == [1e5, 1e5, -12.5e-3, 0.000001, 1e23, 0])
        #expect(throws: CatalogError.self) { try table([extra.last!]) }  // leading zeros are not JSON
    }

    @Test func manyEventsAreParsedInChunksAndJoinedInOrder() throws {
        // More rows than one chunk holds, with a field first seen late (in the last chunk)
        // and kinds that differ between chunks.
        let n = 3 * EventTableLoader.rowsPerChunk + 17
        var data: [String] = []
        for i in 0..<n {
            var text = #"{"Energy": \#(270.0 + Double(i) * 0.01), "i": \#(i)"#
            if i >= n - 5 { text += #", "late": "v\#(i)""# }
            if i == n / 2 { text += #", "flag": true"# }
            text += i < n - 100 ? #", "mixed": 1"# : #", "mixed": 1.5"#
            data.append(text + "}")
        }
        let t = try table(data)
        #expect(t.count == n)
        #expect(t.columnNames == ["seq_num", "time", "Energy", "i", "mixed", "flag", "late"])
        #expect(try t.int64s("i") == (0..<n).map { Int64($0) })
        #expect(try t.doubles("Energy", missing: .nan) == (0..<n).map { 270.0 + Double($0) * 0.01 })
        #expect(t.column("mixed")?.kind == .double)
        #expect(try t.doubles("mixed", missing: .nan).suffix(101) == [1.0] + Array(repeating: 1.5, count: 100))
        #expect(try t.bools("flag").compactMap { $0 } == [true])
        #expect(try t.bools("flag")[n / 2] == true)
        #expect(try t.strings("late").suffix(5) == (n - 5..<n).map { "v\($0)" })
        #expect(t.column("late")?.missingCount == n - 5)
    }

    @Test func tablesAreReadFromManyThreadsAtOnce() throws {
        // Every pool thread busy reading tables: each read must finish without a free worker.
        let n = 2 * EventTableLoader.rowsPerChunk + 3
        let run = try self.run((0..<n).map { #"{"i": \#($0), "x": \#(Double($0) / 8)}"# })
        let table = try run.table()
        let counts = Counts()
        DispatchQueue.concurrentPerform(iterations: 2 * ProcessInfo.processInfo.activeProcessorCount + 2) { _ in
            if let t = try? run.table(), (try? t.int64s("i")) == (try? table.int64s("i")) { counts.add() }
        }
        #expect(counts.value == 2 * ProcessInfo.processInfo.activeProcessorCount + 2)
    }

    @Test func seqNumsContinuingAcrossStreamsAreKeptAsWritten() throws {
        // A writer that numbers events across the run instead of per stream.
        let b = try BeamtimeBuilder(db)
        try b.run(uid, start: 1, stop: 2, status: "success", numEvents: 5)
        let baseline = try b.stream("baseline", run: uid, created: 1)
        let primary = try b.stream("primary", run: uid, created: 2)
        try b.events(baseline, [#"{"ring": 500.0}"#], firstSeq: 1)
        try b.events(primary, [#"{"x": 1}"#, #"{"x": 2}"#, #"{"x": 3}"#], firstSeq: 2)
        try b.events(baseline, [#"{"ring": 499.0}"#], firstSeq: 5)
        try b.close()
        let run = try Catalog(dbPath: db).open().run(uid)
        #expect(try run.table().seqNums == [2, 3, 4])
        #expect(try run.table(stream: "baseline").seqNums == [1, 5])
        #expect(run.numEvents == 5)
    }
}

final class Counts: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
