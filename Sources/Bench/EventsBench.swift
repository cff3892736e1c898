import CommandLineSupport
import Foundation
import GRDBSQLite
import Resonance

/// Phase 1: events through the public RunWriter against the same rows inserted with the
/// raw SQLite C API (one prepared statement, one transaction).
struct EventsBench {
    static let fields = ["energy", "i0", "sample_current", "diode", "ring_current", "sample_temperature", "theta", "exposure"]

    let count: Int
    let repetitions: Int
    let dir: String

    /// Inputs built before timing: what a caller hands to writeEvent.
    let data: [JSONObject]
    let timestamps: [Timestamps]
    let times: [Double]
    /// The same rows as the writer stores them, for the baseline: uid, data and timestamps text.
    let rows: [(uid: [UInt8], data: [UInt8], timestamps: [UInt8])]

    init(count: Int, repetitions: Int, dir: String) {
        self.count = count
        self.repetitions = repetitions
        self.dir = dir
        var rng = SeededGenerator(seed: 2026)
        let t0 = 1_772_700_000.0
        var data: [JSONObject] = [], timestamps: [Timestamps] = [], times: [Double] = []
        var rows: [(uid: [UInt8], data: [UInt8], timestamps: [UInt8])] = []
        data.reserveCapacity(count); timestamps.reserveCapacity(count); times.reserveCapacity(count); rows.reserveCapacity(count)
        for i in 0..<count {
            let t = t0 + Double(i) * 0.01
            let energy = 270.0 + 50.0 * Double(i % 1000) / 999.0
            let values: [Double] = [
                energy, 1.0e-9 * (1 + 0.01 * rng.normal()), 4.2e-10 * (1 + 0.02 * rng.normal()), 0.5 + 0.01 * rng.normal(),
                500.0 + 0.3 * rng.normal(), 295.2 + 0.05 * rng.normal(), 10.0 + Double(i % 7), 0.5,
            ]
            var d = JSONObject(minimumCapacity: 8)
            var ts = Timestamps(minimumCapacity: 8)
            for (k, name) in Self.fields.enumerated() {
                d[name] = .double(values[k])
                ts[name] = t - 0.001 * Double(k) - 0.0001 * rng.uniform()
            }
            var tsObject = JSONObject(minimumCapacity: 8)
            for (k, v) in ts { tsObject[k] = .double(v) }
            data.append(d); timestamps.append(ts); times.append(t)
            rows.append((Array(UID.make().utf8), Array(JSONValue.object(d).jsonText.utf8), Array(JSONValue.object(tsObject).jsonText.utf8)))
        }
        self.data = data
        self.timestamps = timestamps
        self.times = times
        self.rows = rows
    }

    var dataKeys: JSONObject {
        var keys = JSONObject()
        for name in Self.fields { keys[name] = ["dtype": "number", "source": .string("bench:" + name)] }
        return keys
    }

