import CFileSystem
import Foundation
import Resonance
import Zarr

/// Detector frames generated before timing: SyntheticDetector (Poisson ~100 counts, a bright
/// ring moving with energy, beam stop), fixed seeds.
struct FrameSet: @unchecked Sendable {
    let size: Int
    let frames: [Frame<UInt16>]
    let energies: [Double]

    var count: Int { frames.count }
    var frameBytes: Int { size * size * 2 }
    var rawBytes: Int { frameBytes * count }
    var label: String { "\(size)x\(size)" }

    static func generate(size: Int, count: Int) -> FrameSet {
        let detector = SyntheticDetector(rows: size, columns: size)
        let energies = (0..<count).map { 280.0 + 15.0 * Double($0) / Double(max(count - 1, 1)) }
        let slots = Slots<Frame<UInt16>>(count)
        concurrently(count) { k in
            slots[k] = detector.frame(UInt16.self, energy: energies[k], seed: UInt64(size * 100_000 + k))
        }
        return FrameSet(size: size, frames: slots.values, energies: energies)
    }
}

/// What one codec did on one frame set.
struct CodecResult {
    var codec: FrameCodec
    var encodedBytes: Int
    var writer = Timing()
    var codecOnly = Timing()
    var diskOnly = Timing()
    /// The writer with other frame layouts than the default, in the same repetitions.
    var otherLayouts: [(layout: FrameLayout, writer: Timing)] = []
    /// RSS growth from a quarter of the frames written to the last, per repetition (flat memory).
    var rssDrift: [Int] = []

    /// Writer rate over the slower of the two baselines.
    var ratioToSlowerBaseline: Double {
        writer.rate(1) / min(codecOnly.rate(1), diskOnly.rate(1))
    }

    /// Frames per second if the codec's and the file writing's CPU time (each measured in
    /// its baseline) shared all cores perfectly: the most a writer doing both can reach
    /// when neither leaves the cores idle, which the slower baseline alone does not show
    /// on a machine whose file writes cost as much CPU as they wait for the disk.
    func cpuLimitRate(frames: Int) -> Double {
        Double(frames) * Double(Machine.cores) / (median(codecOnly.cpuSeconds) + median(diskOnly.cpuSeconds))
    }
}

/// Phase 2: frames through RunWriter.writeFrame, against the codec alone on all cores
/// (no I/O) and the disk alone (the compressed bytes written to files, no codec work).
struct FramesBench {
    let repetitions: Int
    let dir: String
    /// Layouts the writer also runs with, beside the default (automatic) one.
    var otherLayouts: [FrameLayout] = []

    /// Runs every codec on `set`; keeps the default codec's last beamtime for reading
    /// and returns its path. Each repetition runs codec-only, disk-only and the writer in
    /// turn, so a change in the machine's load hits them alike.
    func run(_ set: FrameSet, codecs: [FrameCodec], keepDefault: Bool) throws -> ([CodecResult], String?) {
        var results: [CodecResult] = []
        var kept: String?
        let once = FramesBench(repetitions: 1, dir: dir)
        let resolved = FrameLayout.automatic(frameBytes: set.frameBytes)
        for codec in codecs {
            var result: CodecResult?
            for rep in 0..<repetitions {
                let encoded = try once.codecOnly(set, codec: codec)
                if result == nil { result = CodecResult(codec: codec, encodedBytes: encoded.bytes.reduce(0) { $0 + $1.count }) }
                result!.codecOnly.append(encoded.timing)
                result!.diskOnly.append(try once.diskOnly(encoded.bytes, label: "\(set.size)-\(codec.name)"))
                let keep = keepDefault && codec == .default && rep == repetitions - 1
                let (timing, drift, path) = try once.writer(set, codec: codec, keepLast: keep)
                result!.writer.append(timing)
                result!.rssDrift += drift
                if keep { kept = path }
                for layout in otherLayouts where layout.resolved(frameBytes: set.frameBytes) != resolved {
                    let (other, _, _) = try once.writer(set, codec: codec, layout: layout, keepLast: false)
                    if let n = result!.otherLayouts.firstIndex(where: { $0.layout == layout }) {
                        result!.otherLayouts[n].writer.append(other)
                    } else {
                        result!.otherLayouts.append((layout, other))
                    }
                }
            }
            if let result { results.append(result) }
        }
        return (results, kept)
    }

