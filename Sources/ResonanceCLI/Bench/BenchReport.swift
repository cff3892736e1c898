import Foundation
import Resonance

struct EventsResult {
    var count: Int
    var writer: Timing
    /// The writer with `synchronous = NORMAL`: what syncing each commit costs.
    var writerCrashOnly: Timing
    var baseline: Timing
    var ratio: Double { writer.rate(count) / baseline.rate(count) }
}

struct FrameSetResult {
    var size: Int
    var count: Int
    var rawBytes: Int
    var codecs: [CodecResult]
    var frameBytes: Int { rawBytes / max(count, 1) }
}

struct ReadingResult {
    var events: Int
    var table: Timing?
    var frameSize: Int
    var frames: Int
    var resultBytes: Int
    /// Per repetition: mean seconds per random frame.
    var randomFrame: Timing?
    var randomFrameBaseline: Timing?
    var randomCount: Int
    var wholeRun: Timing?
    var wholeRunBaseline: Timing?
}

/// One target of the issue and whether this run met it.
struct Goal {
    var name: String
    var measured: Double
    var target: Double
    /// ">=" or "<=" or "<".
    var comparison: String
    var unit: String

    var met: Bool {
        switch comparison {
        case ">=": return measured >= target
        case "<=": return measured <= target
        default: return measured < target
        }
    }
}

struct BenchReport {
    var plan: BenchPlan
    var directory: String
    var date = Date()
    /// The 1-minute load average when the benchmark started: other work on the machine.
    var loadAtStart = Machine.load
    var events: EventsResult?
    var frames: [FrameSetResult] = []
    var reading: ReadingResult?
    var elapsed: Double = 0

