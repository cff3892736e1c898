import Foundation
import GRDB
@testable import Resonance
import Testing

/// Reads `db` as the beamline's Python Catalog does (`sqlite3`, `file:<db>?mode=ro`), as
/// the unprivileged user `nobody`, who can read the folder but not write it: an archive or
/// another user's beamtime. Root ignores permissions, so the test drops them with setpriv.
/// Returns the number of runs, or what Python printed when it failed.
func countRunsAsNobody(_ db: String) throws -> Result<Int, PythonFailed> {
    // Debian's own python3: the test's python may live under /root, which nobody cannot enter.
    let script = """
        import sqlite3, sys
        c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
        print(c.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
        """
    let result = try runCommand("/usr/bin/setpriv", [
        "--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3", "-c", script, db,
    ])
    guard result.status == 0, let count = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        return .failure(PythonFailed(stderr: result.stderr))
    }
    return .success(count)
}

/// The folder of `dir` readable by everyone, writable by its owner only.
func makeReadableByOthers(_ dir: TempDir) throws {
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
}

@Suite("File compatibility")
struct FileCompatibilityTests {
    let dir = TempDir()

    @Test func aClosedBeamtimeOpensReadOnlyForAUserWhoCannotWriteItsFolder() throws {
        try makeReadableByOthers(dir)
        let db = dir.file("archive.db")
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"))
        try writer.open { w in
            try w.openRun("nexafs")
            try w.openStream("primary")
            for k in 0..<20 { try w.writeEvent(["energy": .double(270 + Double(k))]) }
        }
        #expect(!DatabaseFile.isInWALMode(db))
        #expect(!FileManager.default.fileExists(atPath: db + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: db + "-shm"))
        #expect(try countRunsAsNobody(db).get() == 1)
    }

    @Test func whileAWriterIsOpenReadersSeeItLiveInWALMode() throws {
        let db = dir.file("live.db")
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"))
        try writer.open()
        try writer.openRun("nexafs")
        try writer.openStream("primary")
        try writer.writeEvent(["x": 1])
        try writer.flush()
        #expect(DatabaseFile.isInWALMode(db))
        let catalog = try Catalog(dbPath: db)
        #expect(try catalog.run(writer.currentRunUID!).table().count == 1)
        try catalog.close()
        try writer.closeRun()
        try writer.close()
        #expect(!DatabaseFile.isInWALMode(db))
    }

    @Test func aBeamtimeRepairedAfterSIGKILLOpensReadOnlyForAUserWhoCannotWriteItsFolder() throws {
        try makeReadableByOthers(dir)
        let db = dir.file("killed.db")
        let child = try ChildWriter([db, "events", "0.2"])
        child.read(timeout: 20) { lines in lines.filter { $0.line.hasPrefix("E ") }.count > 300 }
        child.kill()
        // What the dead writer left: a WAL-mode file (readable only while its -shm lasts).
        #expect(DatabaseFile.isInWALMode(db))

        let plain = try BeamtimeCheck.run(dbPath: db)
        #expect(plain.notes.contains { $0.contains("WAL mode") })
        let report = try BeamtimeCheck.run(dbPath: db, repair: true)
        #expect(report.repairs.contains { $0.contains("rollback-journal mode") })
        #expect(!DatabaseFile.isInWALMode(db))
        #expect(!FileManager.default.fileExists(atPath: db + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: db + "-shm"))
        #expect(try countRunsAsNobody(db).get() == 1)
    }
}

@Suite("Schema drift")
struct SchemaDriftTests {
    let dir = TempDir()

    func columns(_ db: String, _ table: String) throws -> [String] {
        try inspect(db) { db in try db.columns(in: table).map(\.name) }
    }

