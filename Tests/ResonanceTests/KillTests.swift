import Foundation
import GRDB
import Resonance
import Testing

/// A child process writing through the public API, killed with SIGKILL.
final class ChildWriter {
    let process = Process()
    private let pipe = Pipe()
    private var buffer = Data()
    /// Lines the child reported, with the time each arrived.
    private(set) var lines: [(line: String, at: Date)] = []

    /// `layout`: the writer's frame layout (`FrameLayout(name:)`), else its default.
    init(_ arguments: [String], layout: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: builtExecutable("ResonanceFaultWriter"))
        process.arguments = arguments
        if let layout {
            process.environment = ProcessInfo.processInfo.environment.merging(["RESONANCE_FRAME_LAYOUT": layout]) { $1 }
        }
        process.standardOutput = pipe
        process.standardError = FileHandle.standardError
        try process.run()
    }

    /// Reads reported lines until `done` says stop or `timeout` passes.
    func read(timeout: TimeInterval, until done: ([(line: String, at: Date)]) -> Bool) {
        let handle = pipe.fileHandleForReading
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && !done(lines) && process.isRunning {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            let now = Date()
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append((String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self), now))
                buffer.removeSubrange(buffer.startIndex...newline)
            }
        }
    }

    /// SIGKILL, then wait for the process to be gone. Returns the kill time.
    @discardableResult
    func kill() -> Date {
        let at = Date()
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return at
    }
}

@Suite("Kill")
struct KillTests {
    let dir = TempDir()

