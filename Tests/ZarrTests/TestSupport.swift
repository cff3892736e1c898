import Foundation
import Testing
@_exported import TestSupport
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

/// The test fixtures folder (`Tests/Fixtures`), as a URL.
let fixturesDirectory = URL(fileURLWithPath: fixturesDir)

/// The golden stores written by zarr-python (`Tests/ZarrTests/Golden`).
let goldenDirectory: URL = {
    if let url = Bundle.module.url(forResource: "Golden", withExtension: nil) { return url }
    return URL(fileURLWithPath: packageRoot + "/Tests/ZarrTests/Golden")
}()

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
