import Foundation
import GRDB
import OrderedCollections
import Zarr

/// Field -> Unix seconds at which the field's value was read.
public typealias Timestamps = OrderedDictionary<String, Double>

/// Writes runs, streams, events and detector frames into one beamtime: a SQLite file
/// (docs/format.md, "The beamtime database") and the Zarr v3 store beside it ("Frames").
///
/// ```swift
/// let writer = RunWriter(dbPath: "2026-03-05.db", sample: SampleMetadata(name: "PS"))
/// try writer.open { w in
///     try w.openRun("nexafs", metadata: ["edge": "C K"])
///     try w.openStream("primary", dataKeys: ["energy": ["dtype": "number", "units": "eV"]])
///     for e in stride(from: 270.0, through: 320.0, by: 0.5) {
///         try w.writeEvent(["energy": .double(e), "i0": 1.0e5])
///     }
/// }   // the run is closed "success", or "failed" if the closure threw
/// ```
///
/// Durability: events are committed in batches by a background thread, no later than
/// ``Options/commitInterval`` (1 s) after `writeEvent` returns (``flush()`` forces it), and
/// a commit is synced to disk before it counts as done (``Options/commitDurability``). So a
/// crash, a kill or a power cut at any moment loses at most the events of that last
/// interval; everything committed stays readable by any SQLite client, also while the run
/// is being written (WAL mode). ``close()`` leaves the file in rollback-journal mode, so
/// read-only readers open it even where they cannot write its folder.
///
/// A commit that keeps failing (a full disk, a file changed by another program) is tried
/// ``Committer/automaticAttempts`` (3) times, one interval apart. Then ``writeEvent(_:timestamps:stream:time:)``
/// throws ``RunWriterError/commitFailed(reason:pendingEvents:)`` at once, without accepting
/// the event; ``flush()`` is the caller's retry and throws within one attempt (at most the
/// 10 s SQLite busy timeout plus the time to write the batch); ``close()`` throws the same
/// way and leaves the writer open. Every event accepted before stays in memory for the retry.
///
/// One writer per beamtime: a second writer on the same files, in this process or another,
/// gets ``DatabaseFileError/Problem/lockedByAnotherWriter``.
public final class RunWriter: @unchecked Sendable {
    /// Settings of a writer.
    public struct Options: Sendable {
        /// Longest time an event waits in memory before it is committed.
        public var commitInterval: TimeInterval = 1.0
        /// What a commit survives; ``CommitDurability/powerCut`` unless said otherwise.
        public var commitDurability: CommitDurability = .powerCut
        /// How detector frames are compressed.
        public var frameCodec: FrameCodec = .default
        /// How frames are laid out in the Zarr store: a file per frame, or shards of many.
        public var frameLayout: FrameLayout = .automatic
        /// A master index in which each run is indexed when it closes; nil for none.
        public var index: IndexRegistration?

        public init(commitInterval: TimeInterval = 1.0, commitDurability: CommitDurability = .powerCut,
                    frameCodec: FrameCodec = .default, index: IndexRegistration? = nil,
                    frameLayout: FrameLayout = .automatic) {
            self.commitInterval = commitInterval
            self.commitDurability = commitDurability
            self.frameCodec = frameCodec
            self.index = index
            self.frameLayout = frameLayout
        }
    }

    /// What a committed transaction survives.
    public enum CommitDurability: Sendable {
        /// A crash, a kill or a power cut: each commit syncs the write-ahead log before the
        /// committer counts it done (SQLite `synchronous = FULL`).
        case powerCut
        /// A crash or kill of the process only: the log is synced at checkpoints, so a power
        /// cut may lose the commits since the last one (`synchronous = NORMAL`). For scratch
        /// data, or to measure what the sync costs (`resonance bench`).
        case processCrash
    }

    /// Path of the SQLite file.
    public let dbPath: String
    /// Path of the Zarr store: the database path with its suffix replaced by `.zarr`.
    public let zarrPath: String
    /// The sample; ``SampleMetadata/id`` is set by ``open()``.
    public private(set) var sample: SampleMetadata
    /// The writer's settings.
    public let options: Options

    /// The open run's uid, or nil.
    public var currentRunUID: String? { lock.withLock { run?.uid } }

    private let lock = NSRecursiveLock()
    private(set) var queue: DatabaseQueue?
    private var committer: Committer?
    private var storeLock: StoreLock?
    var frames: FrameStore?
    var run: RunState?
    /// Event JSON text is written here (guarded by `lock`).
    private var eventText = JSONTextBuffer()
    /// Field names of an earlier event that passed the name check.
    private var checkedFieldNames: [String] = []
    /// Image field names that passed the name checks.
    private var checkedFrameFields: Set<String> = []

