import Foundation
import Testing

/// The Python callback (python/resonance_bluesky) on a real RunEngine, and `ingest --follow`.
@Suite struct RecorderTests {
    @Test func recorderRecordsARunEngineLive() throws {
        let dir = TempDir()
        let db = dir.file("bt.db")
        let out = try runScript("record_live.py", [builtExecutable("resonance"), db, dir.file("docs.jsonl")])
        #expect(out.hasSuffix("exit status 0\n"), "\(out)")
        #expect(out.contains("\(db): runs 2, events 9, frames 8, skipped 0, errors 0"))
        // The same documents, captured beside the Recorder, against the beamtime.
        #expect(try runScript("bluesky_checks.py", ["ingested", dir.file("docs.jsonl"), db]) == "ok runs=2 events=9 frames=8\n")
        let sample = try query(db) { try String.fetchOne($0, sql: "SELECT name FROM samples") }
        #expect(sample == "live-sample")
    }

    @Test func recorderReportsADeadChildOnTheNextDocument() throws {
        let dir = TempDir()
        let out = try runScript("record_live.py", [builtExecutable("resonance"), dir.file("bt.db"), dir.file("docs.jsonl"), "--kill-child"])
        #expect(out.hasPrefix("RecorderError: `"), "\(out)")
        #expect(out.contains("exited with status -9; the start document and those after it are not recorded"))
    }

    @Test func followReadsAGrowingFileUntilSIGTERM() throws {
        let lines = try PlanDocuments.lines()
        let firstRun = Array(lines[0..<8])  // count: start, descriptor, 5 events, stop
        try #require(firstRun.last!.hasPrefix("[\"stop\""))
        let dir = TempDir()
        let input = dir.file("live.jsonl")
        try (firstRun[0..<4].joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let db = dir.file("bt.db")
        let ingest = try startCommand(builtExecutable("resonance"), ["ingest", db, input, "--follow", "--json"])
        func events() -> Int { (try? query(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") ?? 0 }) ?? 0 }
        func waitFor(_ condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline { if condition() { return true }; Thread.sleep(forTimeInterval: 0.05) }
            return false
        }
        #expect(waitFor { events() == 2 })
        // The rest arrives later, the last line in two writes.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: input))
        handle.seekToEndOfFile()
        handle.write(Data((firstRun[4..<7].joined(separator: "\n") + "\n").utf8))
        let stop = firstRun[7]
        handle.write(Data(stop.prefix(20).utf8))
        #expect(waitFor { events() == 5 })
        Thread.sleep(forTimeInterval: 0.5)
        handle.write(Data((stop.dropFirst(20) + "\n").utf8))
        try handle.close()
        #expect(waitFor { (try? query(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs WHERE time_stop IS NOT NULL") }) == 1 })
        #expect(ingest.process.isRunning)
        kill(ingest.process.processIdentifier, SIGTERM)
        let result = ingest.wait()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"runs\": 1, \"events\": 5, \"frames\": 0, \"skipped\": 0, \"errors\": 0"), "\(result.stdout)")
    }
}

import GRDB
