import Foundation
import GRDB

extension RunWriter {
    /// Makes a run that is still open in the beamtime (its writer died, or was closed
    /// without `closeRun`) the open run again, so more events and frames can be written to
    /// it and it can be closed. Its streams, their last seq_nums and its event count are
    /// read back from the database.
    ///
    /// ```swift
    /// try writer.open()
    /// try writer.resumeRun(uid: "0193ab12cd...")   // a run a killed writer left open
    /// try writer.writeEvent(["energy": 290.0], stream: "primary")
    /// try writer.closeRun(exitStatus: .success)
    /// ```
    ///
    /// Throws ``RunWriterError/cannotResume(uid:reason:)`` when the run is not in the
    /// beamtime or is closed, and ``RunWriterError/runAlreadyOpen(uid:)`` when a run is open.
    public func resumeRun(uid: String) throws {
        try withLock {
            let (queue, committer) = try openParts()
            if let run { throw RunWriterError.runAlreadyOpen(uid: run.uid) }
            try committer.flush()
            let state = try queue.read { db -> RunState in
                guard let row = try Row.fetchOne(db, sql: "SELECT time_stop FROM runs WHERE uid = ?", arguments: [uid]) else {
                    throw RunWriterError.cannotResume(uid: uid, reason: "no such run in this beamtime")
                }
                if (row["time_stop"] as Double?) != nil {
                    throw RunWriterError.cannotResume(uid: uid, reason: "it is closed")
                }
                var state = RunState(uid: uid)
                let streams = try Row.fetchAll(db, sql: """
                    SELECT s.uid, s.name, (SELECT MAX(seq_num) FROM events e WHERE e.stream_uid = s.uid) AS last,
                           (SELECT COUNT(*) FROM events e WHERE e.stream_uid = s.uid) AS n
                    FROM streams s WHERE s.run_uid = ? ORDER BY s.time_created, s.rowid
                    """, arguments: [uid])
                for stream in streams {
                    state.streams[stream["name"]] = StreamState(uid: stream["uid"], seqNum: stream["last"] ?? 0)
                    state.eventCount += stream["n"] as Int
                    state.currentStream = stream["name"]
                }
                return state
            }
            run = state
        }
    }

    /// Reads the writer's database in a transaction that sees everything committed so far
    /// (not events still waiting for the next commit: call ``flush()`` first for those).
    /// For modules that keep their own tables in the beamtime beside the format's, e.g.
    /// to find which of their records a run already has.
    ///
    /// ```swift
    /// let n = try writer.readDatabase { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs") ?? 0 }
    /// ```
    public func readDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        try withLock {
            let (queue, _) = try openParts()
            return try queue.read(body)
        }
    }

    /// Writes to the writer's database in one transaction, committed when `body` returns.
    /// For modules that keep their own tables in the beamtime (create them with
    /// `CREATE TABLE IF NOT EXISTS`; the format's own tables are the writer's to change).
    /// Pending events are not committed first: call ``flush()`` when the order matters.
    ///
    /// ```swift
    /// try writer.writeDatabase { db in
    ///     try db.execute(sql: "CREATE TABLE IF NOT EXISTS notes (run_uid TEXT, text TEXT)")
    ///     try db.execute(sql: "INSERT INTO notes VALUES (?, ?)", arguments: [runUID, "beam dump"])
    /// }
    /// ```
    public func writeDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        try withLock {
            let (queue, _) = try openParts()
            return try queue.write(body)
        }
    }
}
