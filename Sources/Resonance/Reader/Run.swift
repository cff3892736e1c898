import Foundation
import GRDB

/// One run of a beamtime as read by a ``Catalog``: its row, its streams and its image fields.
///
/// A `Run` is a snapshot taken when ``Catalog/run(_:)`` read it; ``table(stream:)`` and
/// ``frames(field:)`` read the database again, so they see events committed since.
///
/// ```swift
/// let run = try catalog.run("79c8c292")
/// print(run.planName, run.exitStatus?.rawValue ?? "open", run.metadata["edge"]?.stringValue ?? "-")
/// for stream in run.streams { print(stream.name, stream.eventCount, stream.dataKeys.keys) }
/// let table = try run.table(stream: "primary")
/// ```
public struct Run: Sendable {
    /// 32 lowercase hex digits.
    public let uid: String
    /// The scan plan, e.g. "nexafs".
    public let planName: String
    /// Unix seconds.
    public let timeStart: Double
    /// Unix seconds; nil while the run is open or when its writer died.
    public let timeStop: Double?
    /// nil while the run is open or when its writer died; a status another program wrote reads back as it is.
    public let exitStatus: ExitStatus?
    /// `num_events` as recorded when the run closed; for a run still open, the events committed so far.
    public let numEvents: Int
    /// Who ran the scan.
    public let `operator`: String?
    /// Run metadata (a JSON object; empty when the row has none).
    public let metadata: JSONObject
    /// The sample measured, when the run has one.
    public let sample: SampleMetadata?
    /// The run's streams in the order they were created.
    public let streams: [EventStream]
    /// Detector fields with frames in this run, in the order their first frame was written.
    public let frameFields: [FrameField]

    let catalog: Catalog

    /// True while the run has no `time_stop`: being written, or left open by a writer that died.
    public var isOpen: Bool { timeStop == nil }

    /// The names of ``streams``.
    public var streamNames: [String] { streams.map(\.name) }

    /// The stream named `name`, or nil.
    public func stream(_ name: String) -> EventStream? { streams.first { $0.name == name } }

    /// The image field named `name`, or nil.
    public func frameField(_ name: String) -> FrameField? { frameFields.first { $0.name == name } }

    /// The run as listings show it.
    public var summary: RunSummary {
        RunSummary(uid: uid, planName: planName, sampleName: sample?.name, timeStart: timeStart,
                   timeStop: timeStop, exitStatus: exitStatus, numEvents: numEvents)
    }

    /// The events of a stream as a table: `seq_num`, `time`, then the data fields; see ``EventTable``.
    /// An unknown stream gives an empty table with just those two columns.
    public func table(stream: String = "primary") throws -> EventTable {
        try table(stream: stream, seqNums: .min ... .max)
    }

    /// The events of a stream whose seq_num is greater than `after`, at most `limit` of them,
    /// in seq_num order: what a reader polling a live run asks for.
    ///
    /// ```swift
    /// var last: Int64 = 0
    /// let new = try run.table(stream: "primary", after: last)
    /// last = new.seqNums.last ?? last
    /// ```
    public func table(stream: String = "primary", after seqNum: Int64, limit: Int? = nil) throws -> EventTable {
        guard seqNum < .max else { return EventTable(stream: stream, seqNums: [], times: [], fields: []) }
        return try table(stream: stream, seqNums: seqNum + 1 ... .max, limit: limit)
    }

    func table(stream: String, seqNums: ClosedRange<Int64>, limit: Int? = nil) throws -> EventTable {
        try catalog.read { db in
            guard let streamUID = try String.fetchOne(
                db, sql: "SELECT uid FROM streams WHERE run_uid = ? AND name = ?", arguments: [uid, stream])
            else { return EventTable(stream: stream, seqNums: [], times: [], fields: []) }
            return try EventTableLoader.load(db: db, stream: stream, streamUID: streamUID, seqNums: seqNums, limit: limit)
        }
    }

