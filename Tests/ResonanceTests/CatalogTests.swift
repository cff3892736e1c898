import Foundation
import GRDB
@testable import Resonance
import Testing

@Suite("Catalog")
struct CatalogTests {
    let dir = TempDir()
    var db: String { dir.file("beamtime.db") }

    // MARK: The reference beamtime

    @Test func readsTheReferenceBeamtimeAsExpectedJSONSays() throws {
        let path = try copyReferenceBeamtime(to: dir)
        let expected = try JSONValue(parsing: String(contentsOfFile: fixturesDir + "/reference-beamtime/expected.json", encoding: .utf8))
        let catalog = try Catalog(dbPath: path)
        defer { try? catalog.close() }

        let samples = try catalog.samples()
        #expect(samples.count == 1)
        #expect(samples.first?.name == expected["sample"]?["name"]?.stringValue)
        #expect(samples.first?.formula == expected["sample"]?["formula"]?.stringValue)
        #expect(samples.first?.id == expected["sample"]?["id"]?.intValue)
        #expect(samples.first?.tags == [])
        #expect(samples.first?.extra == [:])

        let runs = try #require(expected["runs"]?.objectValue)
        #expect(Set(try catalog.recent().map(\.uid)) == Set(runs.values.compactMap { $0["uid"]?.stringValue }))
        for (_, spec) in runs {
            let uid = try #require(spec["uid"]?.stringValue)
            let run = try catalog.run(uid)
            #expect(run.uid == uid)
            #expect(run.planName == spec["plan_name"]?.stringValue)
            #expect(run.exitStatus?.rawValue == spec["exit_status"]?.stringValue)
            #expect(run.numEvents == Int(spec["num_events"]?.intValue ?? -1))
            #expect(JSONValue.object(run.metadata) == spec["metadata"])
            #expect(run.sample?.name == "PS")
            #expect(run.streamNames == [spec["stream"]?["name"]?.stringValue])
            #expect(run.streams.first?.uid == spec["stream"]?["uid"]?.stringValue)
            #expect(run.streams.first?.eventCount == run.numEvents)

            let table = try run.table()
            #expect(JSONValue(table.columnNames) == spec["columns"])
            #expect(table.count == run.numEvents)
            for (column, sum) in spec["sums"]?.objectValue ?? [:] {
                if column == "seq_num" {
                    #expect(JSONValue.int(table.seqNums.reduce(0, +)) == sum)
                } else if column.hasSuffix("_nansum") {
                    let name = String(column.dropLast("_nansum".count))
                    let values = try table.doubles(name).compactMap { $0 }.filter { !$0.isNaN }
                    #expect(values.reduce(0, +) == sum.doubleValue)
                } else {
                    #expect(try table.doubles(column).map { $0! }.reduce(0, +) == sum.doubleValue, "\(column)")
                }
            }
            for (column, n) in spec["nan_count"]?.objectValue ?? [:] {
                #expect(try table.doubles(column, missing: 0).filter(\.isNaN).count == Int(n.intValue!), "\(column)")
            }
            if let nanSeq = spec["nan_seq_num"]?.intValue {
                let row = try #require(table.rows.first { $0.seqNum == nanSeq })
                #expect(row["sample_current"]?.doubleValue?.isNaN == true)
                #expect(table.column("sample_current")?.kind == .double)
            }
            let images = spec["images"]?.objectValue ?? [:]
            #expect(run.frameFields.map(\.name) == Array(images.keys))
            for (field, image) in images {
                let info = try #require(run.frameField(field))
                #expect(info.frameCount == Int(image["count"]?.intValue ?? -1))
                #expect(JSONValue.array([.int(Int64(info.rows)), .int(Int64(info.columns))]) == image["shape"])
                #expect(info.dtype == image["dtype"]?.stringValue)
                #expect(info.codec == image["image_refs_compression_codec"]?.stringValue)
                #expect(info.zarrGroup == image["zarr_array"]?.stringValue)
                #expect(info.stream == "primary")
                #expect(!info.hasMixedShapes)
            }
        }
        // Reading changed nothing: no journal or WAL appeared beside the copy.
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: path + "-journal"))
    }

    @Test func anExitStatusAnotherProgramWroteReadsBackAsItIs() throws {
        let path = try copyReferenceBeamtime(to: dir)
        let uid = "79c8c2926b9445b5b49882321e35049e"
        try runPython("""
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.execute("UPDATE runs SET exit_status = 'halted' WHERE uid = ?", (sys.argv[2],))
            c.commit()
            """, [path, uid])
        let catalog = try Catalog(dbPath: path)
        defer { try? catalog.close() }
        let run = try catalog.run(uid)
        #expect(run.exitStatus == ExitStatus(rawValue: "halted"))
        #expect(run.exitStatus != .success && !run.isOpen)
        #expect(try catalog.allRuns().first { $0.uid == uid }?.exitStatus?.rawValue == "halted")
    }

    @Test func readsTheReadOnlyReferenceInPlace() throws {
        // A reader must not write where it reads (archives, other users' folders).
        let path = fixturesDir + "/reference-beamtime/ref_beamtime.db"
        let before = snapshot(fixturesDir + "/reference-beamtime")
        let catalog = try Catalog(dbPath: path)
        #expect(try catalog.recent().count == 2)
        #expect(try catalog.run("79c8c292").table().count == 50)
        try catalog.close()
        #expect(snapshot(fixturesDir + "/reference-beamtime") == before)
    }

    // MARK: Listing and finding runs

    func makeListingBeamtime() throws {
        let b = try BeamtimeBuilder(db)
        let ps = try b.sample("PS", formula: "C8H8", tags: #"["polymer", "reference"]"#, extra: #"{"thickness_nm": 100}"#)
        let p3ht = try b.sample("P3HT")
        try b.run(fakeUID("aaaaaaaa1"), plan: "nexafs", sampleID: ps, start: 100, stop: 110, status: "success", numEvents: 3)
        try b.run(fakeUID("aaaaaaaa2"), plan: "rsoxs", sampleID: p3ht, start: 200, stop: 210, status: "aborted", numEvents: 0)
        try b.run(fakeUID("bbbbbbbb"), plan: "nexafs", sampleID: ps, start: 300, stop: 310, status: "failed", numEvents: 0)
        try b.run(fakeUID("cccccccc"), plan: "count", sampleID: nil, start: 400)  // open, no sample
        let s = try b.stream("primary", run: fakeUID("cccccccc"))
        try b.events(s, [#"{"x": 1}"#, #"{"x": 2}"#])
        try b.close()
    }

    @Test func recentListsNewestFirst() throws {
        try makeListingBeamtime()
        let catalog = try Catalog(dbPath: db)
        let recent = try catalog.recent()
        #expect(recent.map(\.uid) == [fakeUID("cccccccc"), fakeUID("bbbbbbbb"), fakeUID("aaaaaaaa2"), fakeUID("aaaaaaaa1")])
        #expect(try catalog.recent(2).map(\.planName) == ["count", "nexafs"])
        #expect(try catalog.recent(0).isEmpty)
        #expect(recent[0].sampleName == nil)
        #expect(recent[0].timeStop == nil)
        #expect(recent[0].exitStatus == nil)
        #expect(recent[0].numEvents == 2)  // open: counted, not the recorded 0
        #expect(recent[1].exitStatus == .failed)
        #expect(recent[2].exitStatus == .aborted)
        #expect(recent[3] == RunSummary(uid: fakeUID("aaaaaaaa1"), planName: "nexafs", sampleName: "PS", timeStart: 100,
                                        timeStop: 110, exitStatus: .success, numEvents: 3))
        #expect(try catalog.allRuns().map(\.timeStart) == [100, 200, 300, 400])
    }

    @Test func bySampleListsTheSamplesRunsNewestFirst() throws {
        try makeListingBeamtime()
        let catalog = try Catalog(dbPath: db)
        #expect(try catalog.bySample("PS").map(\.uid) == [fakeUID("bbbbbbbb"), fakeUID("aaaaaaaa1")])
        #expect(try catalog.bySample("P3HT").map(\.planName) == ["rsoxs"])
        #expect(try catalog.bySample("nobody").isEmpty)
    }

    @Test func samplesAreReadWithTagsAndExtra() throws {
        try makeListingBeamtime()
        let samples = try Catalog(dbPath: db).samples()
        #expect(samples.map(\.name) == ["PS", "P3HT"])
        #expect(samples[0] == SampleMetadata(name: "PS", formula: "C8H8", tags: ["polymer", "reference"], extra: ["thickness_nm": 100], id: 1))
        #expect(samples[1].tags == [])
        #expect(samples[1].id == 2)
    }

    @Test func runIsFoundByUIDOrUniquePrefix() throws {
        try makeListingBeamtime()
        let catalog = try Catalog(dbPath: db)
        #expect(try catalog.run(fakeUID("bbbbbbbb")).planName == "nexafs")
        #expect(try catalog.run("bbbbbbbb").uid == fakeUID("bbbbbbbb"))
        #expect(try catalog.run("BBBBBBBB").uid == fakeUID("bbbbbbbb"))
        #expect(try catalog.run("aaaaaaaa2").planName == "rsoxs")
        #expect(try catalog["cccccccc"].isOpen)
        // A UUID as Python prints it, with dashes.
        let dashed = "bbbbbbbb-0000-0000-0000-000000000000"
        #expect(try catalog.run(dashed).uid == fakeUID("bbbbbbbb"))
    }

    @Test func runLookupErrorsNameTheUID() throws {
        try makeListingBeamtime()
        let catalog = try Catalog(dbPath: db)
        #expect(throws: CatalogError.runNotFound(uid: "dddddddd")) { try catalog.run("dddddddd") }
        #expect(throws: CatalogError.runNotFound(uid: fakeUID("dd"))) { try catalog.run(fakeUID("dd")) }
        #expect(throws: CatalogError.ambiguousRunUID(prefix: "aaaaaaaa", matches: [fakeUID("aaaaaaaa1"), fakeUID("aaaaaaaa2")])) {
            try catalog.run("aaaaaaaa")
        }
        #expect(throws: CatalogError.invalidRunUID("aaaa")) { try catalog.run("aaaa") }
        #expect(throws: CatalogError.invalidRunUID("not-a-uid-at-all")) { try catalog.run("not-a-uid-at-all") }
        #expect(throws: CatalogError.invalidRunUID(fakeUID("a") + "0")) { try catalog.run(fakeUID("a") + "0") }
        #expect(CatalogError.runNotFound(uid: "dddddddd").description.contains("dddddddd"))
        let ambiguous = CatalogError.ambiguousRunUID(prefix: "aaaaaaaa", matches: [fakeUID("aaaaaaaa1"), fakeUID("aaaaaaaa2")]).description
        #expect(ambiguous.contains("aaaaaaaa") && ambiguous.contains(fakeUID("aaaaaaaa2")))
    }

    @Test func runShowsStreamsWithDataKeysAndCounts() throws {
        let b = try BeamtimeBuilder(db)
        let uid = fakeUID("1234abcd")
        try b.run(uid, start: 1, metadata: #"{"edge": "C K", "nested": {"a": [1, 2.5, NaN]}}"#)
        let baseline = try b.stream("baseline", run: uid, dataKeys: #"{"ring_current": {"dtype": "number", "units": "mA"}}"#, created: 1)
        let primary = try b.stream("primary", run: uid, dataKeys: #"{"Energy": {"dtype": "number", "units": "eV"}}"#, created: 2)
        try b.events(baseline, [#"{"ring_current": 500.1}"#, #"{"ring_current": 499.9}"#])
        try b.events(primary, [#"{"Energy": 270.0}"#, #"{"Energy": 270.5}"#, #"{"Energy": 271.0}"#])
        try b.close()
        let run = try Catalog(dbPath: db).run(uid)
        #expect(run.streamNames == ["baseline", "primary"])
        #expect(run.stream("primary")?.eventCount == 3)
        #expect(run.stream("baseline")?.dataKeys["ring_current"]?["units"] == "mA")
        #expect(run.metadata["nested"]?["a"]?.arrayValue?[2].doubleValue?.isNaN == true)
        #expect(run.numEvents == 5)  // open run: counted
        #expect(run.isOpen)
        #expect(run.frameFields.isEmpty)
        #expect(try run.table(stream: "baseline").doubles("ring_current") == [500.1, 499.9])
    }

    // MARK: Opening

    @Test func refusesMissingEmptyNonSQLiteForeignAndNewerFilesUntouched() throws {
        expectFileError(db, { $0 == .missing }) { _ = try Catalog(dbPath: db) }
        #expect(!FileManager.default.fileExists(atPath: db))

        _ = FileManager.default.createFile(atPath: db, contents: Data())
        var before = snapshot(dir.path)
        expectFileError(db, { $0 == .empty }) { _ = try Catalog(dbPath: db) }
        #expect(snapshot(dir.path) == before)

        try Data("beamline notes, not a database\n".utf8).write(to: URL(fileURLWithPath: db))
        before = snapshot(dir.path)
        expectFileError(db, { if case .notSQLite = $0 { true } else { false } }) { _ = try Catalog(dbPath: db) }
        #expect(snapshot(dir.path) == before)

        try FileManager.default.removeItem(atPath: db)
        var queue = try DatabaseQueue(path: db)
        try queue.write { try $0.execute(sql: "CREATE TABLE recipes (name TEXT)") }
        try queue.close()
        before = snapshot(dir.path)
        expectFileError(db, { $0 == .foreignDatabase(tables: ["recipes"]) }) { _ = try Catalog(dbPath: db) }
        #expect(snapshot(dir.path) == before)

        try FileManager.default.removeItem(atPath: db)
        try BeamtimeBuilder(db).close()
        queue = try DatabaseQueue(path: db)
        try queue.write { try $0.execute(sql: "PRAGMA user_version = 7") }
        try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = DELETE") }
        try queue.close()
        before = snapshot(dir.path)
        expectFileError(db, { $0 == .newerSchema(found: 7, supported: 2) }) { _ = try Catalog(dbPath: db) }
        #expect(snapshot(dir.path) == before)

        try FileManager.default.removeItem(atPath: db)
        try FileManager.default.createDirectory(atPath: db, withIntermediateDirectories: false)
        expectFileError(db, { $0 == .isDirectory }) { _ = try Catalog(dbPath: db) }
    }

    @Test func readsAVersion1FileWithoutMigratingIt() throws {
        let b = try BeamtimeBuilder(db)
        try b.close()
        let queue = try DatabaseQueue(path: db)
        try queue.write { db in
            try db.execute(sql: "DROP TABLE image_refs")
            try db.execute(sql: """
                CREATE TABLE image_refs (id INTEGER PRIMARY KEY AUTOINCREMENT, event_uid TEXT NOT NULL REFERENCES events(uid) ON DELETE CASCADE,
                field_name TEXT NOT NULL, zarr_group TEXT NOT NULL, index_in_stack INTEGER NOT NULL, shape_x INTEGER NOT NULL,
                shape_y INTEGER NOT NULL, dtype TEXT NOT NULL)
                """)
            try db.execute(sql: "PRAGMA user_version = 1")
            let uid = fakeUID("01")
            try db.execute(sql: "INSERT INTO runs (uid, plan_name, time_start, time_stop, exit_status, num_events) VALUES (?, 'rsoxs', 1, 2, 'success', 1)", arguments: [uid])
            try db.execute(sql: "INSERT INTO streams VALUES ('s', ?, 'primary', '{}', 1)", arguments: [uid])
            try db.execute(sql: "INSERT INTO events VALUES ('e', 's', 1, 1, '{\"Energy\": 285}', '{}')")
            try db.execute(sql: "INSERT INTO image_refs (event_uid, field_name, zarr_group, index_in_stack, shape_x, shape_y, dtype) VALUES ('e', 'ccd', ?, 0, 8, 4, 'uint16')", arguments: ["runs/\(uid)/ccd"])
        }
        try queue.close()
        let catalog = try Catalog(dbPath: db)
        let run = try catalog.run(fakeUID("01"))
        #expect(run.frameFields.first?.codec == nil)
        #expect(run.frameFields.first?.rows == 8)
        #expect(run.frameFields.first?.columns == 4)
        #expect(try run.table().int64s("Energy") == [285])
        #expect(try inspect(db) { try Int.fetchOne($0, sql: "PRAGMA user_version") } == 1)
    }

    @Test func closedCatalogThrowsClosed() throws {
        try makeListingBeamtime()
        let catalog = try Catalog(dbPath: db)
        let run = try catalog.run("cccccccc")
        try catalog.close()
        try catalog.close()  // twice is fine
        #expect(throws: CatalogError.closed) { try catalog.recent() }
        #expect(throws: CatalogError.closed) { try run.table() }
    }

    // MARK: Live writers and crashed writers

    @Test func seesWhatAWriterHasCommittedWhileItWrites() throws {
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"), options: .init(commitInterval: 3600))
        try writer.open()
        let uid = try writer.openRun("nexafs")
        try writer.openStream("primary")
        for i in 0..<10 { try writer.writeEvent(["Energy": .double(270 + Double(i))]) }
        try writer.flush()

        let catalog = try Catalog(dbPath: db)
        let run = try catalog.run(uid)
        #expect(run.isOpen)
        #expect(run.numEvents == 10)
        #expect(try run.table().count == 10)
        #expect(try catalog.recent().first?.numEvents == 10)

        for i in 10..<25 { try writer.writeEvent(["Energy": .double(270 + Double(i))]) }
        #expect(try run.table().count == 10)  // not yet committed
        try writer.flush()
        #expect(try run.table().count == 25)
        try writer.closeRun()
        let closed = try catalog.run(uid)
        #expect(closed.exitStatus == .success)
        #expect(closed.numEvents == 25)
        try writer.close()
        try catalog.close()
    }

    /// Leaves `path` as a Python writer in rollback-journal mode (Python's default) leaves it
    /// when killed inside a transaction: a hot -journal and a half-written main file.
    func crashPythonWriterMidTransaction(_ path: String) throws {
        try BeamtimeBuilder(path).close()
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = DELETE") }
        try queue.close()
        try runPython("""
            import sqlite3, sys, os, json
            con = sqlite3.connect(sys.argv[1])
            con.execute("PRAGMA foreign_keys = ON")
            uid = "ab" * 16
            con.execute("INSERT INTO runs (uid, plan_name, time_start, num_events, metadata) VALUES (?, 'nexafs', 1.0, 0, '{}')", (uid,))
            con.execute("INSERT INTO streams VALUES (?, ?, 'primary', '{}', 1.0)", ("cd" * 16, uid))
            for i in range(20):
                con.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, '{}')", ("%032x" % i, "cd" * 16, i + 1, 1.0 + i, json.dumps({"Energy": 270.0 + i})))
            con.commit()
            # A second transaction, big enough to spill pages into the file, then a crash.
            con.execute("PRAGMA cache_size = 1")
            for i in range(20, 3000):
                con.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, '{}')", ("%032x" % i, "cd" * 16, i + 1, 1.0 + i, json.dumps({"Energy": 270.0 + i, "pad": "x" * 200})))
            con.execute("UPDATE runs SET num_events = 3000")
            os._exit(0)  # like a kill: no commit, no close (status 0 so runPython accepts it)
            """, [path])
        #expect(FileManager.default.fileExists(atPath: path + "-journal"))
    }

    @Test func rollsBackAHotJournalLeftByACrashedWriter() throws {
        try crashPythonWriterMidTransaction(db)
        let catalog = try Catalog(dbPath: db)
        let run = try catalog.run(String(repeating: "ab", count: 16))
        #expect(run.isOpen)
        #expect(run.numEvents == 20)
        #expect(try run.table().doubles("Energy", missing: .nan) == (0..<20).map { 270.0 + Double($0) })
        #expect(!FileManager.default.fileExists(atPath: db + "-journal"))
        #expect(try inspect(db) { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
    }

    @Test func aHotJournalItMayNotRollBackIsACleanNeedsRecoveryError() throws {
        try crashPythonWriterMidTransaction(db)
        let before = snapshot(dir.path)
        // As for a read-only folder (which root, running these tests, cannot make).
        expectFileError(db, { if case .needsRecovery = $0 { true } else { false } }) {
            _ = try Catalog(dbPath: db, options: .init(rollsBackHotJournal: false))
        }
        #expect(snapshot(dir.path) == before)
        do {
            _ = try Catalog(dbPath: db, options: .init(rollsBackHotJournal: false))
        } catch let error as DatabaseFileError {
            #expect(error.description.contains("resonance check --repair"))
            #expect(error.description.contains("journal"))
        }
    }

    @Test func opensAWALFileWhoseWriterWasKilled() throws {
        try BeamtimeBuilder(db).close()
        try runPython("""
            import sqlite3, sys, os, json
            con = sqlite3.connect(sys.argv[1], isolation_level=None)
            con.execute("PRAGMA journal_mode = WAL")
            uid = "ef" * 16
            con.execute("BEGIN")
            con.execute("INSERT INTO runs (uid, plan_name, time_start, num_events, metadata) VALUES (?, 'rsoxs', 1.0, 0, '{}')", (uid,))
            con.execute("INSERT INTO streams VALUES (?, ?, 'primary', '{}', 1.0)", ("01" * 16, uid))
            for i in range(30):
                con.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, '{}')", ("%032x" % i, "01" * 16, i + 1, 1.0 + i, json.dumps({"I0": i})))
            con.execute("COMMIT")
            con.execute("BEGIN")
            for i in range(30, 60):
                con.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, '{}')", ("%032x" % i, "01" * 16, i + 1, 1.0 + i, json.dumps({"I0": i})))
            os._exit(0)  # like a kill: no commit, no close (status 0 so runPython accepts it)
            """, [db])
        #expect(FileManager.default.fileExists(atPath: db + "-wal"))
        let run = try Catalog(dbPath: db).run("efefefef")
        #expect(run.numEvents == 30)
        #expect(try run.table().int64s("I0") == (0..<30).map { Int64($0) })
    }
}