    /// The codec alone: every frame encoded through the array's codec pipeline, frames spread
    /// over all cores, nothing written. Returns the encoded chunks of the last repetition.
    func codecOnly(_ set: FrameSet, codec: FrameCodec) throws -> (timing: Timing, bytes: [[UInt8]]) {
        let scratch = freshPath(dir, "codec-only", ext: ".zarr")
        defer { retire(scratch) }
        let store = try FilesystemStore(root: scratch, create: true)
        let array = try ZarrArray.create(
            in: store, at: "frames",
            metadata: ZarrArrayMetadata(
                shape: [set.count, set.size, set.size], dataType: .uint16, chunkShape: [1, set.size, set.size],
                codecs: codec.zarrCodecs(for: .uint16)))
        var timing = Timing()
        var last: [[UInt8]] = []
        for _ in 0..<repetitions {
            let slots = Slots<[UInt8]>(set.count)
            let failure = Slots<String>(1)
            let cpu = processCPU()
            let (seconds, growth) = Memory.measuringPeak { () -> Double in
                let start = now()
                let probe = CPUProbe()
                defer { probe.report("codec-only \(set.size) \(codec.name)") }
                concurrently(set.count) { k in
                    do {
                        slots[k] = try array.encodeChunk(set.frames[k].pixels) ?? []
                    } catch {
                        failure[0] = "\(error)"
                        slots[k] = []
                    }
                }
                return now() - start
            }
            if let message = failure[0] { throw BenchError("encoding with \(codec.name): \(message)") }
            timing.cpuSeconds.append(processCPU() - cpu)
            timing.seconds.append(seconds)
            timing.peakGrowth.append(growth)
            last = slots.values
        }
        return (timing, last)
    }

    /// The disk alone: each encoded chunk written where a frame's chunk lives in the store
    /// (`c/<k>/0/0`: two new folders and a new file per frame, as the format's chunk key
    /// encoding requires), with the writer's file handling (writeback started at once, the
    /// page cache of files 32 frames old handed back), then `syncfs` so the bytes are on
    /// disk, as the writer's commits make them. No codec, no database, no metadata.
    func diskOnly(_ chunks: [[UInt8]], label: String) throws -> Timing {
        var timing = Timing()
        for _ in 0..<repetitions {
            let folder = freshPath(dir, "disk-only-\(label)")
            try FileManager.default.createDirectory(atPath: folder + "/c", withIntermediateDirectories: true)
            syncFileSystem(dir)
            let cpu = processCPU()
            let (seconds, growth) = try Memory.measuringPeak { () throws -> Double in
                let start = now()
                let probe = CPUProbe()
                defer { probe.report("disk-only \(label)") }
                func fail(_ what: String, _ path: String) -> BenchError {
                    BenchError("\(what) \(path): \(String(cString: strerror(errno)))")
                }
                for (k, chunk) in chunks.enumerated() {
                    let path = folder + "/c/\(k)/0/0"
                    guard mkdir(folder + "/c/\(k)", 0o777) == 0 else { throw fail("mkdir", path) }
                    guard mkdir(folder + "/c/\(k)/0", 0o777) == 0 else { throw fail("mkdir", path) }
                    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                    guard fd >= 0 else { throw fail("create", path) }
                    try chunk.withUnsafeBytes { buffer in
                        var done = 0
                        while done < buffer.count {
                            let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                            guard n > 0 else { close(fd); throw fail("write", path) }
                            done += n
                        }
                    }
                    _ = cfs_start_writeback(fd)
                    close(fd)
                    if k >= 32 {
                        let old = open(folder + "/c/\(k - 32)/0/0", O_RDONLY | O_CLOEXEC)
                        if old >= 0 {
                            _ = posix_fadvise(old, 0, 0, Int32(POSIX_FADV_DONTNEED))
                            close(old)
                        }
                    }
                }
                syncFileSystem(folder)
                return now() - start
            }
            timing.cpuSeconds.append(processCPU() - cpu)
            timing.seconds.append(seconds)
            timing.peakGrowth.append(growth)
            retire(folder)
        }
        return timing
    }

