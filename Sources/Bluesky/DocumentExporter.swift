import Foundation
import GRDB
import JSONValue
import OrderedCollections
import Resonance

/// Writes a recorded run as event-model documents, for any Bluesky consumer.
///
/// ```swift
/// let summary = try DocumentExporter.export(dbPath: "/data/2026-03-05.db", uid: "0193ab12") { line in print(line) }
/// ```
///
/// The documents, in order: the start (the original one when the run came from Bluesky,
/// else one made from the run's columns and metadata); one descriptor per stream (each
/// original descriptor of a stream when there were several); for each field with frames, a
/// `stream_resource` pointing at its Zarr array (mimetype `application/x-zarr`, `uri` the
/// store, `parameters.dataset` the array's path in it); `event_page`s of at most
/// `pageSize` events; `stream_datum`s giving each event its frames; and the stop (the
/// original, or one made from the run's exit status). Frame fields are `external:
/// "STREAM:"` in the descriptors and absent from the events, as event-model has it.
/// resource/datum and stream_resource/stream_datum documents that ingest could not read
/// come back as they were received, ahead of the events that name them.
public enum DocumentExporter {
    /// What an export wrote.
    public struct Summary: Sendable, Equatable {
        public var runUID = ""
        public var documents = 0
        public var events = 0
        public var frames = 0
        /// False when the run has no stop yet (still being written, or its writer died).
        public var stopped = true
    }

    /// Writes the documents of the run `uid` (or a unique prefix of 8+ hex digits) as JSON
    /// lines (`[name, doc]`) through `emit`.
    @discardableResult
    public static func export(dbPath: String, uid: String, pageSize: Int = 1000, emit: (String) throws -> Void) throws -> Summary {
        let catalog = try Catalog(dbPath: dbPath)
        defer { try? catalog.close() }
        let run = try catalog.run(uid)
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: dbPath, configuration: config)
        defer { try? queue.close() }
        var summary = Summary(runUID: run.uid)
        func send(_ name: DocumentName, _ body: JSONObject) throws {
            try emit(BlueskyDocument(name: name, body: body).jsonLine)
            summary.documents += 1
        }
        let zarrPath = URL(fileURLWithPath: catalog.zarrPath).standardizedFileURL.path

        let stored = try queue.read { db in
            (start: try DocumentTables.documents(db, runUID: run.uid, kind: .start).first,
             descriptors: try DocumentTables.documents(db, runUID: run.uid, kind: .descriptor),
             resources: try DocumentTables.documents(db, runUID: run.uid, kind: .resource),
             datums: try DocumentTables.documents(db, runUID: run.uid, kind: .datum),
             streamResources: try DocumentTables.documents(db, runUID: run.uid, kind: .streamResource),
             streamDatums: try DocumentTables.documents(db, runUID: run.uid, kind: .streamDatum),
             stop: try DocumentTables.documents(db, runUID: run.uid, kind: .stop).first,
             segments: try DocumentTables.segments(db, runUID: run.uid))
        }

        // Start.
        let start = stored.start ?? madeStart(run)
        let startUID = start["uid"]?.stringValue ?? BlueskyUID.dashed(run.uid)
        try send(.start, start)

        // Descriptors, per stream.
        var descriptorsOf: [String: [JSONObject]] = [:]
        for d in stored.descriptors { descriptorsOf[d["name"]?.stringValue ?? "primary", default: []].append(d) }
        var firstDescriptor: [String: String] = [:]
        for stream in run.streams {
            let frameFields = run.frameFields.filter { $0.stream == stream.name }
            var descriptors = descriptorsOf[stream.name] ?? [madeDescriptor(stream, run: run, startUID: startUID, queue: queue)]
            for k in descriptors.indices {
                var keys = descriptors[k]["data_keys"]?.objectValue ?? [:]
                for field in frameFields {
                    var key = keys[field.name]?.objectValue ?? [:]
                    key["dtype"] = "array"
                    key["shape"] = [.int(Int64(field.rows)), .int(Int64(field.columns))]
                    key["dtype_numpy"] = .string(numpyTypeString(field.dtype))
                    key["external"] = "STREAM:"
                    if key["source"] == nil { key["source"] = .string("resonance:\(field.zarrGroup)") }
                    keys[field.name] = .object(key)
                }
                descriptors[k]["data_keys"] = .object(keys)
                try send(.descriptor, descriptors[k])
            }
            firstDescriptor[stream.name] = descriptors.first?["uid"]?.stringValue
        }

        // External documents ingest could not read: as received.
        for resource in stored.resources where !ExternalFrames.readableSpecs.contains(resource["spec"]?.stringValue ?? "") {
            try send(.resource, resource)
            for datum in stored.datums where datum["resource"] == resource["uid"] { try send(.datum, datum) }
        }
        for resource in stored.streamResources where !ExternalFrames.readableMimetypes.contains(resource["mimetype"]?.stringValue ?? "") {
            try send(.streamResource, resource)
            for datum in stored.streamDatums where datum["stream_resource"] == resource["uid"] { try send(.streamDatum, datum) }
        }

