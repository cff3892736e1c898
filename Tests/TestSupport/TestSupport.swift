// What every test target shares: temporary folders, running the built executables and
// Python, and the shared fixtures. One copy, so the test targets agree on how it is done.
import Foundation
import Testing

/// A temporary folder for one test, removed when the test ends.
public final class TempDir: Sendable {
    public let path: String

    public init() {
        path = NSTemporaryDirectory() + "resonance-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of `name` inside the folder.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Creates a subfolder (and its parents) and returns its path.
    @discardableResult
    public func makeFolder(_ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: file(name), withIntermediateDirectories: true)
        return file(name)
    }
}

/// What one run of a program printed, and how it exited.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// The built executables (resonance, the fault writer) sit beside the test binary.
public func builtExecutable(_ name: String) -> String {
    let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: testBinary).deletingLastPathComponent().path + "/" + name
}

/// A started program whose output goes to files; ``wait()`` collects it.
public final class RunningCommand {
    public let process: Process
    private let outPath: String
    private let errPath: String

    init(process: Process, outPath: String, errPath: String) {
        self.process = process
        self.outPath = outPath
        self.errPath = errPath
    }

    /// Waits for the program to end and returns what it printed.
    public func wait() -> CommandResult {
        process.waitUntilExit()
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        return CommandResult(
            status: process.terminationStatus,
            stdout: String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
            stderr: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
    }
}

extension RunningCommand {
    /// Stops the program and returns what it printed: SIGTERM, then SIGKILL when it has not
    /// ended after `grace` seconds. Bounded, so a test's cleanup cannot hang on a program
    /// that waits for something (a server finishing a stuck request) and leave it running.
    @discardableResult
    public func stop(grace: Double = 5) -> CommandResult {
        if process.isRunning {
            process.terminate()
            let end = Date().addingTimeInterval(grace)
            while process.isRunning, Date() < end { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        return wait()
    }
}

/// Starts `executable` without waiting. Output goes through files, not pipes, so nothing
/// blocks however much is printed. TZ=UTC keeps printed times machine-independent.
public func startCommand(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> RunningCommand {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    var environment = ProcessInfo.processInfo.environment
    environment["TZ"] = "UTC"
    process.environment = environment
    let scratch = NSTemporaryDirectory() + "resonance-out-" + UUID().uuidString
    let outPath = scratch + ".stdout", errPath = scratch + ".stderr"
    for path in [outPath, errPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    try process.run()
    return RunningCommand(process: process, outPath: outPath, errPath: errPath)
}

/// Runs `executable` and waits for it.
public func runCommand(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> CommandResult {
    try startCommand(executable, arguments, in: directory).wait()
}

/// Runs the built `resonance` executable.
@discardableResult
public func resonance(_ arguments: [String], in directory: String? = nil) throws -> CommandResult {
    try runCommand(builtExecutable("resonance"), arguments, in: directory)
}

/// Runs the built `resonance` executable.
@discardableResult
public func resonance(_ arguments: String..., in directory: String? = nil) throws -> CommandResult {
    try resonance(arguments, in: directory)
}

/// Why a Python helper script failed.
public struct PythonFailed: Error, CustomStringConvertible {
    public var stderr: String
    public init(stderr: String) { self.stderr = stderr }
    public var description: String { stderr }
}

/// Runs a Python script with `args` and returns its stdout. Fails the test — never skips —
/// with the install hint when python3 or a module is missing.
@discardableResult
public func runPython(_ script: String, _ args: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let result = try runCommand("/usr/bin/env", ["python3", "-c", script] + args)
    guard result.status == 0 else {
        let hint = result.stderr.contains("ModuleNotFoundError") ? "Python module missing (pip install zarr==3.1.5 numpy pandas): " : "python3 failed (\(result.status)): "
        Issue.record(Comment(rawValue: hint + result.stderr), sourceLocation: sourceLocation)
        throw PythonFailed(stderr: result.stderr)
    }
    return result.stdout
}

/// The package root, found from this file's path.
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.path + "/Package.swift") { return url.path }
    }
    fatalError("Package.swift not found above \(#filePath)")
}()

/// The fixtures the tests read (`Tests/Fixtures`: beamtimes written by the Python software).
public let fixturesDir = packageRoot + "/Tests/Fixtures"

/// Copies the reference beamtime into `dir`, writable; returns the .db path.
public func copyReferenceBeamtime(to dir: TempDir) throws -> String {
    try copyFixture("reference-beamtime", files: ["ref_beamtime.db", "ref_beamtime.zarr"], to: dir)
}

/// Copies the drifted beamtime (user_version 2, image_refs without compression_codec) into
/// `dir`, writable; returns the .db path.
public func copyDriftedBeamtime(to dir: TempDir) throws -> String {
    try copyFixture("drifted-v2-beamtime", files: ["drifted_beamtime.db", "drifted_beamtime.zarr"], to: dir)
}

private func copyFixture(_ name: String, files: [String], to dir: TempDir) throws -> String {
    let source = fixturesDir + "/" + name
    for name in files {
        try FileManager.default.copyItem(atPath: source + "/" + name, toPath: dir.file(name))
    }
    // Copies keep the source's permission bits (read-only on a read-only checkout).
    let enumerator = FileManager.default.enumerator(atPath: dir.path)!
    for case let relative as String in enumerator {
        let path = dir.file(relative)
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        try FileManager.default.setAttributes([.posixPermissions: isDirectory.boolValue ? 0o755 : 0o644], ofItemAtPath: path)
    }
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
    return dir.file(files[0])
}

/// A small deterministic random generator (SplitMix64), so failing random tests reproduce.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
