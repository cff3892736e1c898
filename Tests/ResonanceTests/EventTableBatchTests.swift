import Foundation
import JSONValue
@testable import Resonance
import Testing

/// `Run.forEachTableBatch`: batches that, laid end to end, are the whole table: the same
/// columns in the same order and kinds, the same values, whatever the batch size.
@Suite("Event table batches")
struct EventTableBatchTests {
    let dir = TempDir()
    var db: String { dir.file("beamtime.db") }

    /// Events whose fields come and go: `n` an integer that turns float, `late` first seen in
    /// event 5, `note` null until event 4 and then text, `flag` a boolean in some events.
    func makeRun(_ data: [String]) throws -> Run {
        let b = try BeamtimeBuilder(db)
        try b.run(fakeUID("b1"), plan: "count", sampleID: nil, start: 1)
        let s = try b.stream("primary", run: fakeUID("b1"))
        try b.events(s, data)
        try b.close()
        return try Catalog(dbPath: db).open().run(fakeUID("b1"))
    }

    func expectBatchesEqualTheWholeTable(_ run: Run, rows: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let whole = try run.table()
        var batches: [EventTable] = []
        try run.forEachTableBatch(rows: rows) { batches.append($0) }
        #expect(batches.allSatisfy { $0.count <= rows || batches.count == 1 }, sourceLocation: sourceLocation)
        #expect(batches.map(\.count).reduce(0, +) == whole.count, sourceLocation: sourceLocation)
        for batch in batches {
            #expect(batch.columnNames == whole.columnNames, sourceLocation: sourceLocation)
            #expect(batch.columns.map(\.kind) == whole.columns.map(\.kind), sourceLocation: sourceLocation)
        }
        let rowsOfBatches = batches.flatMap { batch in batch.rows.map { $0.values } }
        #expect(rowsOfBatches.map { $0.map { $0?.jsonText } } == whole.rows.map { $0.values.map { $0?.jsonText } }, sourceLocation: sourceLocation)
    }

    @Test(arguments: [1, 2, 3, 4, 7, 100])
    func batchesLaidEndToEndAreTheWholeTable(rows: Int) throws {
        let run = try makeRun([
            #"{"n": 1, "note": null}"#, #"{"n": 2, "flag": true}"#, #"{"n": 3}"#, #"{"n": 4.5, "note": "warm"}"#,
            #"{"n": 5, "late": 0.25}"#, #"{"n": 6, "flag": false, "late": 1}"#, #"{"note": "cold"}"#,
        ])
        try expectBatchesEqualTheWholeTable(run, rows: rows)
        let whole = try run.table()
        #expect(whole.column("n")?.kind == .double)  // 4.5 makes the integers floats everywhere
        #expect(whole.column("note")?.kind == .string)
    }

    @Test func aFieldOfNumbersAndTextIsHandedOverWhole() throws {
        // The whole table shows such a field as JSON text; batches could not agree on it.
        let run = try makeRun([#"{"x": 1}"#, #"{"x": 2}"#, #"{"x": "two"}"#, #"{"x": 3}"#])
        var sizes: [Int] = []
        try run.forEachTableBatch(rows: 2) { sizes.append($0.count) }
        #expect(sizes == [4])
        try expectBatchesEqualTheWholeTable(run, rows: 2)
    }

    @Test func anEmptyOrUnknownStreamIsOneEmptyBatch() throws {
        let run = try makeRun([])
        var batches: [EventTable] = []
        try run.forEachTableBatch(rows: 5) { batches.append($0) }
        try run.forEachTableBatch(stream: "nope", rows: 5) { batches.append($0) }
        #expect(batches.map(\.count) == [0, 0])
        #expect(batches.map(\.columnNames) == [["seq_num", "time"], ["seq_num", "time"]])
    }

    @Test func tableAfterASeqNumGivesTheRestInOrder() throws {
        let run = try makeRun((1...10).map { #"{"i": \#($0)}"# })
        #expect(try run.table(after: 7).seqNums == [8, 9, 10])
        #expect(try run.table(after: 0, limit: 3).seqNums == [1, 2, 3])
        #expect(try run.table(after: 10).isEmpty)
        #expect(try run.table(after: .max).isEmpty)
        #expect(try run.table(after: .min).count == 10)
    }
}
