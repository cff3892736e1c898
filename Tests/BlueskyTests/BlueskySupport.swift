import Foundation
import GRDB
import Testing
@_exported import TestSupport

/// A Python helper that failed: what it printed on stderr.
struct ScriptFailed: Error, CustomStringConvertible {
    var stderr: String
    var description: String { stderr }
}

/// The Python helpers beside these tests.
let pythonDir = packageRoot + "/Tests/BlueskyTests/python"

/// Runs `python3 <pythonDir>/<script> args...`; records an issue (the script's stderr)
/// and throws when it fails.
@discardableResult
func runScript(_ script: String, _ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let result = try runCommand("/usr/bin/env", ["python3", pythonDir + "/" + script] + args)
    guard result.status == 0 else {
        let hint = result.stderr.contains("ModuleNotFoundError") ? "Python module missing (bash scripts/setup.sh installs bluesky, ophyd, event-model): " : ""
        Issue.record(Comment(rawValue: "\(script) \(args.joined(separator: " ")) failed (\(result.status)): \(hint)\(result.stderr.suffix(3000))\(result.stdout.suffix(2000))"),
                     sourceLocation: sourceLocation)
        throw ScriptFailed(stderr: result.stderr)
    }
    return result.stdout
}

/// Documents of every plan of run_plans.py, made once per test process (the RunEngine
/// and its imports take seconds) in a folder that outlives the tests that share it.
enum PlanDocuments {
    struct Made: Sendable {
        var folder: String
        var jsonl: String { folder + "/all.jsonl" }
    }

    /// Removed when the test process exits.
    static let folder = NSTemporaryDirectory() + "resonance-bluesky-docs-\(getpid())"

    static let made: Result<Made, ScriptFailed> = {
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: PlanDocuments.folder) }
        do {
            let result = try runCommand("/usr/bin/env", ["python3", pythonDir + "/run_plans.py", folder + "/all.jsonl", folder + "/files"])
            guard result.status == 0 else { return .failure(ScriptFailed(stderr: result.stderr)) }
        } catch {
            return .failure(ScriptFailed(stderr: "\(error)"))
        }
        return .success(Made(folder: folder))
    }()

    static func get(sourceLocation: SourceLocation = #_sourceLocation) throws -> Made {
        switch made {
        case .success(let made): return made
        case .failure(let error):
            Issue.record(Comment(rawValue: "run_plans.py failed: \(error.stderr.suffix(3000))"), sourceLocation: sourceLocation)
            throw error
        }
    }

    /// The documents, one [name, doc] line each.
    static func lines() throws -> [String] {
        try String(contentsOfFile: get().jsonl, encoding: .utf8).split(separator: "\n").map(String.init)
    }
}

/// Read-only queries on a beamtime the tests made.
func query<T>(_ db: String, _ body: (Database) throws -> T) throws -> T {
    var config = Configuration()
    config.readonly = true
    config.busyMode = .timeout(10)
    let queue = try DatabaseQueue(path: db, configuration: config)
    defer { try? queue.close() }
    return try queue.read(body)
}

/// The uids of the beamtime's runs.
func runUIDs(_ db: String) throws -> [String] {
    try query(db) { try String.fetchAll($0, sql: "SELECT uid FROM runs ORDER BY time_start") }
}
