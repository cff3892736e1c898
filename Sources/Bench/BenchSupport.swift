import Synchronization
import Concurrency
import CommandLineSupport
import CFileSystem
import Dispatch
import Foundation
import Resonance

/// Sizes of one `resonance-bench` session.
struct BenchPlan: Sendable {
    var quick: Bool
    var repetitions: Int
    var events: Int
    /// Frame sets: (rows = columns, count), largest first.
    var frameSets: [(size: Int, count: Int)]
    var codecs: [FrameCodec]
    var randomFrames: Int

    static let full = BenchPlan(
        quick: false, repetitions: 3, events: 100_000, frameSets: [(2048, 100), (512, 1000)], codecs: FrameCodec.all,
        randomFrames: 50)
    /// A smaller version of each phase for CI smoke runs (well under 30 s in a release build).
    static let quick = BenchPlan(
        quick: true, repetitions: 3, events: 10_000, frameSets: [(2048, 4), (512, 40)], codecs: FrameCodec.all,
        randomFrames: 10)
}

/// Wall-clock seconds on the monotonic clock.
@inline(__always)
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// The median of a non-empty list.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let n = sorted.count
    if n == 0 { return .nan }
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}

/// Repeated timings of one thing, with the peak memory each repetition added.
struct Timing: Sendable {
    var seconds: [Double] = []
    /// Per repetition: VmHWM minus VmRSS at the start of the timed part.
    var peakGrowth: [Int] = []
    /// Per repetition, where measured: CPU seconds of the whole process (all its threads,
    /// user and kernel) during the timed part.
    var cpuSeconds: [Double] = []

    var medianSeconds: Double { median(seconds) }

    /// Adds the repetitions of `other` (baselines and the measured code alternate, so a
    /// change in the machine's load hits both alike).
    mutating func append(_ other: Timing) {
        seconds += other.seconds
        peakGrowth += other.peakGrowth
        cpuSeconds += other.cpuSeconds
    }

    /// Items per second at the median time.
    func rate(_ items: Int) -> Double { Double(items) / medianSeconds }

    func json(items: Int? = nil, bytes: Int? = nil) -> JSONValue {
        var o: JSONObject = ["median_s": .double(medianSeconds), "runs_s": .array(seconds.map { .double($0) })]
        if let items { o["per_s"] = .double(rate(items)) }
        if let bytes { o["mb_per_s"] = .double(Double(bytes) / medianSeconds / 1e6) }
        if !peakGrowth.isEmpty { o["peak_rss_growth_bytes"] = .int(Int64(peakGrowth.max()!)) }
        if !cpuSeconds.isEmpty { o["median_cpu_s"] = .double(median(cpuSeconds)) }
        return .object(o)
    }
}

/// Process memory from /proc/self/status, and resetting the peak between phases.
enum Memory {
    /// A `Vm...` line of /proc/self/status in bytes.
    static func status(_ key: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            let digits = line.dropFirst(key.count + 1).filter { $0.isNumber }
            return (Int(String(digits)) ?? 0) * 1024
        }
        return 0
    }

    /// Resident set size now.
    static var rss: Int { status("VmRSS") }
    /// Peak resident set size since the last ``resetPeak()``.
    static var peak: Int { status("VmHWM") }

    /// Gives freed heap back to the system, then resets VmHWM to the current RSS
    /// (`echo 5 > /proc/self/clear_refs`). Returns the RSS the new peak starts from.
    @discardableResult
    static func resetPeak() -> Int {
        _ = malloc_trim(0)
        if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
            handle.write(Data("5".utf8))
            try? handle.close()
        }
        return rss
    }

    /// Runs `body` and returns what it returned and how far the peak RSS rose above the
    /// RSS at its start.
    static func measuringPeak<T>(_ body: () throws -> T) rethrows -> (T, Int) {
        let start = resetPeak()
        let result = try body()
        return (result, max(0, peak - start))
    }
}

@_silgen_name("malloc_trim")
private func malloc_trim(_ pad: Int) -> Int32


