import Foundation
import GRDB
import Resonance
import Testing
import Zarr

/// SIGKILL at random moments, many times. CI runs a reduced number of trials;
/// `RESONANCE_KILL_TRIALS=50 swift test --filter FaultSuite` runs the full suite.
@Suite("Fault suite", .serialized)
struct FaultSuiteTests {
    static let trials = Int(ProcessInfo.processInfo.environment["RESONANCE_KILL_TRIALS"] ?? "") ?? 8

    struct Tally {
        var trials = 0, intact = 0, eventsLostBeyondInterval = 0, framesChecked = 0, framesBad = 0
    }

    @Test func randomKillsLoseNothingPromised() throws {
        var tally = Tally()
        var rng = SeededGenerator(seed: UInt64(ProcessInfo.processInfo.environment["RESONANCE_KILL_SEED"] ?? "") ?? 20261126)
        let modes = ["events", "mixed", "frames", "closing", "migrate"]
        for trial in 0..<Self.trials {
            let dir = TempDir()
            let db = dir.file("trial.db")
            let mode = modes[trial % modes.count]
            let interval = 0.25
            if mode == "migrate" { try makeVersion1Beamtime(db) }
            // Frames alternate between a file per frame and small shards (kills mid-shard and
            // across shard boundaries), trial by trial.
            let layout = (trial / modes.count) % 2 == 0 ? "sharded-8" : "chunk-per-frame"
            let child = try ChildWriter([db, mode == "migrate" ? "mixed" : mode, "\(interval)"], layout: layout)
            // Kill anywhere from the very start (mid-open, mid-migration) to a couple of seconds in.
            let lifetime = rng.uniform() * (mode == "migrate" ? 0.4 : 2.0)
            let start = Date()
            child.read(timeout: 20) { _ in Date().timeIntervalSince(start) >= lifetime }
            let killedAt = child.kill()
            tally.trials += 1

            let result = try verify(db: db, child: child, killedAt: killedAt, interval: interval, migrated: mode == "migrate")
            tally.eventsLostBeyondInterval += result.lostBeyondInterval
            tally.framesChecked += result.framesChecked
            tally.framesBad += result.framesBad
            if result.intact { tally.intact += 1 }
        }
        print("fault suite: \(tally.trials) kill trials, \(tally.intact) files intact, \(tally.eventsLostBeyondInterval) events lost beyond the interval, \(tally.framesChecked) referenced frames checked, \(tally.framesBad) orphaned or unreadable")
        #expect(tally.intact == tally.trials)
        #expect(tally.eventsLostBeyondInterval == 0)
        #expect(tally.framesBad == 0)
    }

    struct TrialResult { var intact = false, lostBeyondInterval = 0, framesChecked = 0, framesBad = 0 }

    func verify(db: String, child: ChildWriter, killedAt: Date, interval: Double, migrated: Bool) throws -> TrialResult {
        var result = TrialResult()
        guard FileManager.default.fileExists(atPath: db) else {
            // Killed before the file existed: nothing was promised.
            result.intact = child.lines.isEmpty
            return result
        }
        let integrity = try inspect(db) { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
        let version = try inspect(db) { try Int.fetchOne($0, sql: "PRAGMA user_version") ?? -1 }
        // A kill mid-migration leaves version 1 or 2, never a half-migrated file.
        let columns = try inspect(db) { try $0.columns(in: "image_refs").map(\.name) }
        let schemaConsistent = (version == 2) == columns.contains("compression_codec") || (version == 0 && !migrated)

        // Every event returned more than one interval (plus slack) before the kill is there.
        let stored = try inspect(db) { Set(try String.fetchAll($0, sql: "SELECT uid FROM events")) }
        for (line, at) in child.lines where line.hasPrefix("E ") && killedAt.timeIntervalSince(at) > interval + 0.3 {
            if !stored.contains(String(line.split(separator: " ")[2])) { result.lostBeyondInterval += 1 }
        }
        // Every image ref reads back its exact frame; every array covers its refs.
        let refs = try inspect(db) { db in
            try Row.fetchAll(db, sql: "SELECT r.zarr_group, r.index_in_stack, r.shape_x, r.shape_y, e.data FROM image_refs r JOIN events e ON e.uid = r.event_uid")
        }
        if !refs.isEmpty {
            let store = try FilesystemStore(root: RunWriter.zarrPath(forDatabase: db))
            for ref in refs {
                result.framesChecked += 1
                let group: String = ref[0], index: Int = ref[1], rows: Int = ref[2], columns: Int = ref[3]
                let seq = Int(try JSONValue(parsing: ref[4] as String)["seq"]?.intValue ?? -1)
                do {
                    let array = try ZarrArray.open(in: store, at: group)
                    guard index < array.shape[0] else { result.framesBad += 1; continue }
                    let pixels: [UInt16] = try array.readInnerChunk(at: [index, 0, 0])
                    let expected = (0..<(rows * columns)).map { UInt16(($0 + seq * 31) % 65536) }
                    if pixels != expected { result.framesBad += 1 }
                } catch {
                    result.framesBad += 1
                }
            }
        }
        // A check lists an interrupted run; --repair closes it; a new writer appends.
        let report = try BeamtimeCheck.run(dbPath: db, repair: true)
        let problemsFree = report.problems.isEmpty
        let after = try BeamtimeCheck.run(dbPath: db)
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "after"))
        try writer.open { w in
            try w.openRun("after_kill")
            try w.openStream("primary")
            try w.writeEvent(["ok": true])
        }
        result.intact = integrity == ["ok"] && schemaConsistent && problemsFree && after.isHealthy
        if !result.intact {
            Issue.record("trial not intact: integrity \(integrity), version \(version), columns \(columns), problems \(report.problems), after \(after.openRuns)")
        }
        return result
    }

    /// A version-1 beamtime (no compression_codec) with a run, so the writer migrates it on open.
    func makeVersion1Beamtime(_ path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: BeamtimeSchemaSQLForTests.v2.replacingOccurrences(of: ", compression_codec TEXT", with: ""))
            try db.execute(sql: "PRAGMA user_version = 1")
            try db.execute(sql: "INSERT INTO runs (uid, plan_name, time_start, time_stop, exit_status) VALUES ('00000000000000000000000000000001', 'old', 1, 2, 'success')")
        }
        try queue.close()
    }
}
