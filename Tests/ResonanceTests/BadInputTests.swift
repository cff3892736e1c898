import Foundation
import GRDB
import Resonance
import Testing

/// Bad input: each gets a clear error (or, for large but legal data, a clean round trip),
/// and nothing already written is lost or changed.
@Suite("Bad input")
struct BadInputTests {
    let dir = TempDir()
    var db: String { dir.file("bad.db") }

    /// A writer with one committed event, and a fingerprint of the file's rows.
    func prepared() throws -> (RunWriter, String) {
        let w = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"))
        try w.open()
        let run = try w.openRun("nexafs")
        try w.openStream("primary")
        try w.writeEvent(["energy": 270.0])
        try w.flush()
        return (w, run)
    }

    func fingerprint() throws -> [String] {
        try inspect(db) { db in
            try String.fetchAll(db, sql: "SELECT uid || ' ' || seq_num || ' ' || data FROM events ORDER BY rowid")
                + String.fetchAll(db, sql: "SELECT uid || ' ' || plan_name || ' ' || IFNULL(metadata, '') FROM runs ORDER BY rowid")
                + String.fetchAll(db, sql: "SELECT name || ' ' || data_keys FROM streams ORDER BY rowid")
        }
    }

    func deeplyNested(_ depth: Int) -> JSONValue {
        var value: JSONValue = 1
        for _ in 0..<depth { value = .array([value]) }
        return value
    }

    @Test func metadataThatCouldNotBeReadBackIsRefused() throws {
        let (w, _) = try prepared()
        let before = try fingerprint()
        try w.closeRun()
        #expect(throws: RunWriterError.self) { try w.openRun("deep", metadata: ["x": deeplyNested(600)]) }
        let run = try w.openRun("ok", metadata: ["x": deeplyNested(500)])
        #expect(throws: RunWriterError.self) { try w.openStream("primary", dataKeys: ["k": deeplyNested(1000)]) }
        try w.closeRun()
        try w.close()
        let after = try fingerprint()
        #expect(Array(after.prefix(1)) == Array(before.prefix(1)))
        let metadata = try inspect(db) { try String.fetchOne($0, sql: "SELECT metadata FROM runs WHERE uid = ?", arguments: [run]) }
        #expect(try JSONValue(parsing: #require(metadata))["x"] == deeplyNested(500))
        let deepSample = RunWriter(dbPath: dir.file("other.db"), sample: SampleMetadata(name: "S", extra: ["x": deeplyNested(513)]))
        #expect(throws: RunWriterError.self) { try deepSample.open() }
    }

    @Test func namesThatAreEmptyHugeOrControlAreRefused() throws {
        let (w, _) = try prepared()
        let before = try fingerprint()
        let huge = String(repeating: "n", count: 100_000)
        for name in ["", huge, "a\u{0}b", "tab\there"] {
            #expect(throws: RunWriterError.self) { try w.writeEvent([name: 1]) }
            #expect(throws: RunWriterError.self) { try w.openStream(name) }
        }
        for name in ["a/b", "..", "a\\b", "../x", ".hidden", "__x"] {
            #expect(throws: RunWriterError.self) { try w.openStream(name) }
        }
        try w.closeRun()
        for name in ["", huge, "p\u{0}"] {
            #expect(throws: RunWriterError.self) { try w.openRun(name) }
        }
        try w.close()
        for name in ["", huge, "s\u{0}"] {
            #expect(throws: RunWriterError.self) { try RunWriter(dbPath: db, sample: SampleMetadata(name: name)).open() }
        }
        #expect(try fingerprint() == before)
        // Errors name the value (abbreviated when huge).
        let message = RunWriterError.invalidName(kind: "field", name: huge, reason: "longer than 255 bytes").description
        #expect(message.contains("100000 bytes"))
        #expect(message.count < 300)
    }

    @Test func enormousStringsAndManyFieldsRoundTrip() throws {
        let (w, run) = try prepared()
        let big = String(repeating: "0123456789", count: 1_000_000)  // 10 MB
        try w.writeEvent(["note": .string(big), "energy": 271.0])
        var many = JSONObject()
        for k in 0..<10_000 { many["f\(k)"] = .double(Double(k) / 4) }
        try w.writeEvent(many)
        try w.closeRun()
        try w.close()
        let out = try runPython("""
            import sqlite3, json, sys
            con = sqlite3.connect(sys.argv[1])
            rows = [json.loads(d) for (d,) in con.execute("SELECT e.data FROM events e JOIN streams s ON s.uid=e.stream_uid WHERE s.run_uid=? ORDER BY seq_num", (sys.argv[2],))]
            print(len(rows[1]["note"]), len(rows[2]), rows[2]["f9999"])
            """, [db, run])
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "10000000 10000 2499.75")
    }

    @Test func aSecondWriterInAnotherProcessIsRefusedUntilTheFirstDies() throws {
        let child = try ChildWriter([db, "events", "0.2"])
        child.read(timeout: 10) { $0.count > 5 }
        let second = RunWriter(dbPath: db, sample: SampleMetadata(name: "intruder"))
        #expect { try second.open() } throws: { ($0 as? DatabaseFileError)?.problem == .lockedByAnotherWriter }
        #expect(child.process.isRunning)
        child.kill()
        // The kernel dropped the dead writer's lock: no stale lock file to clean up.
        try second.open()
        try second.close()
        #expect(try inspect(db) { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
    }

    @Test func emptyFileBecomesANewBeamtime() throws {
        _ = FileManager.default.createFile(atPath: db, contents: Data())
        try RunWriter(dbPath: db, sample: SampleMetadata(name: "PS")).open { w in
            try w.openRun("x")
        }
        #expect(try inspect(db) { try Int.fetchOne($0, sql: "PRAGMA user_version") } == 2)
    }
}