        // A stream_resource per frame field.
        var resourceOf: [String: String] = [:]
        for field in run.frameFields {
            let uid = BlueskyUID.dashed(BlueskyUID.hex(BlueskyUID.hash("\(run.uid)/stream_resource/\(field.name)")))
            resourceOf[field.name] = uid
            try send(.streamResource, [
                "uid": .string(uid), "run_start": .string(startUID), "data_key": .string(field.name),
                "mimetype": .string(ExternalFrames.zarrMimetype), "uri": .string("file://localhost" + zarrPath),
                "parameters": ["dataset": .string(field.zarrGroup),
                               "chunk_shape": [1, .int(Int64(field.rows)), .int(Int64(field.columns))]],
            ])
        }

        // Events, then the frames' stream_datums, per stream.
        for stream in run.streams {
            let segments = stored.segments.filter { $0.stream == stream.name }
            func descriptor(for seq: Int64) -> String {
                segments.last { $0.first <= seq }?.descriptor ?? segments.first?.descriptor ?? firstDescriptor[stream.name] ?? ""
            }
            let jsonFields = Set(stream.dataKeys.filter { $0.value[Descriptor.encodingKey]?.stringValue == "json" }.keys)
            var page = EventPage()
            try queue.read { db in
                let rows = try Row.fetchCursor(db, sql: "SELECT uid, seq_num, time, data, timestamps FROM events WHERE stream_uid = ? ORDER BY seq_num",
                                               arguments: [stream.uid])
                while let row = try rows.next() {
                    let seq: Int64 = row["seq_num"]
                    var data = try JSONValue(parsing: row["data"] as String).objectValue ?? [:]
                    for field in jsonFields {
                        if let text = data[field]?.stringValue { data[field] = try JSONValue(parsing: text) }
                    }
                    let timestamps = try (row["timestamps"] as String?).map { try JSONValue(parsing: $0).objectValue ?? [:] } ?? [:]
                    let desc = descriptor(for: seq)
                    if !page.accepts(descriptor: desc, data: data, timestamps: timestamps) || page.count >= pageSize {
                        if page.count > 0 { try send(.eventPage, page.body) }
                        page = EventPage(descriptor: desc, fields: Array(data.keys), timestampFields: Array(timestamps.keys))
                    }
                    page.append(uid: BlueskyUID.dashed(row["uid"]), seq: seq, time: row["time"], data: data, timestamps: timestamps)
                    summary.events += 1
                }
            }
            if page.count > 0 { try send(.eventPage, page.body) }

            for field in run.frameFields where field.stream == stream.name {
                let seqs = try frameSeqNums(queue, runUID: run.uid, field: field.name)
                summary.frames += seqs.count
                for block in blocks(seqs) {
                    let uid = BlueskyUID.dashed(BlueskyUID.hex(BlueskyUID.hash("\(run.uid)/stream_datum/\(field.name)/\(block.indices.lowerBound)")))
                    try send(.streamDatum, [
                        "uid": .string(uid), "stream_resource": .string(resourceOf[field.name]!),
                        "descriptor": .string(descriptor(for: block.seqNums.lowerBound)),
                        "indices": ["start": .int(Int64(block.indices.lowerBound)), "stop": .int(Int64(block.indices.upperBound))],
                        "seq_nums": ["start": .int(block.seqNums.lowerBound), "stop": .int(block.seqNums.upperBound)],
                    ])
                }
            }
        }

