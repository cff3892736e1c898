import Synchronization
import Foundation
import GRDB
import Zarr

/// What `resonance check` finds in a beamtime, and what `--repair` changed.
public struct CheckReport: Sendable {
    /// One thing wrong with the beamtime.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// Kinds of problems, from the database to single frames.
        public enum Kind: String, Sendable, Codable {
            /// `PRAGMA integrity_check` reported damage.
            case integrity
            /// Image refs exist but the Zarr store folder does not.
            case storeMissing
            /// An image ref names an array that cannot be opened.
            case arrayUnreadable
            /// A referenced frame's chunk cannot be decoded (truncated, corrupt, unreadable).
            case frameUnreadable
            /// A ref's index is beyond the array's first dimension.
            case frameBeyondShape
            /// A ref's shape or dtype disagrees with its array.
            case refMismatch
        }

        public var kind: Kind
        /// The file, array or chunk concerned.
        public var path: String
        public var message: String

        public var description: String { "\(kind.rawValue): \(path): \(message)" }
    }

    /// A run without time_stop.
    public struct OpenRun: Sendable, Equatable {
        public var uid: String
        public var planName: String
        public var timeStart: Double
        /// Events that survived in the file.
        public var events: Int
        /// The last event's time, if any.
        public var lastEventTime: Double?
        /// True when a live writer holds the beamtime: the run is being written, not dead.
        public var beingWritten: Bool
    }

    /// The database path.
    public var path: String
    /// Problems found; empty when healthy.
    public var problems: [Problem] = []
    /// Runs left open: by a dead writer, or being written now (``OpenRun/beingWritten``).
    public var openRuns: [OpenRun] = []
    /// Image refs whose frames were read back.
    public var framesChecked = 0
    /// Frames in arrays that no image ref points at (a writer killed between storing a
    /// frame and committing its ref leaves one). Not damage: kept, never deleted.
    public var unreferencedFrames = 0
    /// What `--repair` changed, one line each.
    public var repairs: [String] = []
    /// Things worth knowing that are not damage (e.g. a file left in WAL mode), one line each.
    public var notes: [String] = []

    /// No problems, and no run left open by a dead writer.
    public var isHealthy: Bool { problems.isEmpty && !openRuns.contains { !$0.beingWritten } }
}

