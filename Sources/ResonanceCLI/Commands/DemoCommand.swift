import CommandLineSupport
import ArgumentParser
import Foundation
import Synchronization
import Resonance

/// `resonance demo`: a simulated beamtime written through the public RunWriter API.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Write a simulated beamtime (a NEXAFS scan and an RSoXS scan) and summarize it.",
        discussion: """
            Writes <out>/<label>.db and <out>/<label>.zarr through the same RunWriter API the \
            beamline uses: a carbon K-edge NEXAFS energy scan (streams "primary" and "baseline") \
            and an RSoXS scan with one detector frame per point.

            Examples:
              resonance demo
              resonance demo --out /tmp/bt --points 500 --frames 50 --size 2048
              resonance demo --rate 10 --codec zstd
              resonance demo --db existing.db      # append the runs to an existing beamtime
            """
    )

    @Option(help: "Folder for the beamtime files.")
    var out: String = "./beamtime-demo"

    @Option(help: "Beamtime label: the files' name (default: today's date).")
    var label: String?

    @Option(help: "Points of the NEXAFS energy scan (270 to 320 eV).")
    var points: Int = 200

    @Option(help: "Detector frames of the RSoXS scan.")
    var frames: Int = 20

    @Option(help: "Detector size in pixels (frames are SIZE x SIZE int32).")
    var size: Int = 1024

    @Option(help: "Events per second (0 = as fast as possible).")
    var rate: Double = 0

    @Option(help: "Frame codec: \(FrameCodec.all.map(\.name).joined(separator: ", ")) (default \(FrameCodec.default.name)).")
    var codec: String = FrameCodec.default.name

    @Option(help: "Frame layout: automatic (shards of many frames for frames up to 512 KiB, else a file per frame), chunk-per-frame, or sharded-<N>.")
    var layout: String = "automatic"

    @Option(help: "Append to this existing beamtime file instead (migrated if it is schema version 1).")
    var db: String?

    func validate() throws {
        guard points >= 2 else { throw ValidationError("--points must be at least 2 (got \(points))") }
        guard frames >= 0 else { throw ValidationError("--frames must not be negative (got \(frames))") }
        guard size >= 8 && size <= 16384 else { throw ValidationError("--size must be between 8 and 16384 (got \(size))") }
        guard rate >= 0 && rate.isFinite else { throw ValidationError("--rate must be 0 or a positive number (got \(rate))") }
        guard FrameLayout(name: layout) != nil else {
            throw ValidationError("unknown layout \(layout.debugDescription); choose automatic, chunk-per-frame or sharded-<N> (N >= 1)")
        }
        guard FrameCodec(name: codec) != nil else {
            throw ValidationError("unknown codec \(codec.debugDescription); choose one of: \(FrameCodec.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        let codec = FrameCodec(name: codec)!
        let dbPath: String
        if let db {
            dbPath = db
            guard FileManager.default.fileExists(atPath: db) else {
                throw ValidationError("\(db): no such file (--db appends to an existing beamtime; omit it to create one)")
            }
        } else {
            let label = label ?? Format.today()
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            dbPath = (out as NSString).appendingPathComponent(label + ".db")
        }
        let started = Date()
        let sample = SampleMetadata(
            name: "PS-b-PMMA", formula: "(C8H8)n-b-(C5H8O2)m", serial: "S-0042", tags: ["block copolymer", "thin film", "demo"],
            beamlinePos: "bar1/slot3", extra: ["thickness_nm": 42.0, "substrate": "Si3N4 membrane", "anneal_C": 180])
        let writer = RunWriter(dbPath: dbPath, sample: sample, options: .init(frameCodec: codec, frameLayout: FrameLayout(name: layout)!))
        let pace = Pacer(rate: rate)
        Interrupt.install()
        var events = 0
        var frameCount = 0
        var drawing = 0.0
        var runs: [String] = []
        try writer.open { w in
            runs.append(try nexafs(w, pace: pace, events: &events))
            if frames > 0 {
                runs.append(try rsoxs(w, codec: codec, pace: pace, events: &events, frames: &frameCount, drawing: &drawing))
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let files = [dbPath, writer.zarrPath]
        let bytes = files.reduce(Int64(0)) { $0 + Disk.usage($1) }
        Output.print("Wrote a simulated beamtime in \(Format.seconds(seconds))")
        Output.print("  database  \(dbPath)")
        Output.print("  frames    \(writer.zarrPath)")
        Output.print("  runs      \(runs.count)   (\(runs.joined(separator: ", ")))")
        Output.print("  events    \(events)")
        Output.print("  frames    \(frameCount) of \(size)x\(size) int32, codec \(codec.name)")
        if frameCount > 0 {
            // The simulated detector's share of the time, and everything else (the writer).
            Output.print("  timing    \(Format.seconds(drawing)) drawing frames (simulated detector), \(Format.seconds(seconds - drawing)) writing")
        }
        Output.print("  on disk   \(Format.bytes(bytes))")
        Output.print("Browse it:  resonance runs \(dbPath)")
    }

    /// A NEXAFS energy scan across the carbon K edge, with a baseline reading before and after.
    func nexafs(_ w: RunWriter, pace: Pacer, events: inout Int) throws -> String {
        var rng = SeededGenerator(seed: 285)
        let spectrum = NexafsSpectrum()
        let run = try w.openRun("nexafs", metadata: [
            "edge": "C K", "scan": ["start_eV": 270.0, "stop_eV": 320.0, "points": .int(Int64(points))],
            "detector": "photodiode", "purpose": "resonance demo",
        ], operator: "demo")
        try w.openStream("baseline", dataKeys: [
            "ring_current": ["dtype": "number", "units": "mA", "source": "SR:current"],
            "sample_temperature": ["dtype": "number", "units": "K"],
        ])
        func baseline() throws {
            try w.writeEvent(["ring_current": .double(500 + rng.normal() * 0.3), "sample_temperature": .double(295.2 + rng.normal() * 0.05)],
                             stream: "baseline")
            events += 1
        }
        try baseline()
        try w.openStream("primary", dataKeys: [
            "energy": ["dtype": "number", "units": "eV", "source": "mono:energy"],
            "i0": ["dtype": "number", "units": "A", "source": "au_mesh"],
            "sample_current": ["dtype": "number", "units": "A", "source": "sample:tey"],
            "normalized": ["dtype": "number", "units": "a.u."],
        ])
        let progress = ProgressBar(total: points, label: "nexafs", unit: "points")
        for i in 0..<points {
            let energy = 270.0 + 50.0 * Double(i) / Double(points - 1)
            let i0 = 1.0e-9 * (1 + 0.02 * sin(Double(i) / 7)) * (1 + 0.002 * rng.normal())
            let absorption = spectrum.measured(at: energy, rng: &rng)
            let now = Date().timeIntervalSince1970
            try w.writeEvent(
                ["energy": .double(energy), "i0": .double(i0), "sample_current": .double(absorption * i0 * 0.5), "normalized": .double(absorption)],
                timestamps: ["energy": now, "i0": now, "sample_current": now], stream: "primary")
            events += 1
            progress.update(i + 1)
            pace.wait()
            try Interrupt.check(w, progress: progress)
        }
        progress.finish()
        try baseline()
        try w.closeRun(exitStatus: .success)
        return run
    }

    /// An RSoXS energy scan: a detector frame per point, the scattering ring moving with energy.
    func rsoxs(_ w: RunWriter, codec: FrameCodec, pace: Pacer, events: inout Int, frames written: inout Int,
               drawing: inout Double) throws -> String {
        let detector = SyntheticDetector(rows: size, columns: size)
        let run = try w.openRun("rsoxs_scan", metadata: [
            "edge": "C K", "detector": ["name": .string(Run.defaultFrameField), "rows": .int(Int64(size)), "columns": .int(Int64(size)), "dtype": "int32"],
            "exposure_s": 0.5, "codec": .string(codec.name),
        ], operator: "demo")
        try w.openStream("primary", dataKeys: [
            "energy": ["dtype": "number", "units": "eV"],
            "exposure": ["dtype": "number", "units": "s"],
            // As the beamline's scan code describes its camera, so Python's run.images() finds it.
            Run.defaultFrameField: ["dtype": "array", "shape": [.int(Int64(size)), .int(Int64(size))], "source": "detector", "external": true],
        ])
        let progress = ProgressBar(total: frames, label: "rsoxs ", unit: "frames")
        for k in 0..<frames {
            let energy = frames == 1 ? 285.0 : 280.0 + 15.0 * Double(k) / Double(frames - 1)
            let event = try w.writeEvent(["energy": .double(energy), "exposure": 0.5])
            events += 1
            let drawn = Date()
            let frame: Frame<Int32> = detector.frame(energy: energy, seed: UInt64(1000 + k))
            drawing += Date().timeIntervalSince(drawn)
            try w.writeFrame(eventUID: event, field: Run.defaultFrameField, frame: frame)
            written += 1
            progress.update(k + 1)
            pace.wait()
            try Interrupt.check(w, progress: progress)
        }
        progress.finish()
        try w.closeRun(exitStatus: .success)
        return run
    }
}

/// Paces events at a fixed rate (0 = no pacing).
final class Pacer {
    private let interval: TimeInterval
    private var next = Date()

    init(rate: Double) { interval = rate > 0 ? 1 / rate : 0 }

    func wait() {
        guard interval > 0 else { return }
        next = next.addingTimeInterval(interval)
        let delay = next.timeIntervalSinceNow
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
    }
}

/// Bytes on disk under a path (a file or a folder).
enum Disk {
    static func usage(_ path: String) -> Int64 {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return 0 }
        if !isDir.boolValue { return size(path) }
        var total: Int64 = 0
        if let e = FileManager.default.enumerator(atPath: path) {
            for case let rel as String in e { total += size(path + "/" + rel) }
        }
        return total
    }

    private static func size(_ path: String) -> Int64 {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return 0 }
        return Int64(st.st_size)
    }
}

/// Ctrl-C during the demo closes the open run as "aborted" instead of leaving it open.
enum Interrupt {
    nonisolated(unsafe) private static var source: DispatchSourceSignal?
    private static let flag = Mutex(false)

    static func install() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { flag.withLock { $0 = true } }
        source.resume()
        self.source = source
    }

    /// Closes the run as aborted and stops with exit status 130 once Ctrl-C was pressed.
    static func check(_ writer: RunWriter, progress: ProgressBar) throws {
        guard flag.withLock({ $0 }) else { return }
        progress.finish()
        let run = writer.currentRunUID
        try writer.closeRun(exitStatus: .aborted)
        Output.message("interrupted: run \(run ?? "-") closed as aborted; everything written so far is kept")
        throw ExitCode(130)
    }
}