    /// The open run: its streams and counters.
    struct RunState {
        var uid: String
        var streams: OrderedDictionary<String, StreamState> = [:]
        var currentStream: String?
        var eventCount = 0
    }

    struct StreamState {
        var uid: String
        var seqNum: Int64 = 0
    }

    /// A writer for the beamtime at `dbPath`; nothing is touched until ``open()``.
    public init(dbPath: String, sample: SampleMetadata, options: Options = Options()) {
        self.dbPath = dbPath
        self.zarrPath = Self.zarrPath(forDatabase: dbPath)
        self.sample = sample
        self.options = options
    }

    deinit {
        guard queue != nil else { return }
        do {
            try close()
        } catch {
            // The last commit failed and nobody is left to retry it: stop the threads and
            // let go of the files. What was committed before stays.
            try? frames?.stop()
            committer?.abandon()
            try? queue?.close()
        }
    }

    /// The store path for a database path: the suffix replaced by `.zarr`.
    public static func zarrPath(forDatabase dbPath: String) -> String {
        // Like Python's Path.with_suffix(".zarr"): only the last suffix of the file name changes.
        let nameStart = dbPath.lastIndex(of: "/").map { dbPath.index(after: $0) } ?? dbPath.startIndex
        let name = dbPath[nameStart...]
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return String(dbPath[..<dot]) + ".zarr"
        }
        return dbPath + ".zarr"
    }

    // MARK: Opening and closing

    /// Opens the database (creating it, or migrating a version-1 file), takes the
    /// beamtime's writer lock, opens the Zarr store, and finds or inserts the sample.
    public func open() throws {
        try lock.withLock {
            guard queue == nil else { throw RunWriterError.alreadyOpen }
            try NameRules.checkText(sample.name, kind: "sample")
            try NameRules.checkReadable(sample.extra, what: "sample extra")
            // Check the file before making the store beside it, so a refused path gains nothing.
            try DatabaseFile.checkFolder(of: dbPath)
            if try DatabaseFile.inspect(dbPath) == .sqlite {
                try DatabaseFile.check(path: dbPath, DatabaseFile.survey(dbPath, schema: BeamtimeSchema.self), schema: BeamtimeSchema.self)
            }
            // The frame pipeline queues image_refs rows with the committer made below.
            let sink = CommitterSink()
            let frames = try FrameStore(path: zarrPath) { sink.enqueue($0) }
            let storeLock = try StoreLock(storePath: zarrPath, dbPath: dbPath)
            let queue = try DatabaseFile.openForWriting(
                dbPath, schema: BeamtimeSchema.self,
                configuration: DatabaseFile.writerConfiguration(syncEachCommit: options.commitDurability == .powerCut))
            do {
                sample.id = try upsertSample(queue)
            } catch {
                try? queue.close()
                throw error
            }
            self.queue = queue
            self.storeLock = storeLock
            self.frames = frames
            let storePath = zarrPath
            let committer = Committer(queue: queue, interval: options.commitInterval) {
                try FrameStore.syncFileSystem(of: storePath)
            }
            sink.committer = committer
            self.committer = committer
        }
    }

    /// Opens the writer, runs `body`, and closes: the open run is closed "success", or
    /// "failed" when `body` throws (the error is rethrown). The scoped counterpart of
    /// Python's `with RunWriter(...) as w:`.
    @discardableResult
    public func open<T>(_ body: (RunWriter) throws -> T) throws -> T {
        try open()
        let result: T
        do {
            result = try body(self)
        } catch {
            if currentRunUID != nil { try? closeRun(exitStatus: .failed) }
            try? close()
            throw error
        }
        if currentRunUID != nil {
            // closeRun can fail after the run is saved (indexing it); close the files anyway.
            do { try closeRun(exitStatus: .success) } catch { try? close(); throw error }
        }
        try close()
        return result
    }

    /// Commits what is pending and closes the files. A run still open stays open
    /// (`resonance check --repair` closes such runs); close it first with ``closeRun(exitStatus:)``.
    public func close() throws {
        try lock.withLock {
            guard let queue, let committer else { throw RunWriterError.notOpen }
            // Frames first: storing them queues their image_refs rows for the last commit.
            try frames?.stop()
            try committer.stop()
            self.committer = nil
            self.queue = nil
            self.frames = nil
            self.run = nil
            DatabaseFile.leaveWALMode(queue)
            try queue.close()
            storeLock = nil
        }
    }

    /// Commits every event and frame reference written so far, and waits for it.
    public func flush() throws {
        try lock.withLock {
            guard let committer else { throw RunWriterError.notOpen }
            frames?.waitUntilStored()
            try committer.flush()
            try frames?.checkFailure()
        }
    }

    private func upsertSample(_ queue: DatabaseQueue) throws -> Int64 {
        let sample = self.sample
        return try queue.write { db in
            if let id = sample.id, try Bool.fetchOne(db, sql: "SELECT 1 FROM samples WHERE id = ?", arguments: [id]) == true {
                return id
            }
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM samples WHERE name = ? ORDER BY id LIMIT 1", arguments: [sample.name]) {
                return id
            }
            try db.execute(
                sql: "INSERT INTO samples (name, formula, serial, tags, beamline_pos, extra) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [sample.name, sample.formula, sample.serial, JSONValue(sample.tags).jsonText,
                            sample.beamlinePos, JSONValue.object(sample.extra).jsonText])
            return db.lastInsertedRowID
        }
    }

    // MARK: Runs and streams

    /// Starts a run and returns its uid.
    ///
    /// - Parameters:
    ///   - planName: the scan plan, e.g. "nexafs".
    ///   - metadata: run metadata, stored as a JSON object.
    ///   - operator: who runs the scan.
    ///   - uid: a uid to use (32 lowercase hex digits) instead of a new one.
    ///   - time: the run's start (Unix seconds) when it is not now, e.g. a recorded run's.
    @discardableResult
    public func openRun(_ planName: String, metadata: JSONObject = [:], operator: String? = nil, uid: String? = nil,
                        time: Double? = nil) throws -> String {
        try lock.withLock {
            let (queue, committer) = try openParts()
            if let run { throw RunWriterError.runAlreadyOpen(uid: run.uid) }
            try NameRules.checkText(planName, kind: "plan")
            if let uid, !UID.isValid(uid) { throw RunWriterError.invalidUID(uid) }
            let uid = uid ?? UID.make()
            try NameRules.checkReadable(metadata, what: "run metadata")
            let metadataText = JSONValue.object(metadata).jsonText
            try committer.flush()
            try queue.write { db in
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE uid = ?", arguments: [uid]) == true {
                    throw RunWriterError.runUIDInUse(uid: uid)
                }
                try db.execute(
                    sql: "INSERT INTO runs (uid, sample_id, plan_name, time_start, num_events, operator, metadata) VALUES (?, ?, ?, ?, 0, ?, ?)",
                    arguments: [uid, sample.id, planName, time ?? Date().timeIntervalSince1970, `operator`, metadataText])
            }
            run = RunState(uid: uid)
            return uid
        }
    }

    /// Adds a stream (e.g. "primary", "baseline") to the open run and makes it the stream
    /// `writeEvent` writes to by default. Returns the stream uid.
    @discardableResult
    public func openStream(_ name: String, dataKeys: JSONObject = [:]) throws -> String {
        try lock.withLock {
            let (queue, committer) = try openParts()
            guard var run else { throw RunWriterError.noOpenRun }
            try NameRules.checkPathComponent(name, kind: "stream")
            if run.streams[name] != nil { throw RunWriterError.duplicateStream(name: name) }
            let uid = UID.make()
            try NameRules.checkReadable(dataKeys, what: "data_keys of stream \(name.debugDescription)")
            let keysText = JSONValue.object(dataKeys).jsonText
            try committer.flush()
            try queue.write { db in
                try db.execute(
                    sql: "INSERT INTO streams (uid, run_uid, name, data_keys, time_created) VALUES (?, ?, ?, ?, ?)",
                    arguments: [uid, run.uid, name, keysText, Date().timeIntervalSince1970])
            }
            run.streams[name] = StreamState(uid: uid)
            run.currentStream = name
            self.run = run
            return uid
        }
    }

    /// Closes the open run: sets time_stop, exit_status and num_events, commits everything.
    ///
    /// With ``Options/index`` set, the run is then indexed; if that fails the run stays
    /// closed and saved, and a ``RunIndexingError`` says how to index it later.
    ///
    /// `time` is the run's end (Unix seconds) when it is not now, e.g. a recorded run's.
    public func closeRun(exitStatus: ExitStatus = .success, time: Double? = nil) throws {
        try lock.withLock {
            let (queue, committer) = try openParts()
            guard let run else { throw RunWriterError.noOpenRun }
            frames?.waitUntilStored()
            try committer.flush()
            // A frame that could not be stored is reported before the run is closed.
            try frames?.checkFailure()
            try queue.write { db in
                try db.execute(
                    sql: "UPDATE runs SET time_stop = ?, exit_status = ?, num_events = ? WHERE uid = ?",
                    arguments: [time ?? Date().timeIntervalSince1970, exitStatus.rawValue, run.eventCount, run.uid])
            }
            frames?.closeRun(run.uid)
            self.run = nil
            if let index = options.index { try indexClosedRun(run.uid, queue: queue, in: index) }
        }
    }

    // MARK: Events

    /// Writes one event (one scan point) and returns its uid.
    ///
    /// - Parameters:
    ///   - data: field -> scalar (number, string, bool or null).
    ///   - timestamps: field -> Unix seconds; finite.
    ///   - stream: the stream to write to; by default the stream opened last.
    ///   - time: the event time; by default now.
    ///   - uid: the event's uid (32 lowercase hex digits) when it has one already, e.g. a
    ///     recorded event's; it must not be in the beamtime yet. By default a new one.
    ///   - seqNum: the event's seq_num when it has one already; it must be above the
    ///     stream's last. By default the one after the stream's last.
    @discardableResult
    public func writeEvent(_ data: JSONObject, timestamps: Timestamps = [:], stream: String? = nil, time: Double? = nil,
                           uid: String? = nil, seqNum: Int64? = nil) throws -> String {
        try lock.withLock {
            let (_, committer) = try openParts()
            if let frames, frames.hasFailure { try frames.checkFailure() }
            // `self.run` is read and updated in place: a local copy would make every event
            // copy the streams dictionary when it bumps the sequence number.
            guard run != nil else { throw RunWriterError.noOpenRun }
            let name: String
            if let stream {
                guard run!.streams[stream] != nil else {
                    throw RunWriterError.unknownStream(name: stream, known: Array(run!.streams.keys))
                }
                name = stream
            } else {
                guard let current = run!.currentStream else { throw RunWriterError.noOpenStream }
                name = current
            }
            // Every event of a stream usually has the fields of the one before: their names
            // were checked then.
            let namesChecked = data.keys.elementsEqual(checkedFieldNames)
            for (field, value) in data {
                if !namesChecked { try NameRules.checkText(field, kind: "field") }
                if !value.isScalar { throw RunWriterError.nonScalarValue(field: field, value: value.jsonText) }
            }
            if !namesChecked { checkedFieldNames = Array(data.keys) }
            for (field, t) in timestamps where !t.isFinite {
                throw RunWriterError.nonFiniteTimestamp(field: field, value: t)
            }
            if let time, !time.isFinite { throw RunWriterError.nonFiniteTimestamp(field: "time", value: time) }
            let streamState = run!.streams[name]!
            if let uid, !UID.isValid(uid) { throw RunWriterError.invalidUID(uid) }
            if let seqNum, seqNum <= streamState.seqNum {
                throw RunWriterError.seqNumNotIncreasing(stream: name, seqNum: seqNum, last: streamState.seqNum)
            }
            let uid = uid ?? UID.make()
            let seq = seqNum ?? streamState.seqNum + 1
            try committer.enqueue(.event(
                uid: uid, streamUID: streamState.uid, seqNum: seq, time: time ?? Date().timeIntervalSince1970,
                data: eventText.object(data), timestamps: eventText.numbers(timestamps)))
            run!.streams[name]!.seqNum = seq
            run!.eventCount += 1
            return uid
        }
    }

    // MARK: Internals shared with the frame writer

    func openParts() throws(RunWriterError) -> (DatabaseQueue, Committer) {
        guard let queue, let committer else { throw .notOpen }
        return (queue, committer)
    }

    /// The open run's state; used by writeFrame.
    var openRun: RunState? { run }

    /// Checks an image field name (once per name: the check is not free).
    func checkFrameField(_ field: String) throws {
        if checkedFrameFields.contains(field) { return }
        try NameRules.checkPathComponent(field, kind: "field")
        do {
            try ZarrNodeName.validate(field)
        } catch {
            throw RunWriterError.invalidName(kind: "field", name: field, reason: "\(error)")
        }
        checkedFrameFields.insert(field)
    }

    /// Whether `eventUID` is an event of the open run, committed or queued.
    func isEventOfOpenRun(_ eventUID: String) throws -> Bool {
        guard let run else { return false }
        let (queue, committer) = try openParts()
        if committer.containsEvent(eventUID) { return true }
        return try queue.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT 1 FROM events JOIN streams ON streams.uid = events.stream_uid
                WHERE events.uid = ? AND streams.run_uid = ?
                """, arguments: [eventUID, run.uid]) == true
        }
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T { try lock.withLock(body) }
}

/// Hands rows from the frame pipeline's threads to the committer, which is made after the
/// pipeline (and before any frame can be submitted).
final class CommitterSink: @unchecked Sendable {
    var committer: Committer?
    func enqueue(_ ref: ImageRefRow) { committer?.enqueueFrameRef(ref) }
}