        // Stop.
        if let stop = stored.stop {
            try send(.stop, stop)
        } else if let timeStop = run.timeStop, let status = run.exitStatus {
            var numEvents = JSONObject()
            for stream in run.streams { numEvents[stream.name] = .int(Int64(stream.eventCount)) }
            try send(.stop, [
                "uid": .string(BlueskyUID.dashed(BlueskyUID.hex(BlueskyUID.hash("\(run.uid)/stop")))),
                "run_start": .string(startUID), "time": .double(timeStop),
                "exit_status": .string(status == .success ? "success" : status == .aborted ? "abort" : "fail"),
                "reason": "", "num_events": .object(numEvents),
            ])
        } else {
            summary.stopped = false
        }
        return summary
    }

    /// A start document for a run that did not come from Bluesky.
    static func madeStart(_ run: Run) -> JSONObject {
        var start: JSONObject = ["uid": .string(BlueskyUID.dashed(run.uid)), "time": .double(run.timeStart), "plan_name": .string(run.planName)]
        for (key, value) in run.metadata where start[key] == nil { start[key] = value }
        if start["sample"] == nil, let sample = run.sample { start["sample"] = .string(sample.name) }
        if start["operator"] == nil, let op = run.operator { start["operator"] = .string(op) }
        return start
    }

    /// A descriptor for a stream that did not come from Bluesky: its data_keys completed
    /// with what event-model requires (dtype, shape, source) from the values.
    static func madeDescriptor(_ stream: EventStream, run: Run, startUID: String, queue: DatabaseQueue) -> JSONObject {
        var keys = JSONObject()
        let table = try? run.table(stream: stream.name)
        var fields = Array(stream.dataKeys.keys)
        for column in table?.fields ?? [] where !fields.contains(column.name) { fields.append(column.name) }
        for field in fields {
            var key = stream.dataKeys[field]?.objectValue ?? [:]
            key.removeValue(forKey: Descriptor.encodingKey)
            if key["dtype"] == nil {
                let kind = table?.column(field)?.kind
                key["dtype"] = .string(kind == .string ? "string" : kind == .bool ? "boolean" : kind == .int64 ? "integer" : "number")
            }
            if key["shape"] == nil { key["shape"] = [] }
            if key["source"] == nil { key["source"] = .string("resonance") }
            keys[field] = .object(key)
        }
        return ["uid": .string(BlueskyUID.dashed(stream.uid)), "run_start": .string(startUID), "time": .double(stream.timeCreated),
                "name": .string(stream.name), "data_keys": .object(keys), "configuration": [:], "hints": [:], "object_keys": [:]]
    }

    static func numpyTypeString(_ dtype: String) -> String {
        guard let d = FrameDType(rawValue: dtype) else { return dtype }
        let kind = dtype.hasPrefix("float") ? "f" : dtype.hasPrefix("uint") ? "u" : "i"
        return (d.size == 1 ? "|" : "<") + kind + String(d.size)
    }

    /// The seq_num of each frame of a field, in the order of the frames in its array.
    static func frameSeqNums(_ queue: DatabaseQueue, runUID: String, field: String) throws -> [Int64] {
        try queue.read { db in
            try Int64.fetchAll(db, sql: """
                SELECT e.seq_num FROM image_refs i JOIN events e ON e.uid = i.event_uid JOIN streams s ON s.uid = e.stream_uid
                WHERE s.run_uid = ? AND i.field_name = ? ORDER BY i.index_in_stack
                """, arguments: [runUID, field])
        }
    }

    /// Frames (in array order) grouped into stream_datums: consecutive events with the same
    /// number of frames each.
    static func blocks(_ seqs: [Int64]) -> [(indices: Range<Int>, seqNums: Range<Int64>)] {
        var perEvent: [(seq: Int64, first: Int, count: Int)] = []
        for (index, seq) in seqs.enumerated() {
            if let last = perEvent.last, last.seq == seq { perEvent[perEvent.count - 1].count += 1 } else { perEvent.append((seq, index, 1)) }
        }
        var blocks: [(indices: Range<Int>, seqNums: Range<Int64>)] = []
        var k = 0
        while k < perEvent.count {
            var j = k
            while j + 1 < perEvent.count, perEvent[j + 1].seq == perEvent[j].seq + 1, perEvent[j + 1].count == perEvent[k].count { j += 1 }
            blocks.append((perEvent[k].first..<(perEvent[j].first + perEvent[j].count), perEvent[k].seq..<(perEvent[j].seq + 1)))
            k = j + 1
        }
        return blocks
    }
}

/// Events gathered into one event_page: same descriptor, same fields.
struct EventPage {
    var descriptor = ""
    var fields: [String] = []
    var timestampFields: [String] = []
    var uids: [JSONValue] = []
    var times: [JSONValue] = []
    var seqNums: [JSONValue] = []
    var data: [[JSONValue]] = []
    var timestamps: [[JSONValue]] = []
    var count: Int { uids.count }

    init() {}

    init(descriptor: String, fields: [String], timestampFields: [String]) {
        self.descriptor = descriptor
        self.fields = fields
        self.timestampFields = timestampFields
        data = fields.map { _ in [] }
        timestamps = timestampFields.map { _ in [] }
    }

    func accepts(descriptor: String, data: JSONObject, timestamps: JSONObject) -> Bool {
        descriptor == self.descriptor && data.keys.elementsEqual(fields) && timestamps.keys.elementsEqual(timestampFields)
    }

    mutating func append(uid: String, seq: Int64, time: Double, data row: JSONObject, timestamps ts: JSONObject) {
        uids.append(.string(uid))
        seqNums.append(.int(seq))
        times.append(.double(time))
        for (k, value) in row.values.enumerated() { data[k].append(value) }
        for (k, value) in ts.values.enumerated() { timestamps[k].append(value) }
    }

    var body: JSONObject {
        var d = JSONObject(), t = JSONObject()
        for (k, field) in fields.enumerated() { d[field] = .array(data[k]) }
        for (k, field) in timestampFields.enumerated() { t[field] = .array(timestamps[k]) }
        return ["descriptor": .string(descriptor), "uid": .array(uids), "time": .array(times), "seq_num": .array(seqNums),
                "data": .object(d), "timestamps": .object(t), "filled": [:]]
    }
}
