import Foundation
import GRDB
@testable import Resonance
import Testing

@Suite("Schema")
struct SchemaTests {
    let dir = TempDir()
    var db: String { dir.file("beamtime.db") }

    /// The schema as SQLite reports it: every table's columns (name, type, notnull, pk,
    /// default) and every index (name, unique, columns).
    func describeSchema(_ path: String) throws -> [String] {
        try inspect(path) { db in
            var lines: [String] = []
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            for table in tables {
                for row in try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))") {
                    lines.append("\(table).\(row["name"] as String) \(row["type"] as String) notnull=\(row["notnull"] as Int) pk=\(row["pk"] as Int) default=\(row["dflt_value"] as String? ?? "-")")
                }
                for fk in try Row.fetchAll(db, sql: "PRAGMA foreign_key_list(\(table))") {
                    lines.append("\(table) fk \(fk["from"] as String) -> \(fk["table"] as String)(\(fk["to"] as String)) on delete \(fk["on_delete"] as String)")
                }
                for index in try Row.fetchAll(db, sql: "PRAGMA index_list(\(table))") where (index["origin"] as String) == "c" {
                    let name: String = index["name"]
                    let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?)", arguments: [name])
                    lines.append("\(table) index \(name) unique=\(index["unique"] as Int) (\(columns.joined(separator: ",")))")
                }
            }
            lines.append("user_version=\(try Int.fetchOne(db, sql: "PRAGMA user_version")!)")
            return lines
        }
    }

    @Test func newFileMatchesTheReferenceBeamtimeSchema() throws {
        let queue = try DatabaseFile.openForWriting(db, schema: BeamtimeSchema.self)
        try queue.close()
        let reference = try copyReferenceBeamtime(to: dir)
        let ours = try describeSchema(db)
        #expect(ours == (try describeSchema(reference)))
        #expect(ours.contains("events index idx_events_seq unique=1 (stream_uid,seq_num)"))
        #expect(ours.contains("streams index idx_streams_run_name unique=1 (run_uid,name)"))
        #expect(ours.contains("image_refs.compression_codec TEXT notnull=0 pk=0 default=-"))
        #expect(ours.last == "user_version=2")
    }

    @Test func creatingIsIdempotent() throws {
        for _ in 0..<3 {
            try DatabaseFile.openForWriting(db, schema: BeamtimeSchema.self).close()
        }
        let w = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"))
        try w.open { w in
            try w.openRun("x")
        }
        let before = try describeSchema(db)
        try DatabaseFile.openForWriting(db, schema: BeamtimeSchema.self).close()
        #expect(try describeSchema(db) == before)
        #expect(try inspect(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs") } == 1)
    }

    @Test func indexSchemaIsCreatedAsSpecified() throws {
        let path = dir.file("index.db")
        try DatabaseFile.openForWriting(path, schema: IndexSchema.self).close()
        try DatabaseFile.openForWriting(path, schema: IndexSchema.self).close()
        let schema = try describeSchema(path)
        for expected in [
            "researchers.name TEXT notnull=1 pk=0 default=-",
            "researchers.root_path TEXT notnull=1 pk=0 default=-",
            "researchers index idx_researchers_name unique=1 (name)",
            "beamtimes index idx_beamtimes_db_path unique=1 (db_path)",
            "beamtimes fk researcher_id -> researchers(id) on delete CASCADE",
            "runs_index.uid TEXT notnull=0 pk=1 default=-",
            "runs_index fk beamtime_id -> beamtimes(id) on delete CASCADE",
            "runs_index.time_start REAL notnull=1 pk=0 default=-",
            "runs_index.metadata TEXT notnull=0 pk=0 default=-",
            "user_version=2",
        ] {
            #expect(schema.contains(expected), "\(expected)")
        }
    }

    @Test func foreignKeysAreEnforced() throws {
        let queue = try DatabaseFile.openForWriting(db, schema: BeamtimeSchema.self)
        defer { try? queue.close() }
        #expect(throws: DatabaseError.self) {
            try queue.write { db in
                try db.execute(sql: "INSERT INTO streams (uid, run_uid, name, data_keys, time_created) VALUES ('a', 'no-such-run', 'primary', '{}', 0)")
            }
        }
        #expect(throws: DatabaseError.self) {
            try queue.write { db in
                try db.execute(sql: "INSERT INTO image_refs (event_uid, field_name, zarr_group, index_in_stack, shape_x, shape_y, dtype) VALUES ('nope', 'ccd', 'g', 0, 1, 1, 'uint8')")
            }
        }
    }

    @Test func uniqueStreamNamePerRunAndSeqNumPerStream() throws {
        let queue = try DatabaseFile.openForWriting(db, schema: BeamtimeSchema.self)
        defer { try? queue.close() }
        try queue.write { db in
            try db.execute(sql: "INSERT INTO runs (uid, plan_name, time_start) VALUES ('r', 'p', 0)")
            try db.execute(sql: "INSERT INTO streams (uid, run_uid, name, data_keys, time_created) VALUES ('s', 'r', 'primary', '{}', 0)")
            try db.execute(sql: "INSERT INTO events (uid, stream_uid, seq_num, time, data) VALUES ('e1', 's', 1, 0, '{}')")
        }
        #expect(throws: DatabaseError.self) {
            try queue.write { try $0.execute(sql: "INSERT INTO streams (uid, run_uid, name, data_keys, time_created) VALUES ('s2', 'r', 'primary', '{}', 0)") }
        }
        #expect(throws: DatabaseError.self) {
            try queue.write { try $0.execute(sql: "INSERT INTO events (uid, stream_uid, seq_num, time, data) VALUES ('e2', 's', 1, 0, '{}')") }
        }
    }

    /// A version-1 file as the older Python writer made it: no compression_codec.
    func makeVersion1File(_ path: String) throws {
        let v1 = BeamtimeSchema.createSQL.replacingOccurrences(of: ",\n    compression_codec TEXT", with: "")
            .replacingOccurrences(of: "    dtype             TEXT NOT NULL,\n    compression_codec TEXT", with: "    dtype             TEXT NOT NULL")
        #expect(!v1.contains("compression_codec"))
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: v1)
            try db.execute(sql: "PRAGMA user_version = 1")
            try db.execute(sql: "INSERT INTO samples (name) VALUES ('old')")
            try db.execute(sql: "INSERT INTO runs (uid, sample_id, plan_name, time_start) VALUES ('0123456789abcdef0123456789abcdef', 1, 'nexafs', 1.0)")
            try db.execute(sql: "INSERT INTO streams (uid, run_uid, name, data_keys, time_created) VALUES ('s', '0123456789abcdef0123456789abcdef', 'primary', '{}', 1)")
            try db.execute(sql: "INSERT INTO events (uid, stream_uid, seq_num, time, data) VALUES ('e', 's', 1, 1, '{\"x\": 1}')")
            try db.execute(sql: "INSERT INTO image_refs (event_uid, field_name, zarr_group, index_in_stack, shape_x, shape_y, dtype) VALUES ('e', 'ccd', 'runs/0123456789abcdef0123456789abcdef/ccd', 0, 4, 4, 'uint16')")
        }
        try queue.close()
    }

    @Test func version1FileIsMigratedOnOpenForWriting() throws {
        try makeVersion1File(db)
        let w = RunWriter(dbPath: db, sample: SampleMetadata(name: "old"))
        try w.open()
        #expect(w.sample.id == 1)
        try w.close()
        let schema = try describeSchema(db)
        #expect(schema.contains("image_refs.compression_codec TEXT notnull=0 pk=0 default=-"))
        #expect(schema.last == "user_version=2")
        let ref = try inspect(db) { try Row.fetchOne($0, sql: "SELECT field_name, compression_codec FROM image_refs") }
        #expect(ref?["field_name"] == "ccd")
        #expect(ref?["compression_codec"] as String? == nil)
        #expect(try inspect(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") } == 1)
    }

    @Test func aFailedMigrationLeavesVersion1Intact() throws {
        try makeVersion1File(db)
        // A migration that fails half-way must roll back entirely.
        struct Boom: Error {}
        let queue = try DatabaseQueue(path: db)
        #expect(throws: Boom.self) {
            try queue.write { db in
                try BeamtimeSchema.migrations[0].apply(db)
                throw Boom()
            }
        }
        try queue.close()
        #expect(!(try describeSchema(db)).contains { $0.contains("compression_codec") })
        #expect(try describeSchema(db).last == "user_version=1")
    }

    func expectRefusedUntouched(_ path: String, _ problem: (DatabaseFileError.Problem) -> Bool) throws {
        let before = FileManager.default.contents(atPath: path)
        let siblings = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect {
            try RunWriter(dbPath: path, sample: SampleMetadata(name: "x")).open()
        } throws: { error in
            guard let error = error as? DatabaseFileError else { return false }
            return error.path == path && problem(error.problem) && error.description.contains(path)
        }
        #expect(FileManager.default.contents(atPath: path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == siblings)
    }

    @Test func newerVersionIsRefusedAndLeftUntouched() throws {
        try DatabaseFile.openForWriting(db, schema: BeamtimeSchema.self).close()
        let queue = try DatabaseQueue(path: db)
        try queue.write { try $0.execute(sql: "PRAGMA user_version = 99") }
        try queue.close()
        try expectRefusedUntouched(db) { $0 == .newerSchema(found: 99, supported: 2) }
    }

    @Test func nonSQLiteFileIsRefusedAndLeftUntouched() throws {
        try Data("this is a lab notebook, not a database\n".utf8).write(to: URL(fileURLWithPath: db))
        try expectRefusedUntouched(db) { if case .notSQLite = $0 { return true } else { return false } }
        var random = SystemRandomNumberGenerator()
        try Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) }).write(to: URL(fileURLWithPath: db))
        try expectRefusedUntouched(db) { if case .notSQLite = $0 { return true } else { return false } }
    }

    @Test func aMissingFolderIsRefusedAndNotCreated() throws {
        let path = dir.file("no-such-folder/beamtime.db")
        #expect(throws: DatabaseFileError(path: path, problem: .missingFolder)) {
            try RunWriter(dbPath: path, sample: SampleMetadata(name: "x")).open()
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("no-such-folder")))
    }

    @Test func directoryIsRefused() throws {
        try FileManager.default.createDirectory(atPath: db, withIntermediateDirectories: true)
        try expectRefusedUntouched(db) { $0 == .isDirectory }
    }

    @Test func databaseOfAnotherApplicationIsRefusedAndLeftUntouched() throws {
        let queue = try DatabaseQueue(path: db)
        try queue.write { try $0.execute(sql: "CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('bread')") }
        try queue.close()
        try expectRefusedUntouched(db) { $0 == .foreignDatabase(tables: ["recipes"]) }
    }

    @Test func truncatedFileIsRefused() throws {
        try RunWriter(dbPath: db, sample: SampleMetadata(name: "x")).open { w in
            try w.openRun("x")
            try w.openStream("primary")
            for i in 0..<2000 { try w.writeEvent(["i": .int(Int64(i)), "pad": .string(String(repeating: "x", count: 100))]) }
        }
        // Fold the WAL back so the main file holds everything, then cut it.
        let queue = try DatabaseQueue(path: db)
        try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE") }
        try queue.close()
        let full = try #require(FileManager.default.contents(atPath: db))
        try full.prefix(full.count / 3).write(to: URL(fileURLWithPath: db))
        #expect(throws: (any Error).self) {
            let w = RunWriter(dbPath: self.db, sample: SampleMetadata(name: "x"))
            try w.open()
            try w.openRun("x")
            try w.openStream("primary")
            for i in 0..<10 { try w.writeEvent(["i": .int(Int64(i))]) }
            try w.closeRun()
            try w.close()
        }
    }
}
