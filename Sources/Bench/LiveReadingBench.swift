import CommandLineSupport
import Foundation
import Resonance
import Synchronization

/// Phase "live": a reader following a run while the writer writes it (issue #18), with the
/// writer's page-cache windows compared in the same run.
///
/// The writer writes frames at full speed (writeEvent + writeFrame, cycling frames made
/// before timing) for a fixed time, then closes the run. Beside it, a reader thread opens
/// the beamtime with its own ``Catalog`` (as `resonance serve` does) and, every
/// ``readerPeriod``, loads the run's frames as a request does (`run.frames(field:)`), then
/// reads the latest frame and a random one of those published in the last
/// ``recentSeconds``. Each window runs alone and beside the reader, in turn, every
/// repetition, so a change in the machine's load hits them alike.
///
/// Whether a read went to disk: the bytes the reader thread had read from the block device
/// (`read_bytes` of /proc/thread-self/io) before and after it.
struct LiveReadingBench {
    let windows: [PageCacheWindow]
    let seconds: Double
    let repetitions: Int
    let dir: String

    /// A viewer showing the latest frame redraws a few dozen times a second at most; a
    /// reader in a tight loop would instead take a core from the writer on a small machine.
    static let readerPeriod = 0.02
    /// "Recent" frames: those the reader saw published in the last 2 s.
    static let recentSeconds = 2.0

    /// One run of the writer, alone or beside the reader.
    struct RunResult {
        var frames = 0
        var seconds = 0.0
        var reads: ReaderLog?
        var fps: Double { Double(frames) / seconds }
    }

    /// What the reader did in one run.
    struct ReaderLog {
        /// Seconds per read, and whether it read from disk.
        var latest: [(seconds: Double, disk: Bool)] = []
        var recent: [(seconds: Double, disk: Bool)] = []
        /// Seconds to load the run's frames (image_refs rows, arrays).
        var refresh: [Double] = []
        /// Frames written but not yet visible to the reader, at each refresh.
        var lag: [Int] = []
        var diskBytes = 0
        var failure: String?
    }

    struct WindowResult {
        var window: PageCacheWindow
        var alone: [RunResult] = []
        var beside: [RunResult] = []
    }

    struct SizeResult {
        var size: Int
        var frameBytes: Int
        var windows: [WindowResult]
    }

    func run(_ set: FrameSet) throws -> SizeResult {
        var result = SizeResult(size: set.size, frameBytes: set.frameBytes, windows: windows.map { WindowResult(window: $0) })
        defer { PageCacheWindow.current = .standard }
        for _ in 0..<repetitions {
            for withReader in [false, true] {
                for (n, window) in windows.enumerated() {
                    let r = try write(set, window: window, withReader: withReader)
                    if withReader { result.windows[n].beside.append(r) } else { result.windows[n].alone.append(r) }
                }
            }
        }
        return result
    }

    /// Writes `set`'s frames (cycling) for ``seconds`` with `window`, the reader beside it or not.
    func write(_ set: FrameSet, window: PageCacheWindow, withReader: Bool) throws -> RunResult {
        PageCacheWindow.current = window
        let path = freshPath(dir, "live-\(set.size)", ext: ".db")
        defer { EventsBench.retireDatabase(path) }
        syncFileSystem(dir)
        let writer = RunWriter(dbPath: path, sample: SampleMetadata(name: "bench"))
        try writer.open()
        defer { try? writer.close() }
        try writer.openRun("bench_live", metadata: ["purpose": "resonance bench"])
        try writer.openStream("primary", dataKeys: [
            "energy": ["dtype": "number", "units": "eV"],
            "ccd": ["dtype": "array", "shape": [.int(Int64(set.size)), .int(Int64(set.size))], "external": "zarr"],
        ])
        let reader = withReader ? LiveReader(dbPath: path) : nil
        reader?.start()
        var result = RunResult()
        let start = now()
        var k = 0
        while now() - start < seconds {
            let event = try writer.writeEvent(["energy": .double(set.energies[k % set.count]), "exposure": 0.5])
            try writer.writeFrame(eventUID: event, field: "ccd", frame: set.frames[k % set.count])
            k += 1
            reader?.written.store(k, ordering: .relaxed)
        }
        // The reader's figures are those taken while frames were being written.
        result.reads = reader?.stop()
        try writer.closeRun(exitStatus: .success)
        result.seconds = now() - start
        result.frames = k
        if let failure = result.reads?.failure { throw CommandError("live reader: \(failure)") }
        return result
    }

