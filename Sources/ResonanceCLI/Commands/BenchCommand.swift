import ArgumentParser
import Foundation
import Resonance

/// `resonance bench`: the writer and reader against baselines measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure writing and reading speed against baselines measured on this machine.",
        discussion: """
            Every figure is the median of 3 repetitions and is printed beside a baseline measured \
            in the same run: the same event rows inserted with the raw SQLite C API; the same \
            frames compressed by the codec alone on all cores, and their compressed bytes \
            written to files with no codec work; the same chunks decoded alone on all cores. \
            Peak memory is the rise of the peak RSS (VmHWM) over the RSS at the start of each \
            timed part.

            Phases:
              events   100,000 events, 8 float fields with timestamps, one stream
              frames   100 frames of 2048x2048 and 1,000 of 512x512 uint16
                       (synthetic detector images, made before timing), every codec
              reading  the event table, random frames, a whole run into one buffer

            Examples:
              resonance bench
              resonance bench --quick --json     # the smaller CI version, machine-readable
              resonance bench --dir /data/tmp    # measure the disk the beamline writes to
            """
    )

    @Flag(help: "A smaller version of each phase (under 30 s; for CI smoke runs).")
    var quick = false

    @Flag(help: "Print the results as JSON instead of tables.")
    var json = false

    @Option(help: "Folder for the benchmark's files (default: a new folder in the temporary directory; removed afterwards).")
    var dir: String?

    @Option(help: .hidden)
    var phases: String = "events,frames,reading"

    @Option(help: .hidden)
    var codecs: String?

    @Option(help: .hidden)
    var sizes: String?

    /// Frames to write in a memory soak (cycling the generated frames), RSS printed along.
    @Option(help: .hidden)
    var soak: Int?

    func validate() throws {
        let known: Set<String> = ["events", "frames", "reading", "detector"]
        for p in phases.split(separator: ",") where !known.contains(String(p)) {
            throw ValidationError("unknown phase \(p.debugDescription): choose from events, frames, reading, detector")
        }
    }

    func run() throws {
        var plan = quick ? BenchPlan.quick : BenchPlan.full
        if let sizes {
            let wanted = Set(sizes.split(separator: ",").compactMap { Int($0) })
            plan.frameSets = plan.frameSets.filter { wanted.contains($0.size) }
        }
        if let codecs {
            plan.codecs = try codecs.split(separator: ",").map {
                guard let c = FrameCodec(name: String($0)) else { throw ValidationError("unknown codec \($0)") }
                return c
            }
        }
        let root: String
        let ownsRoot: Bool
        if let dir {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError("\(dir): no such folder (--dir takes an existing folder)")
            }
            root = (dir as NSString).appendingPathComponent("resonance-bench-\(getpid())")
            ownsRoot = true
        } else {
            root = NSTemporaryDirectory() + "resonance-bench-\(getpid())"
            ownsRoot = true
        }
        removeItem(root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if ownsRoot { removeItem(root) } }

        let selected = Set(phases.split(separator: ",").map(String.init))
        if selected.contains("detector") {
            // Not part of the default phases: the simulator, not the writer (the demo's frames).
            let bench = DetectorBench(size: quick ? 512 : 2048, frames: quick ? 4 : 20, repetitions: plan.repetitions)
            Output.print(bench.text(bench.run()))
            if selected.count == 1 { return }
        }
        var report = BenchReport(plan: plan, directory: root)
        let started = now()
        let progress = PhaseLog(enabled: !json)

        var eventsDB: String?
        if selected.contains("events") {
            progress.say("events: preparing \(grouped(Double(plan.events))) events")
            let bench = EventsBench(count: plan.events, repetitions: plan.repetitions, dir: root)
            progress.say("events: RunWriter and the raw SQLite baseline, in turn")
            var writer = Timing(), baseline = Timing()
            for _ in 0..<plan.repetitions {
                let (timing, path) = try bench.runWriter(repetitions: 1)
                writer.append(timing)
                if let eventsDB, eventsDB != path { EventsBench.retireDatabase(eventsDB) }
                eventsDB = path
                baseline.append(try bench.runBaseline(repetitions: 1))
            }
            report.events = EventsResult(count: plan.events, writer: writer, baseline: baseline)
        }

        if let soak {
            let spec = plan.frameSets[0]
            let set = FrameSet.generate(size: spec.size, count: spec.count)
            try FramesBench(repetitions: 1, dir: root).soak(set, frames: soak, codec: plan.codecs[0])
            return
        }

        var framesDB: String?
        if selected.contains("frames") {
            let bench = FramesBench(repetitions: plan.repetitions, dir: root)
            for (index, spec) in plan.frameSets.enumerated() {
                progress.say("frames: generating \(spec.count) frames of \(spec.size)x\(spec.size)")
                let set = FrameSet.generate(size: spec.size, count: spec.count)
                var results: [CodecResult] = []
                for codec in plan.codecs {
                    progress.say("frames: \(set.label) \(codec.name)")
                    let (r, kept) = try bench.run(set, codecs: [codec], keepDefault: index == 0 && selected.contains("reading"))
                    results += r
                    if let kept { framesDB = kept }
                }
                report.frames.append(FrameSetResult(size: set.size, count: set.count, rawBytes: set.rawBytes, codecs: results))
            }
        }

        if selected.contains("reading") {
            progress.say("reading")
            report.reading = try ReadingBench(
                repetitions: plan.repetitions, randomFrames: plan.randomFrames, dir: root
            ).run(eventsDB: eventsDB, framesDB: framesDB)
        }
        report.elapsed = now() - started

        if json {
            Output.printJSON(report.json)
        } else {
            Output.print(report.text)
        }
    }
}

/// Progress lines on stderr (not with --json, whose stdout must stay clean anyway).
struct PhaseLog {
    let enabled: Bool
    let start = now()
    func say(_ text: String) {
        guard enabled else { return }
        Output.message(String(format: "[%6.1f s] ", now() - start) + text)
    }
}