/// Checks a beamtime: SQLite integrity; every image ref resolves to a readable frame;
/// arrays and refs agree; runs left open by a dead writer. With `repair`, closes such runs
/// (exit_status "failed", time_stop = last event time, num_events = surviving events, a
/// note in metadata) and never deletes anything.
///
/// ```swift
/// let report = try BeamtimeCheck.run(dbPath: "2026-03-05.db", repair: true)
/// for line in report.repairs { print(line) }
/// ```
public enum BeamtimeCheck {
    /// Checks (and optionally repairs) the beamtime at `dbPath`. `progress` is called with
    /// (frames checked, frames to check).
    public static func run(dbPath: String, repair: Bool = false,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> CheckReport {
        var report = CheckReport(path: dbPath)
        let storePath = RunWriter.zarrPath(forDatabase: dbPath)
        // A live writer holds the store's lock; repairing under it would race the writer.
        var lock: StoreLock?
        var writerIsLive = false
        if FileManager.default.fileExists(atPath: storePath) {
            do {
                lock = try StoreLock(storePath: storePath, dbPath: dbPath)
            } catch let error as DatabaseFileError where error.problem == .lockedByAnotherWriter {
                writerIsLive = true
            } catch {
                lock = nil
            }
        }
        if !repair { lock = nil }  // a plain check must not block a writer from starting
        let leftInWAL = !writerIsLive && DatabaseFile.isInWALMode(dbPath)
        let queue = repair && !writerIsLive
            ? try DatabaseFile.openForWriting(dbPath, schema: BeamtimeSchema.self)
            : try DatabaseFile.openForReading(dbPath, schema: BeamtimeSchema.self)
        defer { try? queue.close() }

        let integrity = try queue.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
        if integrity != ["ok"] {
            for line in integrity { report.problems.append(.init(kind: .integrity, path: dbPath, message: line)) }
        }

        try checkFrames(queue, storePath: storePath, report: &report, progress: progress)

        report.openRuns = try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.uid, r.plan_name, r.time_start,
                       (SELECT COUNT(*) FROM events e JOIN streams s ON s.uid = e.stream_uid WHERE s.run_uid = r.uid) AS n,
                       (SELECT MAX(e.time) FROM events e JOIN streams s ON s.uid = e.stream_uid WHERE s.run_uid = r.uid) AS last
                FROM runs r WHERE r.time_stop IS NULL ORDER BY r.time_start
                """).map { row in
                CheckReport.OpenRun(uid: row["uid"], planName: row["plan_name"], timeStart: row["time_start"],
                                    events: row["n"], lastEventTime: row["last"], beingWritten: writerIsLive)
            }
        }

        if repair {
            if writerIsLive {
                report.repairs.append("nothing repaired: a writer is writing this beamtime now; close it first")
            } else {
                try closeDeadRuns(queue, report: &report)
                // A dead writer leaves the file in WAL mode, which read-only readers in a
                // folder they cannot write fail to open.
                if leftInWAL {
                    report.repairs.append(DatabaseFile.leaveWALMode(queue)
                        ? "put the file back in rollback-journal mode (a dead writer left it in WAL mode), so read-only readers can open it"
                        : "left in WAL mode: another program has the file open; run the repair again once it is closed")
                }
            }
        } else if leftInWAL {
            report.notes.append("the file is in WAL mode, as a writer that did not close leaves it: readers who cannot write its folder fail to open it; --repair changes that")
        }
        _ = lock
        return report
    }

    private static func checkFrames(_ queue: DatabaseQueue, storePath: String, report: inout CheckReport,
                                    progress: (@Sendable (Int, Int) -> Void)?) throws {
        struct Ref: Sendable { var group: String; var index: Int; var rows: Int; var columns: Int; var dtype: String }
        let refs = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT zarr_group, index_in_stack, shape_x, shape_y, dtype FROM image_refs ORDER BY zarr_group, index_in_stack")
                .map { Ref(group: $0[0], index: $0[1], rows: $0[2], columns: $0[3], dtype: $0[4]) }
        }
        guard !refs.isEmpty else { return }
        guard FileManager.default.fileExists(atPath: storePath) else {
            report.problems.append(.init(kind: .storeMissing, path: storePath,
                                         message: "\(refs.count) image refs point into a Zarr store that does not exist"))
            return
        }
        let store = try FilesystemStore(root: storePath)
        let groups = Dictionary(grouping: refs, by: \.group)
        let total = refs.count
        var checked = 0
        for group in groups.keys.sorted() {
            let refs = groups[group]!
            let array: ZarrArray
            do {
                array = try ZarrArray.open(in: store, at: group)
            } catch {
                report.problems.append(.init(kind: .arrayUnreadable, path: storePath + "/" + group, message: "\(error)"))
                checked += refs.count
                continue
            }
            let shape = array.shape
            var readable: [Ref] = []
            for ref in refs {
                if shape.count != 3 || shape[1] != ref.rows || shape[2] != ref.columns || array.dataType.name != ref.dtype {
                    report.problems.append(.init(kind: .refMismatch, path: storePath + "/" + group,
                        message: "frame \(ref.index) is recorded as \(ref.rows)x\(ref.columns) \(ref.dtype), the array is \(shape) \(array.dataType.name)"))
                } else if ref.index >= shape[0] || ref.index < 0 {
                    report.problems.append(.init(kind: .frameBeyondShape, path: storePath + "/" + group,
                        message: "frame \(ref.index) is referenced but the array holds \(shape[0]) frames"))
                } else {
                    readable.append(ref)
                }
            }
            // Decode every referenced frame, on all cores, one buffer per worker.
            let toRead = readable
            let base = checked
            let failures = Mutex<[CheckReport.Problem]>([])
            let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
            let done = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let frameChunk = shape.count == 3 && array.innerChunkShape == [1, shape[1], shape[2]]
                let buffer = UnsafeMutableRawBufferPointer.allocate(
                    byteCount: max(frameChunk ? array.innerChunkByteCount : array.chunkByteCount, 1), alignment: 16)
                defer { buffer.deallocate() }
                for k in stride(from: worker, to: toRead.count, by: workers) {
                    let ref = toRead[k]
                    do {
                        if frameChunk {
                            // A frame's own chunk, in its file or through its shard's index.
                            try array.readInnerChunk(at: [ref.index, 0, 0], into: buffer)
                        } else {
                            _ = try array.readChunk(at: [ref.index / array.chunkShape[0], 0, 0], into: buffer)
                        }
                    } catch {
                        let key = frameChunk ? array.innerChunkLocation(at: [ref.index, 0, 0]).key : array.chunkKey(at: [ref.index / array.chunkShape[0], 0, 0])
                        failures.withLock { $0.append(.init(kind: .frameUnreadable, path: storePath + "/" + key, message: "\(error)")) }
                    }
                    let n = done.withLock { $0 += 1; return $0 }
                    progress?(base + n, total)
                }
            }
            report.problems += failures.withLock { $0 }.sorted { $0.path < $1.path }
            report.framesChecked += readable.count
            let referenced = Set(refs.map(\.index))
            if shape.count == 3 { report.unreferencedFrames += max(0, shape[0] - referenced.count) }
            checked += refs.count
        }
    }

    private static func closeDeadRuns(_ queue: DatabaseQueue, report: inout CheckReport) throws {
        let dead = report.openRuns.filter { !$0.beingWritten }
        guard !dead.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        try queue.write { db in
            for run in dead {
                let text = try String.fetchOne(db, sql: "SELECT metadata FROM runs WHERE uid = ?", arguments: [run.uid]) ?? "{}"
                var metadata = (try? JSONValue(parsing: text))?.objectValue ?? ["unparsed_metadata": .string(text)]
                metadata["repair"] = [
                    "by": "resonance check --repair",
                    "at": .double(now),
                    "note": "left open by a writer that stopped without closing it; closed as failed with the events that survived",
                    "surviving_events": .int(Int64(run.events)),
                ]
                let stop = run.lastEventTime ?? run.timeStart
                try db.execute(
                    sql: "UPDATE runs SET exit_status = 'failed', time_stop = ?, num_events = ?, metadata = ? WHERE uid = ? AND time_stop IS NULL",
                    arguments: [stop, run.events, JSONValue.object(metadata).jsonText, run.uid])
            }
        }
        for run in dead {
            report.repairs.append("closed run \(run.uid) (\(run.planName)) as failed: \(run.events) events, time_stop \(run.lastEventTime ?? run.timeStart)")
        }
        report.openRuns.removeAll { !$0.beingWritten }
    }
}
