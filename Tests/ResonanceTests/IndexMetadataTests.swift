import Foundation
import GRDB
@testable import Resonance
import Testing

@Suite("Index metadata")
struct IndexMetadataTests {
    let dir = TempDir()
    var indexPath: String { dir.file("index.db") }
    var beamtime: String { dir.file("2026-03-05.db") }

    /// The metadata of the runs written by ``makeBeamtime()``, oldest first (started at 100, 200, ...).
    static let runMetadata: [JSONObject] = [
        ["edge": "C K", "repeat": .int(1), "ok": true, "note": .null, "motor.x \"a\"": 3.5],
        ["edge": "C K", "repeat": .double(1.0), "ok": false, "nested": .array(["C K"])],
        ["edge": "N K", "repeat": .string("1"), "note": "naïve", "nested": "C K"],
        ["edge": "c k", "repeat": .int(2), "ok": true],
        // Python writes NaN as a bare token: the beamtime's metadata filter (json_valid)
        // then matches nothing of this run; the index leaves NaN out and keeps the rest.
        ["edge": "O K", "i0": .double(.nan), "list": .array([1, 2])],
    ]

    /// A beamtime with one run per ``runMetadata`` entry; returns the uids oldest first.
    @discardableResult
    func makeBeamtime() throws -> [String] {
        var uids: [String] = []
        try RunWriter(dbPath: beamtime, sample: SampleMetadata(name: "PS", tags: ["polymer"])).open { w in
            for (k, metadata) in Self.runMetadata.enumerated() {
                uids.append(try w.openRun("nexafs", metadata: metadata, time: Double(100 * (k + 1))))
                try w.closeRun()
            }
        }
        return uids
    }

    func indexBeamtime() throws {
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        try writer.indexBeamtime(dbPath: beamtime, researcherID: try writer.registerResearcher(name: "Ada", rootPath: dir.path))
        try writer.close()
    }

    @Test func metadataMatchesAsTheBeamtimeCatalogDoes() throws {
        let uids = try makeBeamtime()
        try indexBeamtime()
        let index = try MasterIndex(path: indexPath).open()
        let catalog = try Catalog(dbPath: beamtime).open()
        let cases: [(JSONObject, [Int])] = [  // the runs (oldest = 0) each query must find
            (["edge": "C K"], [0, 1]),
            (["repeat": .int(1)], [0, 1]),  // 1 and 1.0 are one number
            (["repeat": .double(1.0)], [0, 1]),
            (["repeat": .string("1")], [2]),  // the text "1" is not the number
            (["ok": true], [0, 3]),
            (["ok": false], [1]),
            (["note": .null], [0]),  // null, not a missing key
            (["motor.x \"a\"": 3.5], [0]),  // any key text
            (["note": "naïve"], [2]),
            (["nested": "C K"], [2]),  // an array holding "C K" is not "C K"
            (["edge": "C K", "ok": false], [1]),
            (["edge": "c K"], []),
            (["absent": .null], []),
        ]
        for (metadata, expected) in cases {
            let hits = try index.search(IndexQuery(metadata: metadata, limit: nil)).map(\.uid)
            #expect(hits == expected.reversed().map { uids[$0] }, "\(metadata)")
            #expect(hits == (try catalog.runs(RunQuery(metadata: metadata))).map(\.uid), "\(metadata)")
        }
        #expect(try index.search(IndexQuery(metadata: ["edge": "O K"])).map(\.uid) == [uids[4]])
        #expect(try catalog.runs(RunQuery(metadata: ["edge": "O K"])).isEmpty)
        // Filters combine with the others, newest first with a limit.
        #expect(try index.search(IndexQuery(tag: "polymer", metadata: ["repeat": 1], limit: 1)).map(\.uid) == [uids[1]])
        #expect(try index.search(IndexQuery(plan: "rsoxs", metadata: ["repeat": 1])).isEmpty)
    }

    @Test func theIndexKeepsTheSearchableTopLevelMembers() throws {
        let uids = try makeBeamtime()
        try indexBeamtime()
        let stored = try inspect(indexPath) { db in
            try String.fetchOne(db, sql: "SELECT metadata FROM runs_index WHERE uid = ?", arguments: [uids[4]])
        }
        // NaN is left out (PostgreSQL's jsonb cannot hold it); nested values are left out.
        #expect(try JSONValue(parsing: try #require(stored)) == .object(["edge": "O K"]))
        let second = try inspect(indexPath) { db in
            try String.fetchOne(db, sql: "SELECT metadata FROM runs_index WHERE uid = ?", arguments: [uids[1]])
        }
        #expect(try JSONValue(parsing: try #require(second)) == .object(["edge": "C K", "repeat": 1.0, "ok": false]))
    }