    @Test func aVersionTwoFileWithoutCompressionCodecIsRepairedAndAppendedTo() throws {
        let db = try copyDriftedBeamtime(to: dir)
        #expect(try !columns(db, "image_refs").contains("compression_codec"))
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "P3HT"), options: .init(commitInterval: 0.2))
        // It used to hang, retrying the failing image_refs insert forever.
        try withinTime(30) {
            try writer.open { w in
                try w.openRun("rsoxs")
                try w.openStream("primary")
                for k in 0..<3 {
                    let event = try w.writeEvent(["energy": .double(284 + Double(k))])
                    try w.writeFrame(eventUID: event, field: "detector_image",
                                     frame: Frame<UInt16>(rows: 8, columns: 8, pixels: [UInt16](repeating: UInt16(k), count: 64)))
                }
            }
        }
        #expect(try columns(db, "image_refs").contains("compression_codec"))
        let catalog = try Catalog(dbPath: db)
        defer { try? catalog.close() }
        #expect(try catalog.allRuns().count == 4)
        let run = try catalog.run(try #require(catalog.recent(1).first).uid)
        #expect(try run.table().count == 3)
        #expect(try run.frames(field: "detector_image").count == 3)
        // Python's sqlite3 sees the repaired schema and the new codec next to the old rows' NULLs.
        let codecs = try runPython("""
            import sqlite3, sys
            c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
            print(sorted(set(str(r[0]) for r in c.execute("SELECT compression_codec FROM image_refs"))))
            """, [db])
        #expect(codecs.trimmingCharacters(in: .whitespacesAndNewlines) == "['None', 'blosc-zstd']")
    }

    @Test func theCatalogReadsADriftedFileWithoutChangingIt() throws {
        let db = try copyDriftedBeamtime(to: dir)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let catalog = try Catalog(dbPath: db)
        #expect(try catalog.allRuns().count == 3)
        try catalog.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    }

    @Test(arguments: [("events", "timestamps"), ("runs", "metadata"), ("image_refs", "dtype")])
    func aMissingColumnNoRepairKnowsIsRefusedAndTheFileLeftUntouched(table: String, column: String) throws {
        let db = try copyReferenceBeamtime(to: dir)
        let setup = try DatabaseQueue(path: db)
        try setup.writeWithoutTransaction { db in
            // Dropping a column the index uses is not allowed: drop the index first.
            if table == "image_refs" { try db.execute(sql: "DROP INDEX IF EXISTS idx_image_refs_event") }
            try db.execute(sql: "ALTER TABLE \(table) DROP COLUMN \(column)")
            try db.execute(sql: "PRAGMA journal_mode = DELETE")
        }
        try setup.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"))
        #expect(throws: DatabaseFileError(path: db, problem: .missingColumn(table: table, column: column, version: 2))) {
            try writer.open()
        }
        let error = DatabaseFileError(path: db, problem: .missingColumn(table: table, column: column, version: 2))
        #expect(error.description.contains("table \(table) has no column \(column)"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        #expect(!FileManager.default.fileExists(atPath: db + "-wal"))
    }
}

@Suite("Failing commits")
struct FailingCommitTests {
    let dir = TempDir()

