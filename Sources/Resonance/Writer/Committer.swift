import Foundation
import GRDB
import GRDBSQLite

/// A row waiting to be committed.
enum PendingRow: Sendable {
    case event(uid: String, streamUID: String, seqNum: Int64, time: Double, data: String, timestamps: String)
    case imageRef(ImageRefRow)
}

/// The committer's thread ended with rows it could not commit (the writer was abandoned).
struct CommitterStopped: Error, CustomStringConvertible {
    var description: String { "the commit thread has stopped" }
}

/// One `image_refs` row.
struct ImageRefRow: Sendable {
    var eventUID: String
    var field: String
    var zarrGroup: String
    var index: Int64
    var rows: Int64
    var columns: Int64
    var dtype: String
    var codec: String
}

/// Commits pending rows in batches on a background thread, no later than `interval`
/// after they were queued. This is what keeps the durability promise while the caller
/// goes on: a batch is one transaction, so SQLite's cost per row stays low.
///
/// Image refs come from the frame pipeline and first wait for their frame files to reach
/// the disk: a second thread syncs the store's file system (`syncFrames`, at most every
/// ``syncDelay`` while frames stream in) and then queues the refs it covered. Events never
/// wait for that sync, so a disk slower than the frames cannot delay their commit.
final class Committer: @unchecked Sendable {
    private let queue: DatabaseQueue
    private let interval: TimeInterval
    /// Rows that make a batch worth committing before the interval is up.
    private let eagerBatch: Int
    /// Queued rows at which `enqueue` waits for the thread to take them.
    private let maxBatch: Int
    /// Commit attempts in a row that may fail before the thread stops trying on its own.
    static let automaticAttempts = 3
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var pending: [PendingRow] = []
    private var oldestQueued: Date?
    private var inFlight = 0
    private var inFlightBatch: [PendingRow] = []
    private var flushRequests = 0
    /// The last failed commit, until the caller has been told of it once.
    private var failure: Error?
    /// Failed commits so far (a flush compares it to learn how its attempt ended).
    private var failedCommits = 0
    /// Failed commits since the last one that succeeded.
    private var failuresInARow = 0
    /// When the thread tries a failed batch again on its own.
    private var retryAt: Date?
    /// Set after ``automaticAttempts`` failures in a row: the thread makes no more attempts
    /// of its own, and new rows are refused, until a flush (the caller's retry) succeeds.
    private var stalled: Error?
    private var stopping = false
    private var finished = false
    /// Image refs whose frame files are not known to be on disk yet; the oldest one's age.
    private var unsyncedRefs: [PendingRow] = []
    private var oldestUnsynced: Date?
    private var syncing = false
    private var syncFailure: Error?
    private var failedSyncs = 0
    private var syncThreadRunning = false

    /// Makes every frame file written so far durable (syncfs of the store's file system).
    private let syncFrames: @Sendable () throws -> Void
    /// Longest wait of an image ref for the sync that covers it, while frames stream in:
    /// one sync covers every frame stored meanwhile.
    let syncDelay: TimeInterval

    init(queue: DatabaseQueue, interval: TimeInterval, eagerBatch: Int = 1_000, maxBatch: Int = 10_000,
         syncFrames: @escaping @Sendable () throws -> Void = {}) {
        self.queue = queue
        self.syncFrames = syncFrames
        self.syncDelay = min(0.25, interval / 4)
        self.interval = interval
        self.eagerBatch = eagerBatch
        self.maxBatch = maxBatch
        // The thread keeps the committer alive until stop() lets it finish.
        let thread = Thread { self.run() }
        thread.name = "resonance.committer"
        thread.start()
    }

