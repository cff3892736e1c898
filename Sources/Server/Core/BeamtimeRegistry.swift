import Foundation
import Logging
import Resonance
import Synchronization

/// The beamtimes found under ROOT, by label, with their opened ``Catalog``s.
///
/// A beamtime is a `*.db` file that opens as one (other SQLite files, such as a master
/// index, are passed over). Labels are the file names without `.db`; a client's label is
/// only ever looked up here, never turned into a path. Folders are walked to
/// ``maxDepth``, skipping hidden ones and `.zarr` stores.
///
/// Catalogs are opened once and shared: a `Catalog` is safe for concurrent use (its
/// SQLite queue serializes the reads; frame reads go to Zarr without it).
public final class BeamtimeRegistry: Sendable {
    /// One beamtime as discovered.
    public struct Beamtime: Sendable {
        /// `2026-03-05` for `2026-03-05.db`.
        public let label: String
        /// The database path (absolute).
        public let dbPath: String
        /// The database path relative to ROOT, as `/api/beamtimes` shows it.
        public let relativePath: String
        /// The opened catalog.
        public let catalog: Catalog
    }

    public static let maxDepth = 3

    public let root: String
    private let logger: Logger
    private struct State {
        var beamtimes: [String: Beamtime] = [:]
        /// Files that did not open as beamtimes, with the ``FileSignature`` they had: retried
        /// when it changes (a writer may have been creating the file).
        var refused: [String: FileSignature] = [:]
        var lastScan: ContinuousClock.Instant?
    }
    private let state = Mutex(State())
    /// Held for a whole scan: two scans at once (the live feed's and a request's lookup)
    /// would both open each new beamtime, and the second catalog would replace the first.
    private let scanning = Mutex(())

    public init(root: String, logger: Logger) {
        self.root = (root as NSString).standardizingPath
        self.logger = logger
    }

    /// Every beamtime, sorted by label.
    public var all: [Beamtime] {
        state.withLock { $0.beamtimes.values.sorted { $0.label < $1.label } }
    }

    /// The beamtime with this label, if discovered.
    public func beamtime(_ label: String) -> Beamtime? {
        state.withLock { $0.beamtimes[label] }
    }

    /// The beamtime with this label; scans ROOT once more (at most every 250 ms) when it is
    /// not known yet, so a beamtime created a moment ago is found. Blocking: call it on the
    /// ``BlockingPool``.
    public func lookup(_ label: String) throws -> Beamtime {
        if let found = beamtime(label) { return found }
        let recent = state.withLock { s in s.lastScan.map { ContinuousClock.now - $0 < .milliseconds(250) } ?? false }
        if !recent { scan() }
        if let found = beamtime(label) { return found }
        throw Problem.notFound("no beamtime labelled \(label.debugDescription) under the served folder (GET /api/beamtimes lists them)")
    }

    /// Looks for new beamtimes under ROOT and opens them; returns the labels added.
    /// Blocking (directory walk, SQLite opens): call it on the ``BlockingPool``.
    @discardableResult
    public func scan() -> [String] {
        scanning.withLock { _ in scanOnce() }
    }

    private func scanOnce() -> [String] {
        state.withLock { $0.lastScan = .now }
        var found: [(path: String, relative: String)] = []
        walk(root, relative: "", depth: 0, into: &found)
        var added: [String] = []
        for (path, relative) in found.sorted(by: { $0.relative < $1.relative }) {
            let label = String(((relative as NSString).lastPathComponent as NSString).deletingPathExtension)
            let (known, skip) = state.withLock { s -> (Bool, Bool) in
                if let existing = s.beamtimes[label] { return (existing.dbPath == path, existing.dbPath != path) }
                return (false, false)
            }
            if known { continue }
            if skip {
                logger.warning("beamtime label \(label) is taken; not serving \(relative)")
                continue
            }
            let signature = FileSignature(dbPath: path)
            let refusedBefore = state.withLock { s in s.refused[path] == signature }
            if refusedBefore { continue }
            do {
                let catalog = try Catalog(dbPath: path).open()
                let beamtime = Beamtime(label: label, dbPath: path, relativePath: relative, catalog: catalog)
                state.withLock { s in
                    s.beamtimes[label] = beamtime
                    s.refused[path] = nil
                }
                added.append(label)
                logger.info("serving beamtime \(label) (\(relative))")
            } catch {
                state.withLock { $0.refused[path] = signature }
                logger.debug("not a beamtime: \(relative): \(error)")
            }
        }
        return added
    }

    private func walk(_ folder: String, relative: String, depth: Int, into found: inout [(path: String, relative: String)]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where !name.hasPrefix(".") {
            let path = folder + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { continue }
            if isFolder.boolValue {
                if depth < Self.maxDepth, !name.hasSuffix(".zarr") { walk(path, relative: rel, depth: depth + 1, into: &found) }
            } else if name.hasSuffix(".db"), name.count > 3 {
                found.append((path, rel))
            }
        }
    }

    /// Registers a beamtime created through the server (a documents POST); blocking.
    func adopt(label: String, dbPath: String) throws -> Beamtime {
        if let existing = beamtime(label) { return existing }
        let catalog = try Catalog(dbPath: dbPath).open()
        let relative = String(dbPath.dropFirst(root.count + 1))
        let beamtime = Beamtime(label: label, dbPath: dbPath, relativePath: relative, catalog: catalog)
        return state.withLock { s in
            if let existing = s.beamtimes[label] { return existing }
            s.beamtimes[label] = beamtime
            return beamtime
        }
    }
}

/// Size and modification time of a database file and of its `-wal` beside it: what tells
/// that a file refused once may have become a beamtime since.
///
/// The `-wal` counts because a writer in WAL mode commits only to it: a new beamtime's `.db`
/// stays a 4 KiB header without tables, unchanged, until the first checkpoint (seconds or
/// minutes later), while its schema and every commit go to the `-wal`. A scan that met the
/// file between its creation and the schema's commit refused it; judged by the `.db` alone it
/// would never be looked at again while its writer runs.
struct FileSignature: Equatable {
    var size: Int64, mtime: Double, walSize: Int64, walMtime: Double

    init(dbPath: String) {
        func stat(_ path: String) -> (Int64, Double) {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return (-1, 0) }
            return ((attributes[.size] as? NSNumber)?.int64Value ?? -1,
                    (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
        }
        (size, mtime) = stat(dbPath)
        (walSize, walMtime) = stat(dbPath + "-wal")
    }
}