    /// Makes every insert into `events` fail from now on, from another connection: a
    /// failure that does not heal until the trigger is dropped.
    func breakEventInserts(_ db: String, _ broken: Bool) throws {
        let other = try DatabaseQueue(path: db)
        try other.write { db in
            try db.execute(sql: broken
                ? "CREATE TRIGGER injected_failure BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                : "DROP TRIGGER injected_failure")
        }
        try other.close()
    }

    /// Runs `body` and returns how long it took and what it threw.
    func timed(_ body: () throws -> Void) -> (seconds: Double, error: RunWriterError?) {
        let start = Date()
        do {
            try body()
            return (Date().timeIntervalSince(start), nil)
        } catch {
            return (Date().timeIntervalSince(start), error as? RunWriterError)
        }
    }

    @Test func aCommitThatKeepsFailingThrowsInBoundedTimeAndKeepsTheEventsForARetry() throws {
        let db = dir.file("failing.db")
        let interval = 0.2
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"), options: .init(commitInterval: interval))
        try writer.open()
        let run = try writer.openRun("scan")
        try writer.openStream("primary")
        for k in 1...10 { try writer.writeEvent(["k": .int(Int64(k))]) }
        try writer.flush()
        try breakEventInserts(db, true)

        // Events are accepted until the committer has failed; then writeEvent throws, every
        // call within a bound, and never accepts an event it cannot promise to keep.
        var accepted = 10
        var errors: [RunWriterError] = []
        let deadline = Date().addingTimeInterval(Double(Committer.automaticAttempts + 3) * interval + 5)
        while Date() < deadline && errors.count < 20 {
            let (seconds, error) = timed { try writer.writeEvent(["k": .int(Int64(accepted + 1))]) }
            #expect(seconds < interval * 2 + 2, "writeEvent took \(seconds) s")
            if let error { errors.append(error) } else { accepted += 1 }
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(errors.count == 20, "writeEvent kept accepting events a failing commit cannot keep")
        guard case .commitFailed(let reason, let pending) = errors.last else {
            Issue.record("expected commitFailed, got \(String(describing: errors.last))")
            return
        }
        #expect(reason.contains("injected failure"))
        #expect(pending == accepted - 10)

        // flush and close each make one attempt and throw; the writer stays open.
        for call in [{ try writer.flush() }, { try writer.closeRun() }, { try writer.close() }] {
            let (seconds, error) = timed(call)
            #expect(seconds < 12, "a failing call took \(seconds) s")
            guard case .commitFailed = error else {
                Issue.record("expected commitFailed, got \(String(describing: error))")
                return
            }
        }
        #expect(writer.currentRunUID == run)

        // The cause goes away; the caller's retry commits every accepted event.
        try breakEventInserts(db, false)
        try withinTime(30) { [accepted] in
            try writer.flush()
            try writer.writeEvent(["k": .int(Int64(accepted + 1))])
            try writer.closeRun()
            try writer.close()
        }
        accepted += 1
        let seqs = try inspect(db) { try Int.fetchAll($0, sql: "SELECT seq_num FROM events ORDER BY seq_num") }
        #expect(seqs == Array(1...accepted))
        #expect(try inspect(db) { try Int.fetchOne($0, sql: "SELECT num_events FROM runs") } == accepted)
    }

    @Test func aWriterWhoseCommitsKeepFailingCanBeReleasedWithoutHanging() throws {
        let db = dir.file("abandoned.db")
        let closeError = try withinTime(30) { [self] () -> String in
            let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"), options: .init(commitInterval: 0.1))
            try writer.open()
            try writer.openRun("scan")
            try writer.openStream("primary")
            try writer.writeEvent(["k": 1])
            try writer.flush()
            try breakEventInserts(db, true)
            try writer.writeEvent(["k": 2])
            do {
                try writer.close()
                return "closed"
            } catch {
                return "\(error)"
            }
            // The writer goes away here with an event it could not commit.
        }
        #expect(closeError.contains("injected failure"))
        #expect(try inspect(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") } == 1)
    }
}

@Suite("Commit durability")
struct CommitDurabilityTests {
    let dir = TempDir()

    /// `PRAGMA synchronous` of the writer's own connection: 2 is FULL (each commit syncs
    /// the WAL), 1 is NORMAL (synced at checkpoints: a power cut may lose commits).
    func synchronousSetting(_ durability: RunWriter.CommitDurability) throws -> Int? {
        let writer = RunWriter(dbPath: dir.file("\(durability).db"), sample: SampleMetadata(name: "PS"),
                               options: .init(commitDurability: durability))
        try writer.open()
        defer { try? writer.close() }
        return try writer.queue?.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
    }

    @Test func aCommitIsSyncedToDiskByDefault() throws {
        #expect(RunWriter.Options().commitDurability == .powerCut)
        #expect(try synchronousSetting(.powerCut) == 2)
        #expect(try synchronousSetting(.processCrash) == 1)
    }
}