    /// Queues a row. Throws, without queuing it, the failure of an earlier commit once, and
    /// after ``automaticAttempts`` failed commits in a row every time until a ``flush()``
    /// succeeds: rows that cannot be committed do not pile up unseen.
    func enqueue(_ row: PendingRow) throws(RunWriterError) {
        condition.lock()
        defer { condition.unlock() }
        try throwFailure()
        if pending.isEmpty {
            oldestQueued = Date()
            condition.broadcast()  // the thread sleeps without a deadline while nothing is queued
        }
        pending.append(row)
        if pending.count == eagerBatch { condition.broadcast() }
        // Backpressure: a caller faster than SQLite waits here rather than piling up rows
        // (memory) and delaying their commit (durability). The thread either takes them or
        // fails within an attempt, which ends the wait.
        while pending.count >= maxBatch && failure == nil && stalled == nil && !stopping {
            condition.wait()
        }
    }

    /// Throws what the caller has to learn before more rows are queued (lock held).
    private func throwFailure() throws(RunWriterError) {
        if let failure {
            self.failure = nil
            throw .commitFailed(reason: Self.describe(failure), pendingEvents: pending.count)
        }
        if let stalled {
            throw .commitFailed(reason: Self.describe(stalled) + "; gave up after \(Self.automaticAttempts) attempts, call flush() to try again", pendingEvents: pending.count)
        }
        if let syncFailure {
            self.syncFailure = nil
            oldestUnsynced = Date()
            condition.broadcast()
            throw .commitFailed(reason: "syncing the frame files: \(Self.describe(syncFailure))", pendingEvents: pending.count)
        }
    }

    /// Queues the image_refs row of a stored frame, from the frame pipeline's thread. It is
    /// committed once a sync has made the frame's files durable. Never throws, so the row
    /// is always kept; a failure stays for the caller's next call to report.
    func enqueueFrameRef(_ ref: ImageRefRow) {
        condition.lock()
        defer { condition.unlock() }
        if unsyncedRefs.isEmpty { oldestUnsynced = Date() }
        unsyncedRefs.append(.imageRef(ref))
        if !syncThreadRunning {
            syncThreadRunning = true
            let thread = Thread { self.syncLoop() }
            thread.name = "resonance.sync"
            thread.start()
        }
        condition.broadcast()
        // Backpressure, as for events.
        while unsyncedRefs.count + pending.count >= maxBatch && syncFailure == nil && failure == nil && stalled == nil && !stopping {
            condition.wait()
        }
    }

    /// The sync thread: waits until refs are due (``syncDelay``, or at once for a flush),
    /// syncs, and hands the refs it covered to the commit thread.
    private func syncLoop() {
        condition.lock()
        while true {
            while !stopping || !unsyncedRefs.isEmpty {
                if !unsyncedRefs.isEmpty && syncFailure == nil {
                    if flushRequests > 0 || stopping { break }
                    if let oldest = oldestUnsynced, Date().timeIntervalSince(oldest) >= syncDelay { break }
                    _ = condition.wait(until: (oldestUnsynced ?? Date()).addingTimeInterval(syncDelay))
                } else if syncFailure != nil && stopping {
                    break
                } else {
                    condition.wait()
                }
            }
            if unsyncedRefs.isEmpty || (stopping && syncFailure != nil) { break }
            let refs = unsyncedRefs
            unsyncedRefs.removeAll(keepingCapacity: true)
            oldestUnsynced = nil
            syncing = true
            condition.unlock()
            let result = Result { try self.syncFrames() }
            condition.lock()
            syncing = false
            switch result {
            case .success:
                if pending.isEmpty { oldestQueued = Date() }
                pending.append(contentsOf: refs)
            case .failure(let error):
                // Keep the refs, in order; the next report or flush lets the sync try again.
                unsyncedRefs.insert(contentsOf: refs, at: 0)
                oldestUnsynced = Date()
                syncFailure = error
                failedSyncs += 1
            }
            condition.broadcast()
        }
        syncThreadRunning = false
        condition.broadcast()
        condition.unlock()
    }