    @Test func valuesNoRunCanHoldAreRefusedByName() throws {
        try makeBeamtime()
        try indexBeamtime()
        let index = try MasterIndex(path: indexPath).open()
        for value: JSONValue in [.array(["C K"]), .object(["a": 1]), .double(.nan), .double(-.infinity), .string("a\u{0}b")] {
            let error = #expect(throws: IndexError.self) { try index.search(IndexQuery(metadata: ["edge": value])) }
            guard case .invalidValue(let kind, _, _)? = error else { Issue.record("\(String(describing: error))"); continue }
            #expect(kind == "metadata value of \"edge\"")
        }
    }

    @Test func aClosedRunIsIndexedWithItsMetadata() throws {
        let registration = IndexRegistration(indexPath: indexPath, researcher: "Ada")
        var uid = ""
        try RunWriter(dbPath: beamtime, sample: SampleMetadata(name: "PS"), options: .init(index: registration)).open { w in
            uid = try w.openRun("nexafs", metadata: ["edge": "O K", "scan_id": 7])
            try w.closeRun()
        }
        let index = try MasterIndex(path: indexPath).open()
        #expect(try index.search(IndexQuery(metadata: ["scan_id": 7.0, "edge": "O K"])).map(\.uid) == [uid])
    }

    /// A version-1 index (before the metadata column) with one run, as the writer of that
    /// version left it.
    func makeVersion1Index() throws -> String {
        let uid = try makeBeamtime()[0]
        try indexBeamtime()
        let queue = try DatabaseQueue(path: indexPath)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "DELETE FROM runs_index WHERE uid <> ?", arguments: [uid])
            try db.execute(sql: "ALTER TABLE runs_index DROP COLUMN metadata")
            try db.execute(sql: "PRAGMA user_version = 1")
        }
        try queue.close()
        return uid
    }

    @Test func aVersion1IndexIsReadAsItIsAndMigratedByAWriter() throws {
        let uid = try makeVersion1Index()
        let before = try Data(contentsOf: URL(fileURLWithPath: indexPath))

        // A reader neither migrates nor fails: no run has metadata to match.
        let reader = try MasterIndex(path: indexPath).open()
        #expect(try reader.search().map(\.uid) == [uid])
        #expect(try reader.search(IndexQuery(metadata: ["edge": "C K"])).isEmpty)
        try reader.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: indexPath)) == before)

        // A writer migrates (by name, in order) and keeps the run; its metadata comes with
        // the next indexing of its beamtime.
        let writer = try MasterIndexWriter(indexDBPath: indexPath).open()
        try writer.close()
        let (version, columns, kept) = try inspect(indexPath) { db in
            (try Int.fetchOne(db, sql: "PRAGMA user_version")!, try db.columns(in: "runs_index").map(\.name),
             try String.fetchAll(db, sql: "SELECT uid FROM runs_index WHERE metadata IS NULL"))
        }
        #expect(version == 2)
        #expect(columns.contains("metadata"))
        #expect(kept == [uid])
        #expect(IndexSchema.migrations.map(\.name) == ["runs_index.metadata"])
        #expect(try MasterIndex(path: indexPath).open().search(IndexQuery(metadata: ["edge": "C K"])).isEmpty)
        try indexBeamtime()
        #expect(try MasterIndex(path: indexPath).open().search(IndexQuery(metadata: ["edge": "C K"], limit: nil)).count == 2)
    }

    @Test func closingTheWriterLeavesNoWriteAheadLog() throws {
        try makeBeamtime()
        try indexBeamtime()
        #expect(!FileManager.default.fileExists(atPath: indexPath + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: indexPath + "-shm"))
        #expect(!DatabaseFile.isInWALMode(indexPath))
        // A reader leaves nothing beside it either.
        let reader = try MasterIndex(path: indexPath).open()
        #expect(try reader.search().count == 5)
        try reader.close()
        #expect(!FileManager.default.fileExists(atPath: indexPath + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: indexPath + "-shm"))
    }
}
