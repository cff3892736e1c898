import Foundation
import JSONValue
import Testing

/// `resonance-bench --quick --json` as CI runs it: it must finish and print every figure
/// with its baseline. Speed is not checked here (CI machines vary); the shape is.
@Suite("resonance-bench")
struct BenchCommandTests {
    let dir = TempDir()

    @Test func quickJSONHasEveryPhaseWithItsBaseline() throws {
        let result = try runCommand(builtExecutable("resonance-bench"), ["--quick", "--json", "--dir", dir.path])
        try #require(result.status == 0, "exit \(result.status): \(result.stderr)")
        let report = try JSONValue(parsing: result.stdout)

        #expect(report["schema"] == "resonance-bench/1")
        #expect(report["quick"] == true)
        #expect(report["repetitions"]?.intValue ?? 0 >= 3)
        #expect(report["machine"]?["cores"]?.intValue ?? 0 >= 1)
        #expect(report["date"]?.stringValue?.isEmpty == false)

        /// A timing: median and one duration per repetition, all positive.
        func checkTiming(_ value: JSONValue?, _ what: String, rate: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) {
            guard let value, let median = value["median_s"]?.doubleValue, let runs = value["runs_s"]?.arrayValue else {
                Issue.record("\(what): no timing in \(String(describing: value))", sourceLocation: sourceLocation)
                return
            }
            #expect(median > 0, "\(what)", sourceLocation: sourceLocation)
            #expect(runs.count >= 3, "\(what)", sourceLocation: sourceLocation)
            #expect(runs.allSatisfy { ($0.doubleValue ?? 0) > 0 }, "\(what)", sourceLocation: sourceLocation)
            if rate { #expect((value["per_s"]?.doubleValue ?? 0) > 0, "\(what)", sourceLocation: sourceLocation) }
        }

        // Events: the writer beside the raw SQLite baseline, and their ratio.
        let events = try #require(report["events"]?.objectValue)
        #expect((events["count"]?.intValue ?? 0) > 0)
        checkTiming(events["writer"], "events writer")
        checkTiming(events["writer_synced_at_checkpoints_only"], "events writer, synced at checkpoints only")
        checkTiming(events["baseline"], "events baseline")
        #expect((events["ratio"]?.doubleValue ?? 0) > 0)
        #expect(events["writer"]?["peak_rss_growth_bytes"]?.intValue != nil)

        // Frames: both sizes, every codec, each with codec-only and disk-only baselines.
        let sets = try #require(report["frames"]?.arrayValue)
        #expect(sets.map { $0["rows"]?.intValue } == [2048, 512])
        for set in sets {
            #expect(set["dtype"] == "uint16")
            #expect((set["count"]?.intValue ?? 0) > 0)
            let codecs = try #require(set["codecs"]?.arrayValue)
            #expect(codecs.map { $0["codec"]?.stringValue ?? "" } == ["blosc-zstd", "blosc-lz4", "zstd", "zstd-1", "gzip", "none"])
            #expect(codecs.filter { $0["default"] == true }.count == 1)
            for codec in codecs {
                let name = codec["codec"]?.stringValue ?? "?"
                checkTiming(codec["writer"], "\(name) writer")
                checkTiming(codec["codec_only"], "\(name) codec-only")
                checkTiming(codec["disk_only"], "\(name) disk-only")
                #expect((codec["compression_ratio"]?.doubleValue ?? 0) > 0.9, "\(name)")
                #expect((codec["ratio_to_slower_baseline"]?.doubleValue ?? 0) > 0, "\(name)")
                #expect(codec["rss_drift_bytes"]?.intValue != nil, "\(name)")
            }
        }

        // Reading: the event table, random frames and the whole run, with decode-only baselines.
        let reading = try #require(report["reading"]?.objectValue)
        #expect((reading["events"]?.intValue ?? 0) == events["count"]?.intValue)
        checkTiming(reading["table"], "table()")
        checkTiming(reading["random_frame"], "random frame", rate: false)
        checkTiming(reading["random_frame_decode_only"], "random frame decode-only", rate: false)
        checkTiming(reading["whole_run"], "whole run")
        checkTiming(reading["whole_run_decode_only"], "whole run decode-only")
        #expect((reading["result_bytes"]?.intValue ?? 0) == 2048 * 2048 * 2 * (sets[0]["count"]?.intValue ?? -1))

        // Goals: each with its measured value, target and verdict.
        let goals = try #require(report["goals"]?.arrayValue)
        #expect(goals.count >= 10)
        for goal in goals {
            #expect(goal["name"]?.stringValue?.isEmpty == false)
            #expect(goal["measured"]?.doubleValue != nil)
            #expect(goal["target"]?.doubleValue != nil)
            #expect([">=", "<=", "<"].contains(goal["comparison"]?.stringValue ?? ""))
            #expect(goal["met"]?.boolValue != nil)
        }

        // The benchmark's files are gone afterwards.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test func aMissingDirIsRefusedClearly() throws {
        let result = try runCommand(builtExecutable("resonance-bench"), ["--quick", "--dir", dir.file("nowhere")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("nowhere"), "\(result.stderr)")
    }
}
