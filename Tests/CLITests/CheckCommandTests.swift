import Foundation
import JSONValue
import Testing

@Suite("resonance check")
struct CheckCommandTests {
    let dir = TempDir()

    @Test func healthyDemoBeamtime() throws {
        let demo = try resonance("demo", "--out", dir.path, "--label", "bt", "--points", "20", "--frames", "3", "--size", "64")
        #expect(demo.status == 0, "\(demo.stderr)")
        let check = try resonance("check", dir.file("bt.db"))
        #expect(check.status == 0)
        #expect(check.stdout.contains("3 referenced frames read back, 0 problems"))
        #expect(check.stdout.contains("Healthy."))
        let json = try JSONValue(parsing: try resonance("check", dir.file("bt.db"), "--json").stdout)
        #expect(json["healthy"] == true)
        #expect(json["frames_checked"] == 3)
        #expect(json["open_runs"] == [])
    }

    /// A writer killed mid-run: check lists the run, --repair closes it, nothing is deleted.
    @Test func killedWriterIsListedAndRepaired() throws {
        let db = dir.file("killed.db")
        let child = Process()
        child.executableURL = URL(fileURLWithPath: builtExecutable("ResonanceFaultWriter"))
        child.arguments = [db, "frames", "0.2"]
        child.standardOutput = FileHandle.nullDevice
        try child.run()
        Thread.sleep(forTimeInterval: 1.5)
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()

        let check = try resonance("check", db, "--json")
        #expect(check.status == 1)
        let report = try JSONValue(parsing: check.stdout)
        let open = try #require(report["open_runs"]?.arrayValue)
        #expect(open.count == 1)
        #expect(open.first?["plan_name"] == "fault_frames")
        #expect(open.first?["being_written"] == false)
        #expect(report["problems"] == [])
        let uid = try #require(open.first?["uid"]?.stringValue)
        let events = try #require(open.first?["events"]?.intValue)

        let plain = try resonance("check", db)
        #expect(plain.stdout.contains(uid))
        #expect(plain.stdout.contains("--repair"))

        let repaired = try resonance("check", db, "--repair")
        #expect(repaired.status == 0, "\(repaired.stdout)\(repaired.stderr)")
        #expect(repaired.stdout.contains("closed run \(uid)"))
        let after = try runPython("""
            import sqlite3, json, sys
            con = sqlite3.connect(sys.argv[1])
            status, stop, n, meta = con.execute("SELECT exit_status, time_stop, num_events, metadata FROM runs WHERE uid=?", (sys.argv[2],)).fetchone()
            last = con.execute("SELECT MAX(e.time) FROM events e JOIN streams s ON s.uid=e.stream_uid WHERE s.run_uid=?", (sys.argv[2],)).fetchone()[0]
            count = con.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            print(status, stop == last, n, count, json.loads(meta)["repair"]["by"])
            """, [db, uid])
        #expect(after.trimmingCharacters(in: .whitespacesAndNewlines) == "failed True \(events) \(events) resonance check --repair")
        #expect(try resonance("check", db).status == 0)
    }

    /// A file per frame: frame 1's chunk cut in half. Sharded (the default for these small
    /// frames): the one shard cut in half, frame 1's bytes lost.
    @Test(arguments: ["chunk-per-frame", "automatic"])
    func corruptedChunkIsReportedWithItsPath(layout: String) throws {
        #expect(try resonance("demo", "--out", dir.path, "--label", "bt", "--points", "5", "--frames", "2", "--size", "32", "--layout", layout).status == 0)
        let suffix = layout == "automatic" ? "/c/0/0/0" : "/c/1/0/0"
        let chunks = (FileManager.default.enumerator(atPath: dir.file("bt.zarr"))?.allObjects as? [String] ?? []).filter { $0.hasSuffix(suffix) }
        let chunk = dir.file("bt.zarr/" + (try #require(chunks.first)))
        let bytes = try #require(FileManager.default.contents(atPath: chunk))
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: chunk))
        let check = try resonance("check", dir.file("bt.db"))
        #expect(check.status == 1)
        #expect(check.stdout.contains("frameUnreadable"))
        #expect(check.stdout.contains(chunk))
    }

    @Test func missingAndNonDatabaseFilesFailWithAClearMessage() throws {
        let missing = try resonance("check", dir.file("nope.db"))
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("nope.db: no such file"))
        try Data("hello".utf8).write(to: URL(fileURLWithPath: dir.file("text.db")))
        let text = try resonance("check", dir.file("text.db"))
        #expect(text.status != 0)
        #expect(text.stderr.contains("not an SQLite database"))
        #expect(text.stdout.isEmpty)
    }
}
