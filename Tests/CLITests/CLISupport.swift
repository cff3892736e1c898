import Foundation
import Testing

/// A temporary folder for one test, removed when the test ends.
final class CLITempDir {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "resonance-cli-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// What one run of an executable printed and how it ended.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The built executables sit beside the test binary.
func executablePath(_ name: String) -> String {
    let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: testBinary).deletingLastPathComponent().path + "/" + name
}

/// Runs `resonance` with `arguments` and waits for it.
@discardableResult
func resonance(_ arguments: String..., in directory: String? = nil) throws -> CommandResult {
    try run(executablePath("resonance"), arguments, in: directory)
}

func run(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// Runs a Python script with arguments; fails the test (with the install hint) if python or a module is missing.
@discardableResult
func python(_ script: String, _ args: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let result = try run("/usr/bin/env", ["python3", "-c", script] + args)
    if result.status != 0 {
        Issue.record("python3 failed (pip install zarr==3.1.5 numpy pandas?): \(result.stderr)", sourceLocation: sourceLocation)
        throw CLITestFailure(message: result.stderr)
    }
    return result.stdout
}

struct CLITestFailure: Error { var message: String }
