import Foundation
import GRDB
@testable import Resonance
import Testing

/// Builds beamtime files row by row, the way writers other than RunWriter may: for the
/// quirks the catalog must read (open runs, seq_num across streams, odd event values).
struct BeamtimeBuilder {
    let queue: DatabaseQueue

    init(_ path: String) throws {
        queue = try DatabaseFile.openForWriting(path, schema: BeamtimeSchema.self)
    }

    func close() throws { try queue.close() }

    @discardableResult
    func sample(_ name: String, formula: String? = nil, tags: String = "[]", extra: String = "{}") throws -> Int64 {
        try queue.write { db in
            try db.execute(sql: "INSERT INTO samples (name, formula, tags, extra) VALUES (?, ?, ?, ?)", arguments: [name, formula, tags, extra])
            return db.lastInsertedRowID
        }
    }

    func run(
        _ uid: String, plan: String = "nexafs", sampleID: Int64? = nil, start: Double, stop: Double? = nil,
        status: String? = nil, numEvents: Int = 0, metadata: String? = "{}"
    ) throws {
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO runs (uid, sample_id, plan_name, time_start, time_stop, exit_status, num_events, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [uid, sampleID, plan, start, stop, status, numEvents, metadata])
        }
    }

    @discardableResult
    func stream(_ name: String, run: String, dataKeys: String = "{}", created: Double = 0) throws -> String {
        let uid = UID.make()
        try queue.write { db in
            try db.execute(sql: "INSERT INTO streams (uid, run_uid, name, data_keys, time_created) VALUES (?, ?, ?, ?, ?)",
                           arguments: [uid, run, name, dataKeys, created])
        }
        return uid
    }

    /// Inserts events with the given data texts, seq_num counting from `firstSeq`.
    @discardableResult
    func events(_ stream: String, _ data: [String], firstSeq: Int64 = 1, time: Double = 1000) throws -> [String] {
        try queue.write { db in
            var uids: [String] = []
            for (k, text) in data.enumerated() {
                let uid = UID.make()
                try db.execute(sql: "INSERT INTO events (uid, stream_uid, seq_num, time, data, timestamps) VALUES (?, ?, ?, ?, ?, '{}')",
                               arguments: [uid, stream, firstSeq + Int64(k), time + Double(k), text])
                uids.append(uid)
            }
            return uids
        }
    }

    func imageRef(event: String, field: String, group: String, index: Int, rows: Int, columns: Int, dtype: String, codec: String? = "zstd") throws {
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO image_refs (event_uid, field_name, zarr_group, index_in_stack, shape_x, shape_y, dtype, compression_codec)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [event, field, group, index, rows, columns, dtype, codec])
        }
    }
}

/// A run uid made of one repeated hex digit pattern, handy for prefix tests.
func fakeUID(_ prefix: String) -> String {
    prefix + String(repeating: "0", count: 32 - prefix.count)
}

/// Expects `body` to throw a DatabaseFileError for `path` whose problem passes `check`.
func expectFileError(_ path: String, _ check: (DatabaseFileError.Problem) -> Bool, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    #expect(sourceLocation: sourceLocation) {
        try body()
    } throws: { error in
        guard let error = error as? DatabaseFileError else { return false }
        return error.path == path && check(error.problem) && error.description.contains(path)
    }
}

/// Every file in a folder with its bytes, to show that nothing changed.
func snapshot(_ folder: String) -> [String: Data] {
    var files: [String: Data] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
        files[name] = FileManager.default.contents(atPath: folder + "/" + name)
    }
    return files
}
