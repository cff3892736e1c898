import Foundation
import JSONValue
@testable import Resonance
import Testing

/// `Catalog.runs(_:)` and `count(_:)`: every filter, the order and paging, against runs
/// written straight into a beamtime file.
@Suite("RunQuery")
struct RunQueryTests {
    let dir = TempDir()
    var db: String { dir.file("beamtime.db") }

    /// Six runs: two samples, three plans, open and closed, metadata of every scalar kind.
    func makeBeamtime() throws -> Catalog {
        let b = try BeamtimeBuilder(db)
        let ps = try b.sample("PS")
        let p3ht = try b.sample("P3HT")
        try b.run(fakeUID("a1"), plan: "nexafs", sampleID: ps, start: 100, stop: 110, status: "success",
                  metadata: #"{"edge": "C K", "repeat": 1, "pol": 0.0, "dry": true}"#)
        try b.run(fakeUID("a2"), plan: "rsoxs", sampleID: p3ht, start: 200, stop: 210, status: "aborted",
                  metadata: #"{"edge": "N K", "repeat": 2, "note": null}"#)
        try b.run(fakeUID("a3"), plan: "nexafs", sampleID: ps, start: 300, stop: 310, status: "success",
                  metadata: #"{"edge": "C K", "repeat": 2.0, "pol": 90, "dry": false, "a.b\"c": "odd key"}"#)
        try b.run(fakeUID("a4"), plan: "nexafs", sampleID: p3ht, start: 400, stop: 410, status: "failed", metadata: "not json")
        try b.run(fakeUID("a5"), plan: "count", sampleID: nil, start: 500, metadata: nil)
        try b.run(fakeUID("a6"), plan: "nexafs", sampleID: ps, start: 500)  // same second as a5, written after it
        try b.close()
        return try Catalog(dbPath: db)
    }

    func uids(_ runs: [RunSummary]) -> [String] { runs.map { String($0.uid.prefix(2)) } }

    @Test func filtersBySamplePlanAndStatus() throws {
        let catalog = try makeBeamtime()
        #expect(uids(try catalog.runs(RunQuery(sample: "PS"))) == ["a6", "a3", "a1"])
        #expect(uids(try catalog.runs(RunQuery(sample: "PS", plan: "nexafs", status: .finished(.success)))) == ["a3", "a1"])
        #expect(uids(try catalog.runs(RunQuery(status: .open))) == ["a6", "a5"])
        #expect(uids(try catalog.runs(RunQuery(status: RunQuery.Status("failed")))) == ["a4"])
        #expect(try catalog.runs(RunQuery(sample: "nobody")).isEmpty)
        #expect(try catalog.count(RunQuery(plan: "nexafs")) == 4)
    }

    @Test func filtersByStartTimeSinceIncludedUntilExcluded() throws {
        let catalog = try makeBeamtime()
        let query = RunQuery(since: Date(timeIntervalSince1970: 200), until: Date(timeIntervalSince1970: 400))
        #expect(uids(try catalog.runs(query)) == ["a3", "a2"])
    }

    @Test func filtersByMetadataValuesOfEveryScalarKind() throws {
        let catalog = try makeBeamtime()
        #expect(uids(try catalog.runs(RunQuery(metadata: ["edge": "C K"]))) == ["a3", "a1"])
        #expect(uids(try catalog.runs(RunQuery(metadata: ["repeat": 2]))) == ["a3", "a2"])  // 2 and 2.0 alike
        #expect(uids(try catalog.runs(RunQuery(metadata: ["pol": .double(90)]))) == ["a3"])
        #expect(uids(try catalog.runs(RunQuery(metadata: ["dry": true]))) == ["a1"])
        #expect(uids(try catalog.runs(RunQuery(metadata: ["dry": false]))) == ["a3"])
        #expect(uids(try catalog.runs(RunQuery(metadata: ["note": .null]))) == ["a2"])
        #expect(uids(try catalog.runs(RunQuery(metadata: ["a.b\"c": "odd key"]))) == ["a3"])
        #expect(uids(try catalog.runs(RunQuery(metadata: ["edge": "C K", "repeat": 1]))) == ["a1"])
        // A number is not the string of its digits, and a missing key matches nothing.
        #expect(try catalog.runs(RunQuery(metadata: ["repeat": "2"])).isEmpty)
        #expect(try catalog.runs(RunQuery(metadata: ["absent": .null])).isEmpty)
    }

    @Test func ordersAndPagesInSQL() throws {
        let catalog = try makeBeamtime()
        #expect(uids(try catalog.runs()) == ["a6", "a5", "a4", "a3", "a2", "a1"])
        #expect(uids(try catalog.runs(RunQuery(order: .oldestFirst))) == ["a1", "a2", "a3", "a4", "a5", "a6"])
        #expect(uids(try catalog.runs(RunQuery(limit: 2, offset: 1))) == ["a5", "a4"])
        #expect(uids(try catalog.runs(RunQuery(order: .oldestFirst, limit: 10, offset: 4))) == ["a5", "a6"])
        #expect(try catalog.runs(RunQuery(limit: 0)).isEmpty)
        #expect(try catalog.count(RunQuery(limit: 1, offset: 3)) == 6)
        // The conveniences are the query underneath.
        #expect(try catalog.recent(3) == catalog.runs(RunQuery(limit: 3)))
        #expect(try catalog.bySample("P3HT") == catalog.runs(RunQuery(sample: "P3HT")))
        #expect(try catalog.allRuns() == catalog.runs(RunQuery(order: .oldestFirst)))
    }

    @Test func refusesWhatCannotBeRunNamingTheValue() throws {
        let catalog = try makeBeamtime()
        #expect(throws: RunQueryError("limit must not be negative (got -1)")) { try catalog.runs(RunQuery(limit: -1)) }
        #expect(throws: RunQueryError("offset must not be negative (got -2)")) { try catalog.runs(RunQuery(offset: -2)) }
        let error = #expect(throws: RunQueryError.self) { try catalog.runs(RunQuery(metadata: ["edge": ["C", "K"]])) }
        #expect(error?.description.contains(#""edge" = ["C", "K"]"#) == true)
    }
}
