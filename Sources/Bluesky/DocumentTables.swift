import GRDB
import JSONValue

/// The tables ResonanceBluesky keeps in a beamtime beside the format's own
/// (docs/format.md, "Bluesky documents"):
///
/// - `bluesky_documents`: every start, descriptor, resource, datum, stream_resource,
///   stream_datum and stop document as received (JSON text), keyed by its uid (a datum by
///   its `datum_id`), with the run (32-hex uid) it belongs to.
/// - `bluesky_segments`: which descriptor the events of a stream use from which seq_num on
///   (a row each time a stream's events switch descriptor).
///
/// ```sql
/// SELECT doc FROM bluesky_documents WHERE run_uid = ? AND kind = 'start'
/// ```
enum DocumentTables {
    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS bluesky_documents (
                uid TEXT PRIMARY KEY,
                run_uid TEXT NOT NULL,
                kind TEXT NOT NULL,
                stream TEXT,
                doc TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS idx_bluesky_documents_run ON bluesky_documents(run_uid, kind);
            CREATE TABLE IF NOT EXISTS bluesky_segments (
                run_uid TEXT NOT NULL,
                stream TEXT NOT NULL,
                descriptor_uid TEXT NOT NULL,
                first_seq_num INTEGER NOT NULL,
                PRIMARY KEY (run_uid, stream, first_seq_num)
            );
            """)
    }

    static func exists(_ db: Database) throws -> Bool {
        try db.tableExists("bluesky_documents")
    }

    /// The stored text of the document with this uid, and its kind.
    static func document(_ db: Database, uid: String) throws -> (kind: String, text: String)? {
        guard let row = try Row.fetchOne(db, sql: "SELECT kind, doc FROM bluesky_documents WHERE uid = ?", arguments: [uid]) else {
            return nil
        }
        return (row["kind"], row["doc"])
    }

    static func insert(_ db: Database, uid: String, runUID: String, kind: DocumentName, stream: String?, text: String) throws {
        try db.execute(sql: "INSERT INTO bluesky_documents (uid, run_uid, kind, stream, doc) VALUES (?, ?, ?, ?, ?)",
                       arguments: [uid, runUID, kind.rawValue, stream, text])
    }

    /// The run's documents of one kind, in the order they were recorded.
    static func documents(_ db: Database, runUID: String, kind: DocumentName) throws -> [JSONObject] {
        guard try exists(db) else { return [] }
        return try String.fetchAll(db, sql: "SELECT doc FROM bluesky_documents WHERE run_uid = ? AND kind = ? ORDER BY rowid",
                                   arguments: [runUID, kind.rawValue]).compactMap { try? JSONValue(parsing: $0).objectValue }
    }

    /// (stream, descriptor uid, first seq_num) of the run's segments, in seq_num order per stream.
    static func segments(_ db: Database, runUID: String) throws -> [(stream: String, descriptor: String, first: Int64)] {
        guard try db.tableExists("bluesky_segments") else { return [] }
        return try Row.fetchAll(db, sql: """
            SELECT stream, descriptor_uid, first_seq_num FROM bluesky_segments WHERE run_uid = ? ORDER BY stream, first_seq_num
            """, arguments: [runUID]).map { ($0["stream"], $0["descriptor_uid"], $0["first_seq_num"]) }
    }

    static func insertSegment(_ db: Database, runUID: String, stream: String, descriptor: String, first: Int64) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO bluesky_segments VALUES (?, ?, ?, ?)", arguments: [runUID, stream, descriptor, first])
    }
}