    /// Whether an event with this uid is queued or being committed.
    func containsEvent(_ uid: String) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        func matches(_ row: PendingRow) -> Bool {
            if case .event(let u, _, _, _, _, _) = row { return u == uid }
            return false
        }
        // From the end: writeFrame usually names the event written just before.
        return pending.lastIndex(where: matches) != nil || inFlightBatch.lastIndex(where: matches) != nil
    }

    /// Number of rows not yet committed.
    var pendingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return pending.count + inFlight + unsyncedRefs.count
    }

    /// Commits everything queued so far and waits for it: the caller's way to retry after a
    /// failure. Makes one attempt at once (also when the thread had given up) and returns
    /// when it succeeded, or throws when it failed: within one commit attempt (bounded by
    /// SQLite's busy timeout) and one frame-file sync. The rows stay queued after a failure.
    func flush() throws(RunWriterError) {
        condition.lock()
        defer { condition.unlock() }
        failure = nil
        syncFailure = nil
        stalled = nil
        retryAt = nil
        let (commitsBefore, syncsBefore) = (failedCommits, failedSyncs)
        flushRequests += 1
        condition.broadcast()
        while (!pending.isEmpty || inFlight > 0 || !unsyncedRefs.isEmpty || syncing)
            && failedCommits == commitsBefore && failedSyncs == syncsBefore && !finished {
            condition.wait()
        }
        flushRequests -= 1
        // Everything asked for is committed, even if an attempt failed on the way.
        if pending.isEmpty && inFlight == 0 && unsyncedRefs.isEmpty && !syncing {
            failure = nil
            return
        }
        if failedCommits != commitsBefore {
            failure = nil
            throw .commitFailed(reason: Self.describe(stalled ?? lastError ?? CommitterStopped()), pendingEvents: pending.count)
        }
        if failedSyncs != syncsBefore, let error = syncFailure {
            syncFailure = nil
            throw .commitFailed(reason: "syncing the frame files: \(Self.describe(error))", pendingEvents: pending.count)
        }
        if finished && !pending.isEmpty {
            throw .commitFailed(reason: Self.describe(CommitterStopped()), pendingEvents: pending.count)
        }
    }

    /// The error of the last failed commit (lock held).
    private var lastError: Error?

    /// Commits what is queued, then stops the thread and waits for it to end. When the
    /// commit fails the thread goes on and the rows stay queued, so the caller can retry.
    func stop() throws(RunWriterError) {
        try flush()
        end()
    }

    /// Stops the threads without committing what is queued: for a writer going away after
    /// its last commit failed. The rows still queued are lost.
    func abandon() {
        condition.lock()
        abandoned = true
        condition.unlock()
        end()
    }

    /// Set by ``abandon()`` (lock held).
    private var abandoned = false

    private func end() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished || syncThreadRunning { condition.wait() }
        condition.unlock()
    }

    static func describe(_ error: Error) -> String {
        if let error = error as? DatabaseError {
            return "SQLite error \(error.resultCode.rawValue): \(error.message ?? "")"
        }
        return "\(error)"
    }

    private func run() {
        condition.lock()
        work: while true {
            // Sleep until a batch is due: a flush asked for, a full batch, the oldest row's
            // age, or the retry of a failed batch; none while stalled but for a flush.
            while !stopping {
                if !pending.isEmpty {
                    if flushRequests > 0 { break }
                    if stalled == nil {
                        if let retryAt {
                            if Date() >= retryAt { break }
                        } else {
                            // Rows arriving faster than a few thousand a second are committed
                            // as soon as the previous batch is done: the thread keeps pace with
                            // the caller on its own core, and the batches grow with the rate.
                            if pending.count >= eagerBatch { break }
                            if let oldest = oldestQueued, Date().timeIntervalSince(oldest) >= interval { break }
                        }
                    }
                }
                if stalled == nil, !pending.isEmpty, let due = retryAt ?? oldestQueued.map({ $0.addingTimeInterval(interval) }) {
                    _ = condition.wait(until: due)
                } else {
                    condition.wait()
                }
            }
            if stopping && (pending.isEmpty || abandoned) { break }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            oldestQueued = nil
            inFlight = batch.count
            inFlightBatch = batch
            condition.unlock()
            let result = Result { try self.insert(batch) }
            condition.lock()
            inFlight = 0
            inFlightBatch = []
            switch result {
            case .success:
                failuresInARow = 0
                retryAt = nil
                // A failure that healed before the caller heard of it lost nothing: the
                // rows it held are committed now. Reporting it would say otherwise.
                if pending.isEmpty { failure = nil }
            case .failure(let error):
                // Keep the rows, in order, ahead of anything queued meanwhile.
                pending.insert(contentsOf: batch, at: 0)
                oldestQueued = Date()
                failure = error
                lastError = error
                failedCommits += 1
                failuresInARow += 1
                if failuresInARow >= Self.automaticAttempts {
                    stalled = error
                    retryAt = nil
                } else {
                    retryAt = Date().addingTimeInterval(interval)
                }
                // A writer going away stops here: its rows cannot be committed.
                if stopping { break work }
            }
            condition.broadcast()
        }
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func insert(_ batch: [PendingRow]) throws {
        try queue.inTransaction { db in
            let events = try db.cachedStatement(
                sql: "INSERT INTO events (uid, stream_uid, seq_num, time, data, timestamps) VALUES (?, ?, ?, ?, ?, ?)")
            // `step` reads a statement's SQL only to describe a failure: `Statement.sql` costs
            // more than an insert.
            for row in batch {
                switch row {
                case .event(let uid, let stream, let seq, let time, let data, let timestamps):
                    let s = events.sqliteStatement
                    // Bound without copying (SQLITE_STATIC): the texts live until the step is done.
                    try withText(uid) { uid in
                        try withText(stream) { stream in
                            try withText(data) { data in
                                try withText(timestamps) { timestamps in
                                    bindStatic(s, 1, uid)
                                    bindStatic(s, 2, stream)
                                    sqlite3_bind_int64(s, 3, seq)
                                    sqlite3_bind_double(s, 4, time)
                                    bindStatic(s, 5, data)
                                    bindStatic(s, 6, timestamps)
                                    try step(s, db: db, sql: events.sql)
                                }
                            }
                        }
                    }
                case .imageRef(let ref):
                    let refs = try db.cachedStatement(
                        sql: """
                            INSERT INTO image_refs (event_uid, field_name, zarr_group, index_in_stack, shape_x, shape_y, dtype, compression_codec)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """)
                    let s = refs.sqliteStatement
                    bind(s, 1, ref.eventUID)
                    bind(s, 2, ref.field)
                    bind(s, 3, ref.zarrGroup)
                    sqlite3_bind_int64(s, 4, ref.index)
                    sqlite3_bind_int64(s, 5, ref.rows)
                    sqlite3_bind_int64(s, 6, ref.columns)
                    bind(s, 7, ref.dtype)
                    bind(s, 8, ref.codec)
                    try step(s, db: db, sql: refs.sql)
                }
            }
            sqlite3_clear_bindings(events.sqliteStatement)  // no pointers into freed rows stay bound
            return .commit
        }
    }
}

private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

@inline(__always)
private func bind(_ statement: SQLiteStatement, _ index: Int32, _ text: String) {
    var text = text
    text.withUTF8 { buffer in
        _ = sqlite3_bind_text(statement, index, buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, Int32(buffer.count), transient)
    }
}

/// Runs `body` with the UTF-8 bytes of `text` (no copy for native strings).
@inline(__always)
private func withText<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    var text = text
    return try text.withUTF8(body)
}

/// Binds text that stays valid until the statement is stepped and reset (SQLITE_STATIC).
@inline(__always)
private func bindStatic(_ statement: SQLiteStatement, _ index: Int32, _ text: UnsafeBufferPointer<UInt8>) {
    _ = sqlite3_bind_text(statement, index, text.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, Int32(text.count), nil)
}

/// Steps and resets; `sql` is only evaluated to describe a failure.
@inline(__always)
private func step(_ statement: SQLiteStatement, db: Database, sql: @autoclosure () -> String) throws {
    let code = sqlite3_step(statement)
    sqlite3_reset(statement)
    guard code == SQLITE_DONE else {
        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql())
    }
}