/// The machine, for the report.
enum Machine {
    static var cpu: String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        for line in info.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "?"
        }
        return "unknown CPU"
    }
    static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }
    static var memory: UInt64 { ProcessInfo.processInfo.physicalMemory }
    static var kernel: String {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "Linux \(release)"
    }
    static var os: String {
        let text = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return "Linux"
    }
    static var description: String {
        "\(cpu), \(cores) cores, \(Format.bytes(Int64(memory))) RAM, \(os), \(kernel)"
    }
    /// The 1-minute load average: other work on the machine skews every figure.
    static var load: Double {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return Double(text.split(separator: " ").first ?? "") ?? .nan
    }
    static var json: JSONValue {
        ["cpu": .string(cpu), "cores": .int(Int64(cores)), "memory_bytes": .int(Int64(memory)), "os": .string(os),
         "kernel": .string(kernel), "load_average_1min": .double(load)]
    }
}

/// Removes a path if present.
func removeItem(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// Frees the disk space of a finished part (its files emptied) but keeps its files and
/// folders until the benchmark's folder is removed at the end.
///
/// Deleting them would slow every part after: on this machine's ext4, creating a file or
/// folder searches past each inode deleted in the last minutes (`recently_deleted` in a
/// profile), and creating 2,000 folders and 1,000 files took 0.30 s on a quiet file system
/// but 3.8 s right after deleting as many. The writer and the disk-only baseline create
/// three inodes per frame (the chunk file and its two folders): deletions between
/// repetitions measured the file system's bookkeeping, not the code or the disk.
func retire(_ path: String) {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
    guard isDirectory.boolValue else {
        _ = truncate(path, 0)
        return
    }
    guard let walker = FileManager.default.enumerator(atPath: path) else { return }
    for case let name as String in walker {
        let file = path + "/" + name
        var info = stat()
        if lstat(file, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG { _ = truncate(file, 0) }
    }
}

/// A new path `<dir>/<name>.<n><ext>` for a part's files, `n` counting every path made:
/// never one used before in this run, so nothing is deleted to make room (see ``retire(_:)``).
func freshPath(_ dir: String, _ name: String, ext: String = "") -> String {
    let n = freshCount.wrappingAdd(1, ordering: .relaxed).newValue
    return dir + "/" + name + ".\(n)" + ext
}

private let freshCount = Atomic<Int>(0)

/// Flushes every dirty page of the file system holding `path` (`syncfs`).
func syncFileSystem(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = cfs_syncfs(fd)
    close(fd)
}

/// "1,234,567" or, with decimals, "1,234.5".
func grouped(_ n: Double, decimals: Int = 0) -> String {
    guard n.isFinite else { return "\(n)" }
    let text = String(format: "%.\(decimals)f", n.magnitude)
    let parts = text.split(separator: ".", maxSplits: 1)
    var integer = Array(parts[0])
    var k = integer.count - 3
    while k > 0 { integer.insert(",", at: k); k -= 3 }
    return (n < 0 ? "-" : "") + String(integer) + (parts.count > 1 ? "." + parts[1] : "")
}

/// "0.93"
func ratioText(_ r: Double) -> String { String(format: "%.2f", r) }

/// "12.3 MB" (decimal megabytes, like the MB/s figures).
func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

/// CPU seconds used by the calling thread.
func threadCPU() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// CPU seconds used by the whole process.
func processCPU() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Seconds the process's threads spent runnable but waiting for a CPU (/proc schedstat).
func runQueueWait() -> Double {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    var total = 0.0
    for t in tasks {
        if let text = try? String(contentsOfFile: "/proc/self/task/\(t)/schedstat", encoding: .utf8) {
            let parts = text.split(separator: " ")
            if parts.count >= 2, let w = Double(parts[1]) { total += w / 1e9 }
        }
    }
    return total
}

/// With BENCH_DEBUG set: where a timed part's wall time went (CPU of the process and of the
/// calling thread, time runnable but waiting for a CPU), on stderr.
struct CPUProbe {
    static let enabled = ProcessInfo.processInfo.environment["BENCH_DEBUG"] != nil
    let wall = now(), process = processCPU(), thread = threadCPU(), wait = runQueueWait()

    func report(_ label: String) {
        guard Self.enabled else { return }
        Output.message(String(format: "%@: wall %.3f s, process CPU %.3f s, calling thread CPU %.3f s, run-queue wait %.3f s",
                              label, now() - wall, processCPU() - process, threadCPU() - thread, runQueueWait() - wait))
    }
}