    @Test func sigkillMidRunLosesAtMostTheCommitInterval() throws {
        let db = dir.file("killed.db")
        let interval = 0.5
        let child = try ChildWriter([db, "events", "\(interval)"])
        // Let it write for a while: several commit intervals' worth of events.
        let start = Date()
        child.read(timeout: 20) { _ in Date().timeIntervalSince(start) > 2.2 }
        let killedAt = child.kill()
        #expect(child.process.terminationReason == .uncaughtSignal)
        let run = try #require(child.lines.first { $0.line.hasPrefix("R ") }).line.dropFirst(2)
        let written = child.lines.filter { $0.line.hasPrefix("E ") }
        #expect(written.count > 500)

        // The file is intact and readable by any SQLite client (here: GRDB read-only).
        let integrity = try inspect(db) { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
        #expect(integrity == "ok")
        let stored = try inspect(db) { db in
            Set(try String.fetchAll(db, sql: "SELECT e.uid FROM events e JOIN streams s ON s.uid = e.stream_uid WHERE s.run_uid = ?", arguments: [String(run)]))
        }
        let runRow = try inspect(db) { try Row.fetchOne($0, sql: "SELECT plan_name, time_stop FROM runs WHERE uid = ?", arguments: [String(run)]) }
        #expect(runRow?["plan_name"] == "fault_scan")
        #expect(runRow?["time_stop"] as Double? == nil)  // left open by the dead writer

        // Every event the writer returned more than one interval (plus scheduling slack)
        // before the kill survived; only the last instant may be lost.
        let slack = 0.3
        var old = 0, oldLost = 0
        for (line, at) in written where killedAt.timeIntervalSince(at) > interval + slack {
            old += 1
            if !stored.contains(String(line.split(separator: " ")[2])) { oldLost += 1 }
        }
        let survived = written.filter { stored.contains(String($0.line.split(separator: " ")[2])) }.count
        print("kill test: \(written.count) events returned by writeEvent, \(stored.count) in the file (\(survived) of the reported ones), \(written.count - survived) lost, of which \(oldLost) older than \(interval + slack) s (of \(old))")
        #expect(old > 0)
        #expect(oldLost == 0)
        // Events survive as a prefix: seq_num 1...n without gaps.
        let seqs = try inspect(db) { try Int.fetchAll($0, sql: "SELECT seq_num FROM events ORDER BY seq_num") }
        #expect(seqs == Array(1...max(seqs.count, 1)).prefix(seqs.count).map { $0 })

        // A new writer appends to the file the dead one left.
        let next = RunWriter(dbPath: db, sample: SampleMetadata(name: "fault-sample"))
        try next.open { w in
            try w.openRun("after_kill")
            try w.openStream("primary")
            try w.writeEvent(["x": 1])
        }
        #expect(try inspect(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs") } == 2)
    }

    @Test func sigkillDuringCloseRunLeavesEveryRunConsistent() throws {
        let db = dir.file("closing.db")
        let child = try ChildWriter([db, "closing", "1.0"])
        child.read(timeout: 20) { lines in lines.count >= 8 }
        child.kill()
        let closed = Set(child.lines.map { String($0.line.dropFirst(2)) })
        #expect(closed.count >= 8)
        #expect(try inspect(db) { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
        let runs = try inspect(db) { try Row.fetchAll($0, sql: "SELECT r.uid, r.exit_status, r.num_events, (SELECT COUNT(*) FROM events e JOIN streams s ON s.uid = e.stream_uid WHERE s.run_uid = r.uid) AS n FROM runs r") }
        for run in runs {
            let uid: String = run["uid"]
            if closed.contains(uid) {
                // closeRun returned: the run is closed with all its events.
                #expect(run["exit_status"] == "success")
                #expect(run["n"] == 50)
                #expect(run["num_events"] == 50)
            } else if (run["exit_status"] as String?) != nil {
                // Closed, but the report line was cut by the kill: still complete.
                #expect(run["n"] == 50)
            }
        }
    }

    @Test func sigkillMidFrameLeavesEveryReferencedFrameReadable() throws {
        let db = dir.file("frames.db")
        // A file per frame, then shards of 8 frames (kills land mid-shard and past shard
        // boundaries), then the default (256x256 frames: shards of 512).
        for (trial, layout) in ["chunk-per-frame", "sharded-8", "automatic"].enumerated() {
            let child = try ChildWriter([db, "frames", "0.3"], layout: layout)
            // Kill at a different moment each time, counted from the first image ref of this
            // trial committed in the file: how long a frame takes to become durable depends on
            // what else the machine writes (syncfs), and a kill before any ref would check nothing.
            let lifetime = 0.6 + 0.37 * Double(trial)
            let refsBefore = (try? inspect(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM image_refs") ?? 0 }) ?? 0
            var firstRef: Date?
            var lastLook = Date.distantPast
            child.read(timeout: 20) { _ in
                if firstRef == nil, Date().timeIntervalSince(lastLook) > 0.05 {
                    lastLook = Date()
                    let refs = (try? inspect(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM image_refs") ?? 0 }) ?? 0
                    if refs > refsBefore { firstRef = lastLook }
                }
                guard let firstRef else { return false }
                return Date().timeIntervalSince(firstRef) > lifetime
            }
            child.kill()
            #expect(child.lines.count > 3)
            // Python (sqlite3 + zarr-python) checks every reference against its frame.
            let script = """
                import sys, sqlite3, json, numpy as np, zarr
                con = sqlite3.connect(sys.argv[1])
                assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                rows = con.execute("SELECT r.zarr_group, r.index_in_stack, e.data FROM image_refs r JOIN events e ON e.uid = r.event_uid").fetchall()
                store = sys.argv[1][:-3] + ".zarr"
                checked = 0
                for group, index, data in rows:
                    a = zarr.open_array(store, path=group, mode="r")
                    assert index < a.shape[0], (group, index, a.shape)
                    seq = json.loads(data)["seq"]
                    want = ((seq * 31 + np.arange(256 * 256)) % 65536).astype(np.uint16).reshape(256, 256)
                    assert np.array_equal(a[index], want), (group, index, seq)
                    checked += 1
                print(checked)
                """
            let checked = Int(try runPython(script, [db]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            print("kill test (frames) trial \(trial), \(layout): \(child.lines.count - 1) frames reported, \(checked) referenced frames checked")
            #expect(checked > 0)
        }
    }
}