    static var build: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    var dateText: String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm"
        f.locale = Locale(identifier: "en_US_POSIX")
        return f.string(from: date)
    }

    // MARK: Goals

    var goals: [Goal] {
        var goals: [Goal] = []
        if let events {
            goals.append(Goal(name: "events: RunWriter / raw SQLite", measured: events.ratio, target: 0.85, comparison: ">=", unit: "x"))
        }
        for set in frames {
            guard let d = set.codecs.first(where: { $0.codec == .default }) else { continue }
            let label = "\(set.size)x\(set.size) \(d.codec.name)"
            goals.append(Goal(name: "frames \(label): writer / slower baseline", measured: d.ratioToSlowerBaseline, target: 0.85, comparison: ">=", unit: "x"))
            if set.size == 2048 {
                goals.append(Goal(name: "frames \(label): frames/s", measured: d.writer.rate(set.count), target: 60, comparison: ">=", unit: "fps"))
            } else if set.size == 512 {
                goals.append(Goal(name: "frames \(label): frames/s", measured: d.writer.rate(set.count), target: 1000, comparison: ">=", unit: "fps"))
            }
            goals.append(Goal(name: "frames \(label): compression ratio", measured: d.compressionRatio(FrameSetStub(set)), target: 2.0, comparison: ">=", unit: "x"))
            let drift = d.rssDrift.max() ?? 0
            goals.append(Goal(name: "frames \(label): RSS growth from 1/4 to all frames written", measured: Double(drift) / 1e6, target: 64, comparison: "<", unit: "MB"))
        }
        if let r = reading {
            if let t = r.table {
                goals.append(Goal(name: "reading: table() of \(grouped(Double(r.events))) events", measured: t.medianSeconds, target: 0.1, comparison: "<=", unit: "s"))
            }
            if let t = r.randomFrame {
                goals.append(Goal(name: "reading: one random \(r.frameSize)x\(r.frameSize) frame", measured: t.medianSeconds * 1000, target: 5, comparison: "<=", unit: "ms"))
            }
            if let t = r.wholeRun, let b = r.wholeRunBaseline {
                goals.append(Goal(name: "reading: whole run / decode-only", measured: b.medianSeconds / t.medianSeconds, target: 0.85, comparison: ">=", unit: "x"))
                let peak = Double(t.peakGrowth.max() ?? 0) / Double(max(r.resultBytes, 1))
                goals.append(Goal(name: "reading: whole run peak memory / result size", measured: peak, target: 1.15, comparison: "<", unit: "x"))
            }
        }
        return goals
    }

    // MARK: JSON

    var json: JSONValue {
        var o: JSONObject = [
            "schema": "resonance-bench/1",
            "date": .string(ISO8601DateFormatter().string(from: date)),
            "quick": .bool(plan.quick),
            "build": .string(Self.build),
            "repetitions": .int(Int64(plan.repetitions)),
            "machine": Machine.json,
            "load_average_at_start": .double(loadAtStart),
        ]
        if let events {
            o["events"] = [
                "count": .int(Int64(events.count)),
                "fields": .int(Int64(EventsBench.fields.count)),
                "writer": events.writer.json(items: events.count),
                "writer_synced_at_checkpoints_only": events.writerCrashOnly.json(items: events.count),
                "baseline": events.baseline.json(items: events.count),
                "baseline_description": "raw SQLite C API, one prepared statement, one transaction, same pre-made uids and JSON texts; WAL, synchronous NORMAL, foreign keys on, cache_size SQLite default (2 MiB, as the writer)",
                "ratio": .double(events.ratio),
            ]
        } else {
            o["events"] = .null
        }
        o["frames"] = .array(frames.map { set in
            [
                "rows": .int(Int64(set.size)), "columns": .int(Int64(set.size)), "dtype": "uint16",
                "count": .int(Int64(set.count)), "raw_bytes": .int(Int64(set.rawBytes)),
                "codecs": .array(set.codecs.map { c in
                    [
                        "codec": .string(c.codec.name),
                        "default": .bool(c.codec == .default),
                        "compression_ratio": .double(c.compressionRatio(FrameSetStub(set))),
                        "encoded_bytes": .int(Int64(c.encodedBytes)),
                        "writer": c.writer.json(items: set.count, bytes: set.rawBytes),
                        "codec_only": c.codecOnly.json(items: set.count, bytes: set.rawBytes),
                        "disk_only": c.diskOnly.json(items: set.count, bytes: c.encodedBytes),
                        "ratio_to_slower_baseline": .double(c.ratioToSlowerBaseline),
                        "cpu_limit_per_s": .double(c.cpuLimitRate(frames: set.count)),
                        "ratio_to_cpu_limit": .double(c.writer.rate(set.count) / c.cpuLimitRate(frames: set.count)),
                        "rss_drift_bytes": .int(Int64(c.rssDrift.max() ?? 0)),
                    ]
                }),
            ]
        })
        if let r = reading {
            var read: JSONObject = [
                "events": .int(Int64(r.events)),
                "frame_rows": .int(Int64(r.frameSize)), "frame_columns": .int(Int64(r.frameSize)),
                "frames": .int(Int64(r.frames)), "result_bytes": .int(Int64(r.resultBytes)),
                "random_frames": .int(Int64(r.randomCount)),
            ]
            read["table"] = r.table.map { $0.json(items: r.events) } ?? .null
            read["random_frame"] = r.randomFrame.map { $0.json() } ?? .null
            read["random_frame_decode_only"] = r.randomFrameBaseline.map { $0.json() } ?? .null
            read["whole_run"] = r.wholeRun.map { $0.json(items: r.frames, bytes: r.resultBytes) } ?? .null
            read["whole_run_decode_only"] = r.wholeRunBaseline.map { $0.json(items: r.frames, bytes: r.resultBytes) } ?? .null
            o["reading"] = .object(read)
        } else {
            o["reading"] = .null
        }
        o["goals"] = .array(goals.map { g in
            ["name": .string(g.name), "measured": .double(g.measured), "target": .double(g.target),
             "comparison": .string(g.comparison), "unit": .string(g.unit), "met": .bool(g.met)]
        })
        o["elapsed_s"] = .double(elapsed)
        return .object(o)
    }

    // MARK: Text

    var text: String {
        var out: [String] = []
        out.append("resonance bench\(plan.quick ? " --quick" : "") — \(dateText), \(Self.build) build, median of \(plan.repetitions) repetitions")
        out.append("machine: \(Machine.description); 1-min load average \(String(format: "%.2f", loadAtStart)) before the start")
        out.append("peak RSS +: rise of VmHWM over the RSS at the start of the timed part")
        if let e = events {
            out.append("")
            out.append("Events: \(grouped(Double(e.count))) events of \(EventsBench.fields.count) float fields + a timestamp per field, one stream")
            var t = TextTable(["", "median", "events/s", "peak RSS +", "vs baseline"], rightAligned: [1, 2, 3, 4])
            t.append(["RunWriter (commit interval 1 s, each commit synced)", Format.seconds(e.writer.medianSeconds), grouped(e.writer.rate(e.count)),
                      megabytes(e.writer.peakGrowth.max() ?? 0), ratioText(e.ratio)])
            t.append(["RunWriter, synced at checkpoints only", Format.seconds(e.writerCrashOnly.medianSeconds), grouped(e.writerCrashOnly.rate(e.count)),
                      megabytes(e.writerCrashOnly.peakGrowth.max() ?? 0), ratioText(e.writerCrashOnly.rate(e.count) / e.baseline.rate(e.count))])
            t.append(["raw SQLite C API, 1 transaction", Format.seconds(e.baseline.medianSeconds), grouped(e.baseline.rate(e.count)),
                      megabytes(e.baseline.peakGrowth.max() ?? 0), "1.00"])
            out.append(t.render())
            out.append("(baseline: one prepared statement, same uids and JSON texts, WAL, synchronous NORMAL, foreign keys on, default 2 MiB page cache as the writer's)")
        }
        for set in frames {
            out.append("")
            out.append("Frames: \(set.count) x \(set.size)x\(set.size) uint16 (\(megabytes(set.rawBytes)) raw), synthetic detector images")
            var t = TextTable(
                ["codec", "ratio", "writer fps", "MB/s", "codec-only fps", "disk-only fps", "vs slower", "CPU limit fps", "vs CPU limit", "peak RSS +", "RSS drift"],
                rightAligned: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
            for c in set.codecs {
                t.append([
                    c.codec.name + (c.codec == .default ? " (default)" : ""),
                    ratioText(c.compressionRatio(FrameSetStub(set))),
                    grouped(c.writer.rate(set.count), decimals: 1),
                    grouped(Double(set.rawBytes) / c.writer.medianSeconds / 1e6),
                    grouped(c.codecOnly.rate(set.count), decimals: 1),
                    grouped(c.diskOnly.rate(set.count), decimals: 1),
                    ratioText(c.ratioToSlowerBaseline),
                    grouped(c.cpuLimitRate(frames: set.count), decimals: 1),
                    ratioText(c.writer.rate(set.count) / c.cpuLimitRate(frames: set.count)),
                    megabytes(c.writer.peakGrowth.max() ?? 0),
                    megabytes(c.rssDrift.max() ?? 0),
                ])
            }
            out.append(t.render())
            let layout = FrameLayout.automatic(frameBytes: set.frameBytes)
            for c in set.codecs {
                for (other, writer) in c.otherLayouts {
                    out.append("  \(c.codec.name), writer with layout \(other) (default here: \(layout)): \(grouped(writer.rate(set.count), decimals: 1)) fps"
                        + " = \(ratioText(writer.rate(set.count) / c.codecOnly.rate(set.count))) x codec-only"
                        + " (default layout \(ratioText(c.writer.rate(set.count) / c.codecOnly.rate(set.count))) x)")
                }
            }
        }
        if frames.count > 0 {
            out.append("(writer: writeEvent + writeFrame per frame, then closeRun, which commits the image_refs after syncing the files;")
            out.append(" codec-only: the same frames encoded on all cores, no I/O; disk-only: the compressed bytes written as the store's chunk files")
            out.append(" (c/<k>/0/0: two folders and a file per frame), writeback started and page cache handed back as the writer does, then syncfs;")
            out.append(" CPU limit: frames/s if the CPU time of codec-only and of disk-only shared all \(Machine.cores) cores perfectly, the most a writer doing both can reach;")
            out.append(" MB/s of uncompressed pixels; RSS drift: RSS growth from a quarter of the frames written to all)")
        }
        if let r = reading {
            out.append("")
            out.append("Reading")
            var t = TextTable(["", "reader", "decode-only", "vs baseline", "peak RSS +"], rightAligned: [1, 2, 3, 4])
            if let table = r.table {
                t.append(["table() of \(grouped(Double(r.events))) events", Format.seconds(table.medianSeconds), "-", "-", megabytes(table.peakGrowth.max() ?? 0)])
            }
            if let f = r.randomFrame {
                let b = r.randomFrameBaseline
                t.append(["random \(r.frameSize)x\(r.frameSize) frame (\(r.randomCount) reads)", String(format: "%.2f ms", f.medianSeconds * 1000),
                          b.map { String(format: "%.2f ms", $0.medianSeconds * 1000) } ?? "-",
                          b.map { ratioText($0.medianSeconds / f.medianSeconds) } ?? "-", megabytes(f.peakGrowth.max() ?? 0)])
            }
            if let w = r.wholeRun {
                let b = r.wholeRunBaseline
                t.append(["whole run: \(r.frames) frames into one buffer (\(megabytes(r.resultBytes)))", Format.seconds(w.medianSeconds),
                          b.map { Format.seconds($0.medianSeconds) } ?? "-",
                          b.map { ratioText($0.medianSeconds / w.medianSeconds) } ?? "-", megabytes(w.peakGrowth.max() ?? 0)])
            }
            out.append(t.render())
        }
        let goals = self.goals
        if !goals.isEmpty {
            out.append("")
            out.append(plan.quick ? "Goals (--quick: too few frames and events for the targets; a smoke test, not a measurement)" : "Goals")
            var t = TextTable(["goal", "measured", "target", "met"], rightAligned: [1])
            for g in goals {
                let value = g.unit == "fps" ? grouped(g.measured, decimals: 1) : String(format: "%.2f", g.measured)
                t.append([g.name, value + " " + g.unit, "\(g.comparison) \(g.target.formatted()) \(g.unit)", g.met ? "yes" : "NO"])
            }
            out.append(t.render())
        }
        out.append("")
        out.append("total \(Format.seconds(elapsed))")
        return out.joined(separator: "\n")
    }
}

/// The bits of a FrameSet a result needs once the frames are gone.
struct FrameSetStub {
    let rawBytes: Int
    init(_ set: FrameSetResult) { rawBytes = set.rawBytes }
}

extension CodecResult {
    func compressionRatio(_ set: FrameSetStub) -> Double { Double(set.rawBytes) / Double(max(encodedBytes, 1)) }
}