    func text(_ results: [SizeResult]) -> String {
        var out = String(format: "Live reading: writer at full speed for %.0f s per run, %d repetitions, windows alternating; reader every %.0f ms: the latest frame, a random one of the last %.0f s\n",
                         seconds, repetitions, Self.readerPeriod * 1000, Self.recentSeconds)
        out += String(format: "load at the end %.2f\n", Machine.load)
        for size in results {
            out += "\n\(size.size)x\(size.size) uint16\n"
            out += "window                                      alone fps  beside fps  reads  latest p50/p99 ms  disk   recent p50/p99 ms  disk   lag p50/p99  refresh p50 ms  disk MB\n"
            for w in size.windows {
                let reads = w.beside.compactMap(\.reads)
                let latest = reads.flatMap(\.latest), recent = reads.flatMap(\.recent)
                func ms(_ v: [(seconds: Double, disk: Bool)]) -> String {
                    String(format: "%7.2f /%7.2f", percentile(v.map(\.seconds), 0.5) * 1000, percentile(v.map(\.seconds), 0.99) * 1000)
                }
                func disk(_ v: [(seconds: Double, disk: Bool)]) -> String {
                    v.isEmpty ? "   -" : String(format: "%3.0f%%", 100 * Double(v.filter(\.disk).count) / Double(v.count))
                }
                let lag = reads.flatMap(\.lag).map(Double.init)
                out += w.window.description.padding(toLength: 42, withPad: " ", startingAt: 0)
                out += String(format: " %10.1f  %10.1f  %5d  ", median(w.alone.map(\.fps)), median(w.beside.map(\.fps)), latest.count)
                out += ms(latest) + "  " + disk(latest) + "  " + ms(recent) + "  " + disk(recent)
                out += String(format: "  %5.0f/%5.0f  %14.2f  %7.1f\n", percentile(lag, 0.5), percentile(lag, 0.99),
                              percentile(reads.flatMap(\.refresh), 0.5) * 1000, Double(reads.map(\.diskBytes).reduce(0, +)) / 1e6)
            }
            out += "  runs (fps alone | beside): " + size.windows.map { w in
                w.alone.map { String(format: "%.0f", $0.fps) }.joined(separator: " ") + " | "
                    + w.beside.map { String(format: "%.0f", $0.fps) }.joined(separator: " ")
            }.joined(separator: "  ;  ") + "\n"
        }
        return out
    }
}

/// ``IndexBenchCommand/percentile(_:_:)``, nan for no values (a run the reader saw no frame of).
private func percentile(_ values: [Double], _ p: Double) -> Double {
    values.isEmpty ? .nan : IndexBenchCommand.percentile(values, p)
}

/// The reader thread of ``LiveReadingBench``: its own catalog on the beamtime being written.
final class LiveReader: @unchecked Sendable {
    let dbPath: String
    /// Frames the writer has written so far (set by the writer's thread).
    let written = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    /// Written by the reader thread only, read after `done`.
    private var log = LiveReadingBench.ReaderLog()

    init(dbPath: String) { self.dbPath = dbPath }

    func start() {
        let thread = Thread { [self] in
            do { try self.loop() } catch { self.log.failure = "\(error)" }
            self.done.signal()
        }
        thread.name = "live-reader"
        thread.start()
    }

    /// Stops the reader and returns what it did.
    func stop() -> LiveReadingBench.ReaderLog {
        stopping.store(true, ordering: .relaxed)
        done.wait()
        return log
    }

    private func loop() throws {
        let catalog = try Catalog(dbPath: dbPath).open()
        defer { try? catalog.close() }
        var rng = SeededGenerator(seed: 18)
        var uid: String?
        /// When the reader saw how many frames: the recent frames' first index.
        var seen: [(time: Double, count: Int)] = []
        let startBytes = Self.threadReadBytes()
        while !stopping.load(ordering: .relaxed) {
            let began = now()
            defer {
                let wait = LiveReadingBench.readerPeriod - (now() - began)
                if wait > 0 { usleep(UInt32(wait * 1e6)) }
            }
            if uid == nil { uid = try catalog.recent(1).first?.uid }
            guard let uid else { continue }
            let ccd = try catalog.run(uid).frames(field: "ccd")
            log.refresh.append(now() - began)
            guard ccd.count > 0 else { continue }
            log.lag.append(written.load(ordering: .relaxed) - ccd.count)
            seen.append((began, ccd.count))
            while seen.count > 1 && seen[1].time <= began - LiveReadingBench.recentSeconds { seen.removeFirst() }
            // No frame published for 2 s (a stalled writer): the latest one.
            let first = min(ccd.count - 1, seen[0].time <= began - LiveReadingBench.recentSeconds ? seen[0].count : 0)
            log.latest.append(try timedRead(ccd, ccd.count - 1))
            log.recent.append(try timedRead(ccd, first + Int(rng.next() % UInt64(ccd.count - first))))
        }
        log.diskBytes = Self.threadReadBytes() - startBytes
    }

    private func timedRead(_ ccd: FrameSequence, _ index: Int) throws -> (seconds: Double, disk: Bool) {
        let bytes = Self.threadReadBytes()
        let start = now()
        let frame = try ccd.frame(index, as: UInt16.self)
        let seconds = now() - start
        guard frame.pixels.count == ccd.rows * ccd.columns else { throw CommandError("frame \(index): short read") }
        return (seconds, Self.threadReadBytes() > bytes)
    }

    /// Bytes this thread caused to be read from the block device (/proc/thread-self/io).
    static func threadReadBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/thread-self/io", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("read_bytes:") {
            return Int(line.dropFirst("read_bytes:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }
}