    /// The writer: per frame one writeEvent and one writeFrame, then closeRun, which commits
    /// every image_refs row (and syncs the frame files to disk first).
    func writer(_ set: FrameSet, codec: FrameCodec, layout: FrameLayout = .automatic, keepLast: Bool) throws -> (Timing, [Int], String) {
        var timing = Timing()
        var drift: [Int] = []
        var path = ""
        for rep in 0..<repetitions {
            path = freshPath(dir, "frames-\(set.size)-\(codec.name)-\(layout)", ext: ".db")
            syncFileSystem(dir)
            let writer = RunWriter(dbPath: path, sample: SampleMetadata(name: "bench"), options: .init(frameCodec: codec, frameLayout: layout))
            try writer.open()
            try writer.openRun("bench_frames", metadata: ["purpose": "resonance bench", "codec": .string(codec.name)])
            try writer.openStream("primary", dataKeys: [
                "energy": ["dtype": "number", "units": "eV"],
                "ccd": ["dtype": "array", "shape": [.int(Int64(set.size)), .int(Int64(set.size))], "external": "zarr"],
            ])
            var quarterRSS = 0, endRSS = 0
            let quarter = max(set.count / 4, 1)
            let cpu = processCPU()
            let (seconds, growth) = try Memory.measuringPeak { () throws -> Double in
                let start = now()
                let probe = CPUProbe()
                defer { probe.report("writer \(set.size) \(codec.name)") }
                for k in 0..<set.count {
                    let event = try writer.writeEvent(["energy": .double(set.energies[k]), "exposure": 0.5])
                    try writer.writeFrame(eventUID: event, field: "ccd", frame: set.frames[k])
                    if k + 1 == quarter { quarterRSS = Memory.rss }
                }
                endRSS = Memory.rss
                try writer.closeRun(exitStatus: .success)
                return now() - start
            }
            timing.cpuSeconds.append(processCPU() - cpu)
            try writer.close()
            timing.seconds.append(seconds)
            timing.peakGrowth.append(growth)
            drift.append(endRSS - quarterRSS)
            if !(keepLast && rep == repetitions - 1) { EventsBench.retireDatabase(path) }
        }
        return (timing, drift, path)
    }

    /// Writes `frames` frames (cycling the set) in one run and prints the RSS every tenth.
    func soak(_ set: FrameSet, frames: Int, codec: FrameCodec) throws {
        let path = dir + "/soak.db"
        let writer = RunWriter(dbPath: path, sample: SampleMetadata(name: "bench"), options: .init(frameCodec: codec))
        try writer.open()
        try writer.openRun("soak")
        try writer.openStream("primary")
        let start = now()
        for k in 0..<frames {
            let event = try writer.writeEvent(["energy": .double(set.energies[k % set.count])])
            try writer.writeFrame(eventUID: event, field: "ccd", frame: set.frames[k % set.count])
            if (k + 1) % max(frames / 10, 1) == 0 {
                Output.print(String(format: "%7d frames  %6.1f s  RSS %@  peak %@", k + 1, now() - start, megabytes(Memory.rss), megabytes(Memory.peak)))
            }
        }
        try writer.closeRun()
        try writer.close()
        EventsBench.removeDatabase(path)
    }
}
