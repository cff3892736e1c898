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
        /// Files that did not open as beamtimes, with the size and mtime they had: retried
        /// when either changes (a writer may have been creating the file).
        var refused: [String: (size: Int64, mtime: Double)] = [:]
        var lastScan: ContinuousClock.Instant?
    }
    private let state = Mutex(State())

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
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
            let mtime = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let refusedBefore = state.withLock { s in s.refused[path].map { $0.size == size && $0.mtime == mtime } ?? false }
            if refusedBefore { continue }
            do {
                let catalog = try Catalog(dbPath: path)
                let beamtime = Beamtime(label: label, dbPath: path, relativePath: relative, catalog: catalog)
                state.withLock { s in
                    s.beamtimes[label] = beamtime
                    s.refused[path] = nil
                }
                added.append(label)
                logger.info("serving beamtime \(label) (\(relative))")
            } catch {
                state.withLock { $0.refused[path] = (size, mtime) }
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
        let catalog = try Catalog(dbPath: dbPath)
        let relative = String(dbPath.dropFirst(root.count + 1))
        let beamtime = Beamtime(label: label, dbPath: dbPath, relativePath: relative, catalog: catalog)
        return state.withLock { s in
            if let existing = s.beamtimes[label] { return existing }
            s.beamtimes[label] = beamtime
            return beamtime
        }
    }
}
