import Foundation
import GRDB
import Testing

/// A temporary folder for one test, removed when the test ends.
final class TempDir {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "resonance-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// Runs a Python script (given on stdin) with `args` and returns its stdout.
/// Fails the test with the install hint when python3 or a module is missing.
@discardableResult
func runPython(_ script: String, _ args: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + args
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let stderr = String(decoding: errors, as: UTF8.self)
    if process.terminationStatus != 0 {
        if stderr.contains("ModuleNotFoundError") {
            Issue.record("Python module missing (pip install zarr==3.1.5 numpy pandas): \(stderr)", sourceLocation: sourceLocation)
        } else {
            Issue.record("python3 failed (\(process.terminationStatus)): \(stderr)", sourceLocation: sourceLocation)
        }
        throw PythonFailed(stderr: stderr)
    }
    return String(decoding: output, as: UTF8.self)
}

struct PythonFailed: Error { var stderr: String }

/// The package root, found from this file's path.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.path + "/Package.swift") { return url.path }
    }
    fatalError("Package.swift not found above \(#filePath)")
}()

/// `../shared` beside the package root.
let sharedDir = packageRoot + "/../shared"

/// Copies the reference beamtime (read-only in shared/) into `dir`; returns the .db path.
func copyReferenceBeamtime(to dir: TempDir) throws -> String {
    let source = sharedDir + "/fixtures/reference-beamtime"
    for name in ["ref_beamtime.db", "ref_beamtime.zarr"] {
        try FileManager.default.copyItem(atPath: source + "/" + name, toPath: dir.file(name))
    }
    // Copies keep shared/'s read-only bits; a writer needs to write.
    let enumerator = FileManager.default.enumerator(atPath: dir.path)!
    for case let relative as String in enumerator {
        let path = dir.file(relative)
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        try FileManager.default.setAttributes([.posixPermissions: isDir.boolValue ? 0o755 : 0o644], ofItemAtPath: path)
    }
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
    return dir.file("ref_beamtime.db")
}

/// A read-only look into a database file, for assertions.
func inspect<T>(_ path: String, _ body: (Database) throws -> T) throws -> T {
    var config = Configuration()
    config.readonly = true
    let queue = try DatabaseQueue(path: path, configuration: config)
    defer { try? queue.close() }
    return try queue.read(body)
}

/// The built executables (resonance, the fault writer) sit beside the test binary.
func builtExecutable(_ name: String) -> String {
    let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: testBinary).deletingLastPathComponent().path + "/" + name
}
