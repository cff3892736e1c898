import Concurrency
import Foundation
import GRDB
import GRDBSQLite

/// Commits pending rows in batches on a background thread, no later than `interval`
/// after they were queued. This is what keeps the durability promise while the caller
/// goes on: a batch is one transaction, so SQLite's cost per row stays low.
///
/// Image refs come from the frame pipeline and first wait for their frame files to reach
/// the disk: a second worker syncs the store's file system (`syncFrames`, at most every
/// ``syncDelay`` while frames stream in) and then queues the refs it covered for commit.
/// Events never wait for that sync, so a disk slower than the frames cannot delay their
/// commit.
///
/// Both are ``BatchWorker``s: a failed batch is kept and tried again one interval later,
/// ``automaticAttempts`` times in a row; then the worker stalls and new rows are refused
/// until a ``flush()`` (the caller's retry) succeeds.
final class Committer: Sendable {
    /// Commit attempts in a row that may fail before the thread stops trying on its own.
    static let automaticAttempts = 3
    /// Longest wait of an image ref for the sync that covers it, while frames stream in:
    /// one sync covers every frame stored meanwhile.
    let syncDelay: TimeInterval
    private let commits: BatchWorker<PendingRow>
    private let syncs: BatchWorker<ImageRefRow>

    /// - Parameters:
    ///   - eagerBatch: rows that make a batch worth committing before the interval is up.
    ///     Rows arriving faster than a few thousand a second are committed as soon as the
    ///     previous batch is done: the thread keeps pace with the caller on its own core,
    ///     and the batches grow with the rate.
    ///   - maxBatch: queued rows at which `enqueue` waits for the thread to take them
    ///     (backpressure: a caller faster than SQLite waits rather than piling up rows).
    ///   - syncFrames: makes every frame file written so far durable (syncfs of the
    ///     store's file system).
    init(queue: DatabaseQueue, interval: TimeInterval, eagerBatch: Int = 1_000, maxBatch: Int = 10_000,
         syncFrames: @escaping @Sendable () throws -> Void = {}) {
        syncDelay = min(0.25, interval / 4)
        let commits = BatchWorker<PendingRow>(
            name: "resonance.committer",
            schedule: .init(delay: interval, eagerCount: eagerBatch, capacity: maxBatch, automaticAttempts: Self.automaticAttempts)
        ) { batch in try Self.insert(batch, into: queue) }
        self.commits = commits
        syncs = BatchWorker<ImageRefRow>(
            name: "resonance.sync",
            schedule: .init(delay: syncDelay, eagerCount: .max, capacity: maxBatch, automaticAttempts: Self.automaticAttempts)
        ) { refs in
            try syncFrames()
            commits.add(refs.lazy.map(PendingRow.imageRef), waitingForRoom: false)
        }
    }

    /// Queues a row. Throws, without queuing it, the failure of an earlier commit or frame
    /// sync once, and after ``automaticAttempts`` failed commits in a row every time until
    /// a ``flush()`` succeeds: rows that cannot be committed do not pile up unseen.
    func enqueue(_ row: PendingRow) throws(RunWriterError) {
        if let failure = syncs.takeFailure() { throw failed(failure.error, while: .syncingFrames) }
        if let failure = commits.takeFailure() {
            switch failure {
            case .failed(let error): throw failed(error, while: .committing)
            case .stalled(let error): throw failed(error, while: .committing, gaveUpAfter: Self.automaticAttempts)
            }
        }
        commits.add(row)
    }

    /// Queues the image_refs row of a stored frame, from the frame pipeline's thread. It is
    /// committed once a sync has made the frame's files durable. Never throws, so the row
    /// is always kept; a failure stays for the caller's next call to report.
    func enqueueFrameRef(_ ref: ImageRefRow) {
        syncs.add(ref)
    }

    /// Whether an event with this uid is queued or being committed.
    func containsEvent(_ uid: String) -> Bool {
        commits.contains { row in
            if case .event(let u, _, _, _, _, _) = row { return u == uid }
            return false
        }
    }

    /// Commits everything queued so far and waits for it: the caller's way to retry after a
    /// failure. Makes one attempt at once (also when the thread had given up) and returns
    /// when it succeeded, or throws when it failed: within one frame-file sync and one
    /// commit attempt (bounded by SQLite's busy timeout). The rows stay queued after a failure.
    func flush() throws(RunWriterError) {
        // The frame sync first: it hands the refs it covers to the commits. Events are
        // committed even when it fails.
        var syncError: (any Error)?
        do { try syncs.flush() } catch { syncError = error }
        do { try commits.flush() } catch { throw failed(error, while: .committing) }
        if let syncError { throw failed(syncError, while: .syncingFrames) }
    }

    /// Commits what is queued, then stops the threads and waits for them to end. When the
    /// commit fails the threads go on and the rows stay queued, so the caller can retry.
    func stop() throws(RunWriterError) {
        try flush()
        syncs.end()
        commits.end()
    }

    /// Stops the threads without committing what is queued: for a writer going away after
    /// its last commit failed. The rows still queued are lost.
    func abandon() {
        syncs.abandon()
        commits.abandon()
    }

    private enum Stage { case committing, syncingFrames }

    private func failed(_ error: any Error, while stage: Stage, gaveUpAfter attempts: Int? = nil) -> RunWriterError {
        let cause = UnderlyingError(
            error, context: stage == .syncingFrames ? "syncing the frame files" : nil,
            advice: attempts.map { "gave up after \($0) attempts, call flush() to try again" })
        return .commitFailed(cause: cause, pendingEvents: commits.queuedCount)
    }

    private static func insert(_ batch: [PendingRow], into queue: DatabaseQueue) throws {
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