    static func load(uid: String, catalog: Catalog, db: Database) throws -> Run {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT r.*, s.id AS s_id, s.name AS s_name, s.formula AS s_formula, s.serial AS s_serial,
                s.tags AS s_tags, s.beamline_pos AS s_beamline_pos, s.extra AS s_extra
            FROM runs r LEFT JOIN samples s ON s.id = r.sample_id WHERE r.uid = ?
            """, arguments: [uid])
        else { throw CatalogError.runNotFound(uid: uid) }

        let metadata = try Catalog.parseJSON(row["metadata"], location: "runs.metadata of run \(uid)")
        var sample: SampleMetadata?
        if row["s_id"] as Int64? != nil {
            let sampleRow: Row = [
                "id": row["s_id"], "name": row["s_name"], "formula": row["s_formula"], "serial": row["s_serial"],
                "tags": row["s_tags"], "beamline_pos": row["s_beamline_pos"], "extra": row["s_extra"],
            ]
            sample = try Catalog.sample(sampleRow)
        }

        var streams: [EventStream] = []
        for s in try Row.fetchAll(db, sql: """
            SELECT st.uid, st.name, st.data_keys, st.time_created,
                (SELECT COUNT(*) FROM events e WHERE e.stream_uid = st.uid) AS event_count
            FROM streams st WHERE st.run_uid = ? ORDER BY st.time_created, st.rowid
            """, arguments: [uid])
        {
            let name: String = s["name"]
            let keys = try Catalog.parseJSON(s["data_keys"], location: "streams.data_keys of stream \(name.debugDescription) in run \(uid)")
            streams.append(EventStream(
                uid: s["uid"], name: name, dataKeys: keys?.objectValue ?? [:], timeCreated: s["time_created"],
                eventCount: s["event_count"]))
        }

        // Version-1 files (which a reader does not migrate) have no compression_codec.
        let hasCodec = try db.columns(in: "image_refs").contains { $0.name == "compression_codec" }
        // image_refs has no run column: its rows are found through their events. Walking
        // the run's events probes image_refs once per event (5 ms for 10,000 events, half a
        // second for a million); walking image_refs probes events once per frame of the
        // beamtime. Take the shorter walk (the largest id bounds the frame rows, at once).
        let eventTotal = streams.reduce(0) { $0 + $1.eventCount }
        let frameRowsBound = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM image_refs") ?? 0
        let joins = frameRowsBound < eventTotal
            ? "image_refs i CROSS JOIN events e ON e.uid = i.event_uid CROSS JOIN streams st ON st.uid = e.stream_uid"
            : "streams st CROSS JOIN events e ON e.stream_uid = st.uid CROSS JOIN image_refs i ON i.event_uid = e.uid"
        let frameFields = try Row.fetchAll(db, sql: """
            SELECT i.field_name, GROUP_CONCAT(DISTINCT st.name) AS streams, COUNT(*) AS frames,
                MIN(i.shape_x) AS rows, MIN(i.shape_y) AS columns,
                MAX(i.shape_x) <> MIN(i.shape_x) OR MAX(i.shape_y) <> MIN(i.shape_y) AS ragged,
                GROUP_CONCAT(DISTINCT i.dtype) AS dtype,
                \(hasCodec ? "GROUP_CONCAT(DISTINCT i.compression_codec)" : "NULL") AS codec,
                GROUP_CONCAT(DISTINCT i.zarr_group) AS zarr_group
            FROM \(joins)
            WHERE st.run_uid = ? GROUP BY i.field_name ORDER BY MIN(i.id)
            """, arguments: [uid]).map { r in
            FrameField(
                name: r["field_name"], stream: r["streams"], frameCount: r["frames"],
                rows: r["rows"], columns: r["columns"], hasMixedShapes: r["ragged"],
                dtype: r["dtype"], codec: r["codec"], zarrGroup: r["zarr_group"])
        }

        let timeStop: Double? = row["time_stop"]
        let recorded: Int? = row["num_events"]
        let numEvents = timeStop == nil || recorded == nil ? streams.reduce(0) { $0 + $1.eventCount } : recorded!
        return Run(
            uid: uid, planName: row["plan_name"], timeStart: row["time_start"], timeStop: timeStop,
            exitStatus: (row["exit_status"] as String?).map(ExitStatus.init(rawValue:)),
            numEvents: numEvents, operator: row["operator"], metadata: metadata?.objectValue ?? [:],
            sample: sample, streams: streams, frameFields: frameFields, catalog: catalog)
    }
}

/// One stream of a run (e.g. "primary", "baseline"): a row of the `streams` table.
public struct EventStream: Sendable, Equatable {
    /// 32 hex digits.
    public let uid: String
    /// e.g. "primary".
    public let name: String
    /// Field name -> descriptor object (dtype, units, shape, source...), as the writer gave it.
    public let dataKeys: JSONObject
    /// Unix seconds.
    public let timeCreated: Double
    /// Events committed in the stream when the run was read.
    public let eventCount: Int
}

/// A detector field of a run as its `image_refs` rows describe it.
public struct FrameField: Sendable, Equatable {
    /// The field, e.g. "ccd".
    public let name: String
    /// The stream(s) whose events hold the frames (comma-separated if several).
    public let stream: String
    /// Number of frames (image_refs rows).
    public let frameCount: Int
    /// Rows of a frame (numpy `shape[0]`); the smallest if frames differ.
    public let rows: Int
    /// Columns of a frame (numpy `shape[1]`); the smallest if frames differ.
    public let columns: Int
    /// True when the frames do not all have one shape.
    public let hasMixedShapes: Bool
    /// The numpy dtype name, e.g. "uint16" (comma-separated if the rows disagree).
    public let dtype: String
    /// The codec image_refs records, e.g. "zstd"; nil when not recorded (schema version 1).
    /// The Zarr array's own metadata is authoritative for decoding.
    public let codec: String?
    /// The Zarr array path(s) inside the store, e.g. "runs/<uid>/ccd".
    public let zarrGroup: String
}
