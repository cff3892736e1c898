import Foundation
import Testing

/// A temporary folder for one test, removed when the test ends.
final class IndexCLITempDir {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "resonance-cli-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    func makeFolder(_ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: file(name), withIntermediateDirectories: true)
        return file(name)
    }
}

/// What a run of the `resonance` executable printed, and how it exited.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the built `resonance` executable (beside the test binary) in `directory`, with
/// TZ=UTC so printed times do not depend on the machine.
func resonance(_ arguments: [String], in directory: String) throws -> CommandResult {
    let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let executable = URL(fileURLWithPath: testBinary).deletingLastPathComponent().path + "/resonance"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    var environment = ProcessInfo.processInfo.environment
    environment["TZ"] = "UTC"
    process.environment = environment
    // Files, not pipes: nothing can block however much is printed.
    let outPath = directory + "/.stdout-" + UUID().uuidString, errPath = directory + "/.stderr-" + UUID().uuidString
    for path in [outPath, errPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
    defer {
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    try process.run()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus,
        stdout: try String(contentsOfFile: outPath, encoding: .utf8),
        stderr: try String(contentsOfFile: errPath, encoding: .utf8))
}

/// `../shared` beside the package root, found from this file's path.
let indexCLISharedDir: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.path + "/Package.swift") { return url.path + "/../shared" }
    }
    fatalError("Package.swift not found above \(#filePath)")
}()

/// Copies the reference beamtime (read-only in shared/) into `folder`, writable; returns the .db path.
func copyReferenceBeamtime(to folder: String) throws -> String {
    let source = indexCLISharedDir + "/fixtures/reference-beamtime"
    for name in ["ref_beamtime.db", "ref_beamtime.zarr"] {
        try FileManager.default.copyItem(atPath: source + "/" + name, toPath: folder + "/" + name)
    }
    let enumerator = FileManager.default.enumerator(atPath: folder)!
    for case let relative as String in enumerator {
        let path = folder + "/" + relative
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        try FileManager.default.setAttributes([.posixPermissions: isDirectory.boolValue ? 0o755 : 0o644], ofItemAtPath: path)
    }
    return folder + "/ref_beamtime.db"
}