    static func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { removeItem(path + suffix) }
        removeItem(RunWriter.zarrPath(forDatabase: path))
    }

    /// Frees a beamtime's disk space, keeping its files until the end (see ``retire(_:)``).
    static func retireDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { retire(path + suffix) }
        retire(RunWriter.zarrPath(forDatabase: path))
    }

    /// The writer: `count` writeEvent calls then closeRun (which commits them all).
    /// Leaves the last repetition's beamtime at the returned path (for the reading phase).
    func runWriter(repetitions: Int? = nil, durability: RunWriter.CommitDurability = .powerCut) throws -> (Timing, String) {
        var timing = Timing()
        var path = ""
        let repetitions = repetitions ?? self.repetitions
        for rep in 0..<repetitions {
            path = freshPath(dir, "events-writer", ext: ".db")
            let writer = RunWriter(dbPath: path, sample: SampleMetadata(name: "bench"), options: .init(commitDurability: durability))
            try writer.open()
            try writer.openRun("bench_events", metadata: ["purpose": "resonance bench"])
            try writer.openStream("primary", dataKeys: dataKeys)
            let (seconds, growth) = try Memory.measuringPeak { () throws -> Double in
                let start = now()
                let probe = CPUProbe()
                for i in 0..<count {
                    try writer.writeEvent(data[i], timestamps: timestamps[i], time: times[i])
                }
                probe.report("events writer: writeEvent calls")
                try writer.closeRun(exitStatus: .success)
                probe.report("events writer: with closeRun")
                return now() - start
            }
            try writer.close()
            timing.seconds.append(seconds)
            timing.peakGrowth.append(growth)
            if rep < repetitions - 1 { Self.retireDatabase(path) }
        }
        return (timing, path)
    }

    /// The baseline: the same rows (pre-made uids and JSON texts) through sqlite3_prepare /
    /// bind / step in one transaction, on a beamtime file with the same schema and pragmas
    /// (WAL, synchronous NORMAL, foreign keys on, SQLite's default 2 MiB page cache —
    /// the writer's connection uses the same).
    func runBaseline(repetitions: Int? = nil) throws -> Timing {
        var timing = Timing()
        for _ in 0..<(repetitions ?? self.repetitions) {
            let path = freshPath(dir, "events-raw", ext: ".db")
            defer { Self.retireDatabase(path) }
            try insertRaw(path, into: &timing)
        }
        return timing
    }

    /// One repetition of the baseline; the connection is closed when it returns.
    private func insertRaw(_ path: String, into timing: inout Timing) throws {
        // Same schema, sample, run and stream rows as the writer's file.
        let writer = RunWriter(dbPath: path, sample: SampleMetadata(name: "bench"))
        try writer.open()
        try writer.openRun("bench_events", metadata: ["purpose": "resonance bench"])
        let stream = Array(try writer.openStream("primary", dataKeys: dataKeys).utf8)
        try writer.close()

        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db else {
            throw CommandError("cannot open \(path)")
        }
        defer { sqlite3_close_v2(db) }
        try exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, "INSERT INTO events (uid, stream_uid, seq_num, time, data, timestamps) VALUES (?, ?, ?, ?, ?, ?)", -1, &statement, nil) == SQLITE_OK, let statement else {
            throw CommandError("prepare: " + String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(statement) }
        let (seconds, growth) = try Memory.measuringPeak { () throws -> Double in
            let start = now()
            let probe = CPUProbe()
            defer { probe.report("events raw SQLite") }
            try exec(db, "BEGIN")
            try stream.withUnsafeBufferPointer { s in
                for i in 0..<count {
                    let row = rows[i]
                    try row.uid.withUnsafeBufferPointer { u in
                        try row.data.withUnsafeBufferPointer { d in
                            try row.timestamps.withUnsafeBufferPointer { t in
                                bindStatic(statement, 1, u)
                                bindStatic(statement, 2, s)
                                sqlite3_bind_int64(statement, 3, Int64(i + 1))
                                sqlite3_bind_double(statement, 4, times[i])
                                bindStatic(statement, 5, d)
                                bindStatic(statement, 6, t)
                                let code = sqlite3_step(statement)
                                sqlite3_reset(statement)
                                guard code == SQLITE_DONE else { throw CommandError("insert: " + String(cString: sqlite3_errmsg(db))) }
                            }
                        }
                    }
                }
            }
            try exec(db, "COMMIT")
            return now() - start
        }
        timing.seconds.append(seconds)
        timing.peakGrowth.append(growth)
    }

    private func exec(_ db: OpaquePointer, _ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
            throw CommandError("\(sql): " + String(cString: sqlite3_errmsg(db)))
        }
    }

    private func bindStatic(_ statement: OpaquePointer, _ index: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        bytes.withMemoryRebound(to: CChar.self) { text in
            _ = sqlite3_bind_text(statement, index, text.baseAddress, Int32(text.count), nil)  // nil: SQLITE_STATIC
        }
    }
}
