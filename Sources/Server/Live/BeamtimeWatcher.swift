import Foundation
import GRDB
import JSONValue

/// Finds what other processes committed to one beamtime since the last look, as live
/// messages. Used by ``LiveFeed`` from one task at a time (not thread-safe by itself).
///
/// It keeps its own read-only SQLite connection and asks `PRAGMA data_version`, which
/// changes exactly when another connection committed: an idle beamtime costs one tiny query
/// per poll. When it changed, it reads only what is new, by rowid: runs inserted, events and
/// image_refs inserted (grouped per stream and per field), and the open runs that got a
/// `time_stop`. A single writer per beamtime inserts in commit order, so rowids grow with commits.
final class BeamtimeWatcher: @unchecked Sendable {
    let label: String
    let dbPath: String
    private let queue: DatabaseQueue
    private var dataVersion: Int64 = -1
    private var lastRunRowid: Int64 = 0
    private var lastEventRowid: Int64 = 0
    private var lastImageRefID: Int64 = 0
    /// Open runs (no time_stop yet), by uid.
    private var openRuns: Set<String> = []

    /// Watches `dbPath`. With `fromNow`, what is there already is not reported (the
    /// beamtime was there when the server started); otherwise everything is new.
    init(label: String, dbPath: String, fromNow: Bool) throws {
        self.label = label
        self.dbPath = dbPath
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(2)
        queue = try DatabaseQueue(path: dbPath, configuration: config)
        try queue.inDatabase { db in
            if fromNow {
                lastRunRowid = try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(rowid), 0) FROM runs") ?? 0
                lastEventRowid = try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(rowid), 0) FROM events") ?? 0
                lastImageRefID = try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(id), 0) FROM image_refs") ?? 0
                openRuns = Set(try String.fetchAll(db, sql: "SELECT uid FROM runs WHERE time_stop IS NULL"))
            }
        }
    }

    deinit { try? queue.close() }

    /// What is new since the last call, in order: runs opened, events, frames, runs closed.
    /// Each element is (event name, data object without `beamtime`).
    func poll() throws -> [(String, JSONObject)] {
        try queue.inDatabase { db in
            let version = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0
            if version == dataVersion { return [] }
            dataVersion = version
            var found: [(String, JSONObject)] = []
            try db.inTransaction(.deferred) {
                found = try changes(db)
                return .commit
            }
            return found
        }
    }

    private func changes(_ db: Database) throws -> [(String, JSONObject)] {
        var out: [(String, JSONObject)] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT r.rowid AS rid, r.uid, r.plan_name, r.time_start, r.time_stop, s.name AS sample_name
            FROM runs r LEFT JOIN samples s ON s.id = r.sample_id WHERE r.rowid > ? ORDER BY r.rowid
            """, arguments: [lastRunRowid]) {
            lastRunRowid = max(lastRunRowid, row["rid"])
            let uid: String = row["uid"]
            out.append(("run_opened", [
                "run": .string(uid), "plan_name": .string(row["plan_name"]),
                "sample_name": (row["sample_name"] as String?).map(JSONValue.string) ?? .null,
                "time_start": .double(row["time_start"]),
            ]))
            openRuns.insert(uid)
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT st.run_uid, st.name, MIN(e.seq_num) AS first, MAX(e.seq_num) AS last, COUNT(*) AS n, MAX(e.rowid) AS rid
            FROM events e JOIN streams st ON st.uid = e.stream_uid WHERE e.rowid > ?
            GROUP BY e.stream_uid ORDER BY MIN(e.rowid)
            """, arguments: [lastEventRowid]) {
            lastEventRowid = max(lastEventRowid, row["rid"])
            out.append(("events", [
                "run": .string(row["run_uid"]), "stream": .string(row["name"]),
                "first_seq": .int(row["first"]), "last_seq": .int(row["last"]), "count": .int(row["n"]),
            ]))
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT st.run_uid, i.field_name, MIN(i.index_in_stack) AS first, MAX(i.index_in_stack) AS last, COUNT(*) AS n, MAX(i.id) AS rid
            FROM image_refs i JOIN events e ON e.uid = i.event_uid JOIN streams st ON st.uid = e.stream_uid
            WHERE i.id > ? GROUP BY st.run_uid, i.field_name ORDER BY MIN(i.id)
            """, arguments: [lastImageRefID]) {
            lastImageRefID = max(lastImageRefID, row["rid"])
            out.append(("frames", [
                "run": .string(row["run_uid"]), "field": .string(row["field_name"]),
                "first_index": .int(row["first"]), "last_index": .int(row["last"]), "count": .int(row["n"]),
            ]))
        }
        if !openRuns.isEmpty {
            let uids = Array(openRuns)
            let marks = Array(repeating: "?", count: uids.count).joined(separator: ",")
            for row in try Row.fetchAll(db, sql: """
                SELECT uid, time_stop, exit_status, num_events FROM runs WHERE uid IN (\(marks)) AND time_stop IS NOT NULL
                """, arguments: StatementArguments(uids)) {
                let uid: String = row["uid"]
                openRuns.remove(uid)
                out.append(("run_closed", [
                    "run": .string(uid), "time_stop": .double(row["time_stop"]),
                    "exit_status": (row["exit_status"] as String?).map(JSONValue.string) ?? .null,
                    "num_events": (row["num_events"] as Int64?).map(JSONValue.int) ?? .null,
                ]))
            }
        }
        return out
    }
}
