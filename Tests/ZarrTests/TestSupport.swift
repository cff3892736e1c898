import Foundation
import Testing
@testable import Zarr

/// A fresh temporary folder for one test, removed afterwards.
func withTemporaryDirectory<R>(_ body: (URL) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("zarr-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}

/// A store in a fresh temporary folder.
func withTemporaryStore<R>(_ body: (FilesystemStore, URL) throws -> R) throws -> R {
    try withTemporaryDirectory { url in
        let root = url.appendingPathComponent("test.zarr")
        return try body(try FilesystemStore(url: root, create: true), root)
    }
}

/// The package root, found from this file's path (Tests/ZarrTests/TestSupport.swift).
let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The shared folder beside the package (`../shared`).
let sharedDirectory: URL = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")

/// The golden stores written by zarr-python (`Tests/ZarrTests/Golden`).
let goldenDirectory: URL = {
    if let url = Bundle.module.url(forResource: "Golden", withExtension: nil) { return url }
    return packageRoot.appendingPathComponent("Tests/ZarrTests/Golden")
}()

struct PythonFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs `python3 -c script args...` and returns its standard output. Fails (never skips)
/// when zarr-python is missing, saying how to install it.
func runPython(_ script: String, _ arguments: [String] = []) throws -> String {
    let check = try runProcess(["python3", "-c", "import zarr, numpy; assert zarr.__version__.startswith('3.')"])
    guard check.status == 0 else {
        throw PythonFailure(description: """
            zarr-python 3 is needed for the interoperability tests: pip install zarr==3.1.5 numpy
            (python3 said: \(check.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))
            """)
    }
    let result = try runProcess(["python3", "-c", script] + arguments)
    guard result.status == 0 else {
        throw PythonFailure(description: "python3 exited with \(result.status):\n\(result.stderr)\n\(result.stdout)")
    }
    return result.stdout
}

func runProcess(_ command: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes before waiting so a chatty child cannot block on a full pipe.
    let errData = UncheckedBox<Data>()
    let done = DispatchSemaphore(value: 0)
    let errHandle = err.fileHandleForReading
    DispatchQueue.global().async {
        errData.value = errHandle.readDataToEndOfFile()
        done.signal()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    done.wait()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData.value ?? Data(), as: UTF8.self))
}

final class UncheckedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

/// A small deterministic random generator (SplitMix64) so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Bytes of a file as text.
func text(_ url: URL) throws -> String {
    String(decoding: try Data(contentsOf: url), as: UTF8.self)
}

/// All regular files under `url`, relative, sorted.
func files(under url: URL) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: url.path) else { return [] }
    var result: [String] = []
    while let item = enumerator.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.appendingPathComponent(item).path, isDirectory: &isDirectory),
            !isDirectory.boolValue
        {
            result.append(item)
        }
    }
    return result.sorted()
}

extension ZarrError {
    /// The error's case name, for matching in tests without spelling out associated values.
    var caseName: String { Mirror(reflecting: self).children.first?.label ?? "\(self)" }
}

/// Asserts `body` throws a ``ZarrError`` whose case is `name` and returns it.
@discardableResult
func expectZarrError(_ name: String, sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: () throws -> Void) -> ZarrError? {
    do {
        try body()
        Issue.record("expected ZarrError.\(name), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ZarrError {
        #expect(error.caseName == name, "got \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected ZarrError.\(name), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
