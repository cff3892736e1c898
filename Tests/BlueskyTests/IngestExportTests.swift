import Foundation
import Testing

/// `resonance ingest` and `resonance export --documents` on documents of real Bluesky
/// plans run on ophyd's simulated devices (Tests/BlueskyTests/python/run_plans.py):
/// count, scan, grid_scan, list_scan (event_pages, datum_pages, NPY_SEQ files), two
/// descriptors of one stream, 1-D arrays and NaN, 2-D arrays in events, AD_TIFF files, a
/// failing plan and an aborted one.
@Suite struct IngestExportTests {
    @Test func realPlansAreRecordedValueForValue() throws {
        let docs = try PlanDocuments.get()
        let dir = TempDir()
        let db = dir.file("bt.db")
        let result = try resonance("ingest", db, docs.jsonl)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "\(db): runs 11, events 48, frames 14, skipped 0, errors 0\n")
        // Every run, event value, array, frame (from events, .npy and .tiff files) and stop,
        // compared with the documents by Python.
        let check = try runScript("bluesky_checks.py", ["ingested", docs.jsonl, db])
        #expect(check == "ok runs=11 events=48 frames=14\n")
        let statuses = try query(db) { try String.fetchAll($0, sql: "SELECT plan_name || ':' || exit_status FROM runs ORDER BY time_start") }
        #expect(statuses.contains("failing:failed") && statuses.contains("aborted:aborted") && statuses.contains("grid_scan:success"))
        // Two descriptors of one stream: one stream, both descriptors kept.
        let configChange = try query(db) { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bluesky_documents d JOIN runs r ON r.uid = d.run_uid WHERE r.plan_name = 'config_change' AND d.kind = 'descriptor'")
        }
        #expect(configChange == 2)
    }

    @Test func ingestingAgainSkipsWhatIsRecorded() throws {
        let docs = try PlanDocuments.get()
        let dir = TempDir()
        let db = dir.file("bt.db")
        try #require(try resonance("ingest", db, docs.jsonl).status == 0)
        let again = try resonance("ingest", db, docs.jsonl, "--json")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("\"runs\": 0, \"events\": 0, \"frames\": 0"), "\(again.stdout)")
        #expect(again.stdout.contains("\"errors\": 0"))
        let lines = try PlanDocuments.lines()
        // Every document line is skipped once, every event of a page once more than its line.
        #expect(again.stdout.contains("\"skipped\": "))
        let skipped = Int(again.stdout.split(separator: "\"skipped\": ")[1].prefix { $0.isNumber })!
        #expect(skipped >= lines.count)
        #expect(try runScript("bluesky_checks.py", ["ingested", docs.jsonl, db]) == "ok runs=11 events=48 frames=14\n")
    }

    @Test func exportValidatesAndIngestsBackToTheSameRuns() throws {
        let docs = try PlanDocuments.get()
        let dir = TempDir()
        let db = dir.file("bt.db")
        try #require(try resonance("ingest", db, docs.jsonl).status == 0)
        var all = ""
        for uid in try runUIDs(db) {
            let out = dir.file("\(uid).jsonl")
            let export = try resonance("export", db, uid, "--documents", "--output", out)
            #expect(export.status == 0 && export.stdout == out + "\n", "\(export.stderr)")
            // Schemas of event_model, and the original start, descriptors, events and stop.
            let check = try runScript("bluesky_checks.py", ["exported", out, docs.jsonl])
            #expect(check.hasPrefix("ok documents="))
            all += try String(contentsOfFile: out, encoding: .utf8)
        }
        #expect(all.contains("[\"stream_resource\", {") && all.contains("\"mimetype\": \"application/x-zarr\""))
        #expect(all.contains("[\"stream_datum\", {") && all.contains("[\"event_page\", {"))
        try all.write(toFile: dir.file("all-export.jsonl"), atomically: true, encoding: .utf8)
        let copy = dir.file("copy.db")
        let back = try resonance("ingest", copy, dir.file("all-export.jsonl"))
        #expect(back.stdout == "\(copy): runs 11, events 48, frames 14, skipped 0, errors 0\n", "\(back.stderr)")
        #expect(try runScript("bluesky_checks.py", ["same", db, copy]) == "ok runs=11\n")
    }

    @Test func exportOfARunNotFromBlueskyValidatesAndIngestsBack() throws {
        let dir = TempDir()
        let demo = try resonance("demo", "--out", dir.path, "--label", "demo", "--points", "6", "--frames", "3", "--size", "16")
        try #require(demo.status == 0, "\(demo.stderr)")
        let db = dir.file("demo.db")
        var all = ""
        for uid in try runUIDs(db) {
            let out = try resonance("export", db, uid, "--documents")
            #expect(out.status == 0, "\(out.stderr)")
            try out.stdout.write(toFile: dir.file("\(uid).jsonl"), atomically: true, encoding: .utf8)
            #expect(try runScript("bluesky_checks.py", ["valid", dir.file("\(uid).jsonl")]).hasPrefix("ok documents="))
            all += out.stdout
        }
        try all.write(toFile: dir.file("all.jsonl"), atomically: true, encoding: .utf8)
        let copy = dir.file("copy.db")
        let back = try resonance("ingest", copy, dir.file("all.jsonl"))
        #expect(back.status == 0 && back.stdout.contains("runs 2, events"), "\(back.stdout) \(back.stderr)")
        #expect(try runScript("bluesky_checks.py", ["same", db, copy]) == "ok runs=2\n")
    }

    @Test func aFolderDestinationUsesTheLabelAndSampleOptions() throws {
        let lines = try PlanDocuments.lines()
        // grid_scan's start names no sample: --sample applies. scan's names sample_name "PMMA".
        let grid = try #require(lines.firstIndex { $0.hasPrefix("[\"start\"") && $0.contains("\"plan_name\": \"grid_scan\"") })
        let scan = try #require(lines.firstIndex { $0.hasPrefix("[\"start\"") && $0.contains("\"plan_name\": \"scan\"") })
        let gridRun = lines[grid...].prefix { !$0.hasPrefix("[\"stop\"") } + [lines[grid...].first { $0.hasPrefix("[\"stop\"") }!]
        let scanRun = lines[scan...].prefix { !$0.hasPrefix("[\"stop\"") } + [lines[scan...].first { $0.hasPrefix("[\"stop\"") }!]
        let dir = TempDir()
        try ((gridRun + scanRun).joined(separator: "\n") + "\n").write(toFile: dir.file("in.jsonl"), atomically: true, encoding: .utf8)
        let folder = dir.file("beamtimes")
        let result = try resonance("ingest", folder, dir.file("in.jsonl"), "--label", "2026-03-05", "--sample", "Si wafer")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "\(folder)/2026-03-05.db: runs 2, events 19, frames 0, skipped 0, errors 0\n")
        let samples = try query(folder + "/2026-03-05.db") { db in
            try String.fetchAll(db, sql: "SELECT r.plan_name || '=' || s.name FROM runs r JOIN samples s ON s.id = r.sample_id ORDER BY r.time_start")
        }
        // By time_start, the start documents' times: scan ran before grid_scan.
        #expect(samples == ["scan=PMMA", "grid_scan=Si wafer"])
    }
}

import GRDB

