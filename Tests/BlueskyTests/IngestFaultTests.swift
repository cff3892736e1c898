import Foundation
import Testing

/// Bad input, and an ingest killed with SIGKILL.
@Suite struct IngestFaultTests {
    @Test func badLinesAreReportedWithTheirNumberAndTheRestIsRecorded() throws {
        let lines = try PlanDocuments.lines()
        // The first run of run_plans.py: count, 5 events. Its lines: start, descriptor, 5 events, stop.
        let start = lines[0], descriptor = lines[1], events = Array(lines[2..<7]), stop = lines[7]
        try #require(start.hasPrefix("[\"start\"") && descriptor.hasPrefix("[\"descriptor\"") && stop.hasPrefix("[\"stop\""))
        let foreignDescriptor = descriptor.replacingOccurrences(of: "\"run_start\": \"", with: "\"run_start\": \"0000")
            .replacingOccurrences(of: "\"uid\": \"", with: "\"uid\": \"x")
        let changedDescriptor = descriptor.replacingOccurrences(of: "\"name\": \"primary\"", with: "\"name\": \"primary\", \"extra\": 1")
        let input = [
            start, descriptor, events[0],                              // 1-3
            "{not json",                                               // 4
            "[\"bogus\", {}]",                                         // 5
            events[1].replacingOccurrences(of: "\"descriptor\": \"", with: "\"descriptor\": \"nope"),  // 6
            foreignDescriptor,                                         // 7
            start,                                                     // 8: a second start before the stop
            changedDescriptor,                                         // 9: uid seen with other content
            events[0],                                                 // 10: recorded already: skipped
            events[1], stop,                                           // 11-12
        ].joined(separator: "\n") + "\n"
        let dir = TempDir()
        try input.write(toFile: dir.file("bad.jsonl"), atomically: true, encoding: .utf8)
        let db = dir.file("bt.db")
        let result = try resonance("ingest", db, dir.file("bad.jsonl"))
        #expect(result.status == 1)
        #expect(result.stdout == "\(db): runs 1, events 2, frames 0, skipped 1, errors 6\n")
        let messages = result.stderr.split(separator: "\n").map(String.init)
        #expect(messages.count == 6, "\(result.stderr)")
        let expected = [
            "Error: line 4: malformed JSON",
            "Error: line 5: unknown document name \"bogus\"",
            "Error: line 6: event names descriptor nope",
            "Error: line 7: descriptor x",
            "Error: line 8: start ",
            "Error: line 9: descriptor ",
        ]
        for (message, prefix) in zip(messages, expected) { #expect(message.hasPrefix(prefix), "\(message)") }
        #expect(messages[5].hasSuffix("was recorded before with different content"))
        #expect(messages[4].contains("arrived before the stop of run"))
        // What was valid is recorded: the run, closed, with its two events.
        let run = try query(db) { try Row.fetchOne($0, sql: "SELECT exit_status, num_events FROM runs") }
        #expect(run?["exit_status"] == "success" && run?["num_events"] == 2)
    }

    @Test func anEventSeenAgainWithOtherValuesIsAnError() throws {
        let lines = Array(try PlanDocuments.lines()[0..<8])   // count: start, descriptor, 5 events, stop
        let dir = TempDir()
        let db = dir.file("bt.db")
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir.file("a.jsonl"), atomically: true, encoding: .utf8)
        try #require(try resonance("ingest", db, dir.file("a.jsonl")).status == 0)
        // The same documents, the third event's det2 reading changed.
        var changed = lines
        let event = changed[4]
        let uid = String(event.split(separator: "\"uid\": \"")[1].prefix(36))
        changed[4] = event.replacingOccurrences(of: "\"det2\": ", with: "\"det2\": 1")
        try #require(changed[4] != event)
        try (changed.joined(separator: "\n") + "\n").write(toFile: dir.file("b.jsonl"), atomically: true, encoding: .utf8)
        let again = try resonance("ingest", db, dir.file("b.jsonl"))
        #expect(again.status == 1)
        #expect(again.stderr == "Error: line 5: event \(uid) was recorded before with different content\n")
        #expect(again.stdout == "\(db): runs 0, events 0, frames 0, skipped 7, errors 1\n")
    }

    @Test func killedIngestLosesNothingOnceRerun() throws {
        let dir = TempDir()
        let docs = dir.file("long.jsonl")
        try runScript("scale_run.py", [docs, "4000"])
        let db = dir.file("bt.db")
        let ingest = try startCommand(builtExecutable("resonance"), ["ingest", db, docs])
        // Kill it once some events are committed (and long before it could finish).
        let deadline = Date().addingTimeInterval(60)
        var committed = 0
        while Date() < deadline, ingest.process.isRunning {
            committed = (try? query(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") ?? 0 }) ?? 0
            if committed >= 300 { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        kill(ingest.process.processIdentifier, SIGKILL)
        _ = ingest.wait()
        try #require(committed >= 300, "no events committed within 60 s")
        let partial = try query(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") ?? 0 }
        #expect(partial < 4000, "the ingest finished before the kill; the test proves nothing")
        let open = try query(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs WHERE time_stop IS NULL") }
        #expect(open == 1)

        let rerun = try resonance("ingest", db, docs)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("runs 1, events \(4000 - partial)"), "\(rerun.stdout)")
        // Every event and frame exactly once, value for value; the run closed.
        #expect(try runScript("bluesky_checks.py", ["ingested", docs, db]) == "ok runs=1 events=4000 frames=4000\n")
        let closed = try query(db) { try Row.fetchOne($0, sql: "SELECT exit_status, num_events FROM runs") }
        #expect(closed?["exit_status"] == "success" && closed?["num_events"] == 4000)
    }
}

import GRDB
