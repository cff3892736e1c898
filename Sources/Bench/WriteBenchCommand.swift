import CommandLineSupport
import ArgumentParser
import Foundation
import Resonance

/// `resonance-bench write`: the writer and reader against baselines measured in the same run.
struct WriteBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
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
              resonance-bench
              resonance-bench --quick --json     # the smaller CI version, machine-readable
              resonance-bench --dir /data/tmp    # measure the disk the beamline writes to
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

    /// Raw uint16 frames (C order, `--frame-size` square) for scripts/bench_peer.py: the
    /// writer writes them once (default codec and layout) and prints its time as JSON.
    @Option(help: .hidden)
    var framesFile: String?
    @Option(help: .hidden)
    var frameSize: Int = 512

    /// Layouts the frames writer also runs with, beside the default (e.g. chunk-per-frame).
    @Option(help: .hidden)
    var alsoLayouts: String?

    /// Frames to write in a memory soak (cycling the generated frames), RSS printed along.
    @Option(help: .hidden)
    var soak: Int?

    /// Seconds the writer writes per run in the live phase (default 6; 2 with --quick).
    @Option(help: .hidden)
    var liveSeconds: Double?
    /// Page-cache windows the live phase also runs, as `seconds:MiB` (comma-separated),
    /// beside the writer's standard window and the last 32 frames.
    @Option(help: .hidden)
    var liveWindows: String?

    func validate() throws {
        let known: Set<String> = ["events", "frames", "reading", "detector", "live"]
        for p in phases.split(separator: ",") where !known.contains(String(p)) {
            throw ValidationError("unknown phase \(p.debugDescription): choose from events, frames, reading, detector, live")
        }
        _ = try extraWindows()
    }

    func run() throws {
        var plan = quick ? BenchPlan.quick : BenchPlan.full
        if let sizes {
            // Sizes beyond the plan's: as many frames as 512x512 has, times the pixel ratio, up to 20,000.
            let wanted = sizes.split(separator: ",").compactMap { Int($0) }
            let base = plan.frameSets.last!
            plan.frameSets = wanted.map { size in
                plan.frameSets.first { $0.size == size } ?? (size, min(20_000, base.count * base.size * base.size / (size * size)))
            }
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

        if let framesFile {
            try writePeerFrames(framesFile, root: root)
            return
        }
        let selected = Set(phases.split(separator: ",").map(String.init))
        if selected.contains("detector") {
            // Not part of the default phases: the simulator, not the writer (the demo's frames).
            let bench = DetectorBench(size: quick ? 512 : 2048, frames: quick ? 4 : 20, repetitions: plan.repetitions)
            Output.print(bench.text(bench.run()))
            if selected.count == 1 { return }
        }
        if selected.contains("live") {
            // Not part of the default phases: a reader beside the writer, page-cache windows compared.
            let bench = LiveReadingBench(windows: [.lastFrames, .standard] + (try extraWindows()),
                                         seconds: liveSeconds ?? (quick ? 2 : 6), repetitions: plan.repetitions, dir: root)
            let log = PhaseLog(enabled: true)
            var results: [LiveReadingBench.SizeResult] = []
            for spec in plan.frameSets {
                log.say("live: generating \(min(spec.count, 1000)) frames of \(spec.size)x\(spec.size)")
                let set = FrameSet.generate(size: spec.size, count: min(spec.count, 1000))
                log.say("live: \(set.label)")
                results.append(try bench.run(set))
            }
            Output.print(bench.text(results))
            if selected.count == 1 { return }
        }
        var report = BenchReport(plan: plan, directory: root)
        let started = now()
        let progress = PhaseLog(enabled: !json)

        var eventsDB: String?
        if selected.contains("events") {
            progress.say("events: preparing \(grouped(Double(plan.events))) events")
            let bench = EventsBench(count: plan.events, repetitions: plan.repetitions, dir: root)
            progress.say("events: RunWriter, RunWriter synced at checkpoints only, and the raw SQLite baseline, in turn")
            var writer = Timing(), crashOnly = Timing(), baseline = Timing()
            for _ in 0..<plan.repetitions {
                let (timing, path) = try bench.runWriter(repetitions: 1)
                writer.append(timing)
                if let eventsDB, eventsDB != path { EventsBench.retireDatabase(eventsDB) }
                eventsDB = path
                let (unsynced, unsyncedPath) = try bench.runWriter(repetitions: 1, durability: .processCrash)
                crashOnly.append(unsynced)
                EventsBench.retireDatabase(unsyncedPath)
                baseline.append(try bench.runBaseline(repetitions: 1))
            }
            report.events = EventsResult(count: plan.events, writer: writer, writerCrashOnly: crashOnly, baseline: baseline)
        }

        if let soak {
            let spec = plan.frameSets[0]
            let set = FrameSet.generate(size: spec.size, count: spec.count)
            try FramesBench(repetitions: 1, dir: root).soak(set, frames: soak, codec: plan.codecs[0])
            return
        }

        var framesDB: String?
        if selected.contains("frames") {
            var bench = FramesBench(repetitions: plan.repetitions, dir: root)
            bench.otherLayouts = try (alsoLayouts ?? "").split(separator: ",").map {
                guard let layout = FrameLayout(name: String($0)) else { throw ValidationError("unknown layout \($0)") }
                return layout
            }
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

extension WriteBenchCommand {
    /// `--live-windows`: `seconds:MiB` pairs, each the last 32 frames or that many seconds
    /// of frames up to that many MiB.
    func extraWindows() throws -> [PageCacheWindow] {
        try (liveWindows ?? "").split(separator: ",").map { text in
            let parts = text.split(separator: ":")
            guard parts.count == 2, let seconds = Double(parts[0]), let mib = Int(parts[1]), seconds >= 0, mib >= 0 else {
                throw ValidationError("--live-windows: \(String(text).debugDescription) is not seconds:MiB, e.g. 2:512")
            }
            return PageCacheWindow(frames: 32, seconds: seconds, bytes: mib << 20)
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

extension WriteBenchCommand {
    /// The writer on frames another program made (scripts/bench_peer.py): one timed write of
    /// every frame (writeEvent + writeFrame each, then closeRun), printed as JSON.
    func writePeerFrames(_ path: String, root: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let frameBytes = frameSize * frameSize * 2
        guard frameBytes > 0, data.count % frameBytes == 0 else {
            throw ValidationError("\(path): \(data.count) bytes are not whole \(frameSize)x\(frameSize) uint16 frames")
        }
        let count = data.count / frameBytes
        let frames = (0..<count).map { k in
            Frame<UInt16>(rows: frameSize, columns: frameSize, pixels: data.withUnsafeBytes { raw in
                Array(UnsafeRawBufferPointer(rebasing: raw[(k * frameBytes)..<((k + 1) * frameBytes)]).bindMemory(to: UInt16.self))
            })
        }
        let set = FrameSet(size: frameSize, frames: frames, energies: (0..<count).map { 280 + Double($0) * 0.01 })
        let (timing, _, _) = try FramesBench(repetitions: 1, dir: root).writer(set, codec: .default, keepLast: false)
        Output.printJSON(["frames": .int(Int64(count)), "seconds": .double(timing.medianSeconds),
                          "cpu_s": .double(median(timing.cpuSeconds)), "fps": .double(timing.rate(count)),
                          "layout": .string(FrameLayout.automatic(frameBytes: frameBytes).description)])
    }
}
