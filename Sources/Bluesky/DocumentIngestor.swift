import Foundation
import GRDB
import JSONValue
import OrderedCollections
import Resonance

/// Records event-model documents (a Bluesky RunEngine's output) in a beamtime.
///
/// ```swift
/// let ingestor = DocumentIngestor(dbPath: "/data/2026-03-05.db")
/// for (k, line) in lines.enumerated() {
///     do { try ingestor.ingest(jsonLine: line, number: k + 1) } catch { print(error) }   // "line 7: ..."
/// }
/// let summary = try ingestor.finish()   // runs, events, frames, skipped, errors
/// ```
///
/// How documents map to the beamtime (docs/format.md, "Bluesky documents"):
/// - start: a run (uid: the start's uid as 32 hex digits; plan_name; the other keys as run
///   metadata; the sample from `sample` or `sample_name`);
/// - descriptor: a stream named by its `name`; later descriptors of that name join it;
/// - event, event_page: events with their uid, seq_num, time, data and timestamps; a 2-D
///   array of numbers is a frame (`writeFrame`), other arrays and objects are JSON text;
/// - resource + datum, stream_resource + stream_datum: the frames they point at, read from
///   the files (``ExternalFrames``); other specs keep the datum id and are reported;
/// - stop: the run closed with its exit status.
///
/// Every start, descriptor, resource, datum, stream_resource, stream_datum and stop is kept
/// verbatim in the `bluesky_documents` table. Ingesting the same documents again skips
/// what is recorded (by uid) and finishes what a killed ingest left open.
public final class DocumentIngestor {
    /// What an ingest did.
    public struct Summary: Sendable, Equatable {
        /// Runs started or resumed.
        public var runs = 0
        /// Events recorded.
        public var events = 0
        /// Frames recorded.
        public var frames = 0
        /// Documents (and events of pages) already recorded with the same content.
        public var skipped = 0
        /// Documents refused.
        public var errors = 0
        /// Things recorded with a caveat (e.g. an external spec that is not read).
        public var warnings = 0
        /// Runs still open at the end (no stop read yet), by their 32-hex uid.
        public var openRuns: [String] = []
        public init() {}
    }

    public let dbPath: String
    /// The sample of runs whose start names none.
    public var defaultSample: String
    public let writerOptions: RunWriter.Options
    /// Called for each warning (text without a trailing newline).
    public var onWarning: (String) -> Void = { _ in }
    public private(set) var summary = Summary()

    private var writer: RunWriter?
    private var run: RunContext?
    /// The start uid of a closed run whose documents come again: they are skipped.
    private var replayedStart: String?

    /// An ingestor writing to the beamtime at `dbPath` (created on the first start).
    public init(dbPath: String, defaultSample: String = "unknown", writerOptions: RunWriter.Options = RunWriter.Options()) {
        self.dbPath = dbPath
        self.defaultSample = defaultSample
        self.writerOptions = writerOptions
    }

    // MARK: Input

    /// Records the document on one JSON line (`[name, doc]` or `{"name":, "doc":}`).
    /// Blank lines are ignored. Throws what was refused, with the line number.
    public func ingest(jsonLine bytes: UnsafeBufferPointer<UInt8>, number: Int) throws(IngestError) {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
        do {
            try ingest(try BlueskyDocument(jsonLine: bytes, line: number), line: number)
        } catch {
            if case .malformedJSON = error.problem { summary.errors += 1 }
            if case .notADocument = error.problem { summary.errors += 1 }
            if case .unknownDocumentName = error.problem { summary.errors += 1 }
            throw error
        }
    }

    /// Records one document. `line` is used in errors.
    public func ingest(_ document: BlueskyDocument, line: Int) throws(IngestError) {
        do {
            try dispatch(document, line: line)
        } catch {
            summary.errors += 1
            throw error
        }
    }

    /// Commits everything and closes the beamtime. Runs without a stop stay open: ingest
    /// the rest of their documents later to finish them.
    @discardableResult
    public func finish() throws -> Summary {
        if let run { summary.openRuns = [run.uid] }
        if let writer {
            try writer.flush()
            try writer.close()
        }
        writer = nil
        run = nil
        return summary
    }

    private func dispatch(_ doc: BlueskyDocument, line: Int) throws(IngestError) {
        if doc.name == .start { return try start(doc, line: line) }
        if let replayedStart {
            return try replay(doc, start: replayedStart, line: line)
        }
        guard let run else {
            let runStart = doc.body["run_start"]?.stringValue ?? "(none)"
            let uid = doc.body["uid"]?.stringValue ?? doc.body["datum_id"]?.stringValue ?? ""
            throw IngestError(line: line, problem: doc.name == .event || doc.name == .eventPage
                ? .unknownDescriptor(name: doc.name.rawValue, descriptor: doc.body["descriptor"]?.stringValue ?? "(none)")
                : .noStart(name: doc.name.rawValue, uid: uid, runStart: runStart))
        }
        switch doc.name {
        case .start: break
        case .descriptor: try descriptor(doc, run: run, line: line)
        case .event, .eventPage: try eventPage(doc, run: run, line: line)
        case .resource: try resource(doc, run: run, line: line)
        case .datum: try datum(doc, run: run, line: line)
        case .datumPage: try datumPage(doc, run: run, line: line)
        case .streamResource: try streamResource(doc, run: run, line: line)
        case .streamDatum: try streamDatum(doc, run: run, line: line)
        case .stop: try stop(doc, run: run, line: line)
        }
    }

    // MARK: Runs

    private func start(_ doc: BlueskyDocument, line: Int) throws(IngestError) {
        let uid = try doc.string("uid", line: line)
        let time = try doc.number("time", line: line)
        if let open = run?.startUID ?? replayedStart {
            throw IngestError(line: line, problem: .startBeforeStop(newStart: uid, openStart: open))
        }
        let runUID = BlueskyUID.formatUID(uid)
        let writer = try writer(for: sample(of: doc.body), line: line)
        let state = try guarded(line) {
            try writer.readDatabase { db in
                try Row.fetchOne(db, sql: "SELECT time_stop FROM runs WHERE uid = ?", arguments: [runUID])
                    .map { ($0["time_stop"] as Double?) != nil }
            }
        }
        switch state {
        case true?:
            // Recorded and closed: its documents come again; skip them.
            _ = try keep(doc, uid: uid, runUID: runUID, stream: nil, line: line, writer: writer)
            summary.skipped += 1
            replayedStart = uid
            return
        case false?:
            try guarded(line) { try writer.resumeRun(uid: runUID) }
            let context = RunContext(uid: runUID, startUID: uid)
            context.resumed = true
            try guarded(line) { try context.loadRecorded(writer) }
            if !(try keep(doc, uid: uid, runUID: runUID, stream: nil, line: line, writer: writer)) { summary.skipped += 1 }
            run = context
        case nil:
            var metadata = doc.body
            let planName = metadata.removeValue(forKey: "plan_name")?.stringValue ?? "unknown"
            let operatorName = doc.body["operator"]?.stringValue
            try guarded(line) {
                try writer.openRun(planName.isEmpty ? "unknown" : planName, metadata: metadata, operator: operatorName,
                                   uid: runUID, time: time)
            }
            _ = try keep(doc, uid: uid, runUID: runUID, stream: nil, line: line, writer: writer)
            run = RunContext(uid: runUID, startUID: uid)
        }
        summary.runs += 1
    }

    private func stop(_ doc: BlueskyDocument, run: RunContext, line: Int) throws(IngestError) {
        let uid = try doc.string("uid", line: line)
        let runStart = try doc.string("run_start", line: line)
        guard runStart == run.startUID else {
            throw IngestError(line: line, problem: .noStart(name: "stop", uid: uid, runStart: runStart))
        }
        let status: ExitStatus
        switch try doc.string("exit_status", line: line) {
        case "success": status = .success
        case "abort": status = .aborted
        case "fail": status = .failed
        case let other:
            throw IngestError(line: line, problem: .invalidDocument(name: "stop", reason: "exit_status \(other.debugDescription) is not success, abort or fail"))
        }
        let time = doc.body["time"]?.doubleValue
        let writer = try openWriter(line)
        if !(try keep(doc, uid: uid, runUID: run.uid, stream: nil, line: line, writer: writer)) { summary.skipped += 1 }
        if run.pendingCount > 0 {
            warn("line \(line): run \(run.uid) stops with \(run.pendingCount) frames of stream_datums whose events never came; they are not recorded")
        }
        try guarded(line) { try writer.closeRun(exitStatus: status, time: time) }
        self.run = nil
    }

    /// Documents of a closed run read again: each is compared with what was recorded.
    private func replay(_ doc: BlueskyDocument, start: String, line: Int) throws(IngestError) {
        let writer = try openWriter(line)
        let runUID = BlueskyUID.formatUID(start)
        switch doc.name {
        case .event, .eventPage:
            for e in try unpackEvents(doc, line: line) {
                try checkRecorded(e, writer: writer, line: line)
                summary.skipped += 1
            }
        case .datumPage:
            for datum in try Self.unpackDatumPage(doc, line: line) {
                _ = try keep(datum, uid: try datum.string("datum_id", line: line), runUID: runUID, stream: nil, line: line, writer: writer)
                summary.skipped += 1
            }
        default:
            let uid = try doc.string(doc.name == .datum ? "datum_id" : "uid", line: line)
            _ = try keep(doc, uid: uid, runUID: runUID, stream: doc.name == .descriptor ? doc.body["name"]?.stringValue ?? "primary" : nil,
                         line: line, writer: writer)
            summary.skipped += 1
        }
        if doc.name == .stop, doc.body["run_start"]?.stringValue == start { replayedStart = nil }
    }

    // MARK: Descriptors and events

    private func descriptor(_ doc: BlueskyDocument, run: RunContext, line: Int) throws(IngestError) {
        let uid = try doc.string("uid", line: line)
        let runStart = try doc.string("run_start", line: line)
        guard runStart == run.startUID else {
            throw IngestError(line: line, problem: .noStart(name: "descriptor", uid: uid, runStart: runStart))
        }
        let name = doc.body["name"]?.stringValue ?? "primary"
        let dataKeys = try doc.object("data_keys", line: line)
        let desc = Descriptor(uid: uid, stream: name, dataKeys: dataKeys)
        let writer = try openWriter(line)
        if !run.streams.contains(name) {
            do {
                try writer.openStream(name, dataKeys: desc.streamDataKeys)
            } catch RunWriterError.duplicateStream {
                // Opened by an ingest that was killed before it kept the descriptor.
            } catch {
                throw IngestError(line: line, problem: .writer("\(error)"))
            }
            run.streams.insert(name)
        }
        if !(try keep(doc, uid: uid, runUID: run.uid, stream: name, line: line, writer: writer)) { summary.skipped += 1 }
        run.descriptors[uid] = desc
    }

    private func descriptorOf(_ doc: BlueskyDocument, run: RunContext, line: Int) throws(IngestError) -> Descriptor {
        let uid = try doc.string("descriptor", line: line)
        guard let desc = run.descriptors[uid] else {
            throw IngestError(line: line, problem: .unknownDescriptor(name: doc.name.rawValue, descriptor: uid))
        }
        return desc
    }

    private func seqNum(_ value: JSONValue?, _ doc: BlueskyDocument, line: Int) throws(IngestError) -> Int64 {
        guard let n = value?.intValue else {
            throw IngestError(line: line, problem: .invalidDocument(name: doc.name.rawValue, reason: "no integer \"seq_num\""))
        }
        return n
    }

    private func eventPage(_ doc: BlueskyDocument, run: RunContext, line: Int) throws(IngestError) {
        let desc = try descriptorOf(doc, run: run, line: line)
        for e in try unpackEvents(doc, line: line) { try event(e, descriptor: desc, run: run, line: line) }
    }

    /// The events of an event or an event_page document.
    private func unpackEvents(_ doc: BlueskyDocument, line: Int) throws(IngestError) -> [EventFields] {
        func seconds(_ field: String, _ value: JSONValue) throws(IngestError) -> Double {
            guard let t = value.doubleValue else {
                throw IngestError(line: line, problem: .invalidDocument(name: doc.name.rawValue, reason: "timestamp of \(field.debugDescription) is not a number"))
            }
            return t
        }
        if doc.name == .event {
            var timestamps = Timestamps()
            for (field, value) in try doc.object("timestamps", line: line) { timestamps[field] = try seconds(field, value) }
            return [EventFields(uid: try doc.string("uid", line: line), seqNum: try seqNum(doc.body["seq_num"], doc, line: line),
                                time: try doc.number("time", line: line), data: try doc.object("data", line: line),
                                timestamps: timestamps)]
        }
        func column(_ key: String) throws(IngestError) -> [JSONValue] {
            guard let values = doc.body[key]?.arrayValue else {
                throw IngestError(line: line, problem: .invalidDocument(name: "event_page", reason: "no array \(key.debugDescription)"))
            }
            return values
        }
        let uids = try column("uid"), times = try column("time"), seqNums = try column("seq_num")
        let data = try doc.object("data", line: line), timestamps = try doc.object("timestamps", line: line)
        let n = uids.count
        guard times.count == n, seqNums.count == n,
              data.values.allSatisfy({ $0.arrayValue?.count == n }), timestamps.values.allSatisfy({ $0.arrayValue?.count == n })
        else {
            throw IngestError(line: line, problem: .invalidDocument(name: "event_page", reason: "its columns differ in length"))
        }
        // Columns to rows; the keys are unique already (they come from an object).
        let dataKeys = Array(data.keys), dataColumns = data.values.map { $0.arrayValue! }
        let timeKeys = Array(timestamps.keys)
        var timeColumns: [[Double]] = []
        for (field, column) in timestamps {
            var values: [Double] = []
            values.reserveCapacity(n)
            for value in column.arrayValue! { values.append(try seconds(field, value)) }
            timeColumns.append(values)
        }
        var events: [EventFields] = []
        events.reserveCapacity(n)
        for i in 0..<n {
            guard let uid = uids[i].stringValue, let time = times[i].doubleValue else {
                throw IngestError(line: line, problem: .invalidDocument(name: "event_page", reason: "event \(i) has no string uid or number time"))
            }
            let row = JSONObject(uncheckedUniqueKeysWithValues: dataKeys.indices.lazy.map { (dataKeys[$0], dataColumns[$0][i]) })
            let ts = Timestamps(uncheckedUniqueKeysWithValues: timeKeys.indices.lazy.map { (timeKeys[$0], timeColumns[$0][i]) })
            events.append(EventFields(uid: uid, seqNum: try seqNum(seqNums[i], doc, line: line), time: time, data: row, timestamps: ts))
        }
        return events
    }

    /// Checks an event that is recorded already against the recorded row: a uid seen
    /// again must come with the same seq_num, time, timestamps and values (frames apart).
    private func checkRecorded(_ e: EventFields, writer: RunWriter, line: Int) throws(IngestError) {
        let uid32 = BlueskyUID.formatUID(e.uid)
        func stored() throws -> Row? {
            try writer.readDatabase { db in
                try Row.fetchOne(db, sql: "SELECT seq_num, time, data, timestamps FROM events WHERE uid = ?", arguments: [uid32])
            }
        }
        let row = try guarded(line) { () -> Row? in
            if let row = try stored() { return row }
            try writer.flush()  // written in this ingest, not committed yet
            return try stored()
        }
        guard let row else {
            throw IngestError(line: line, problem: .unrecordable(name: "event \(e.uid)", reason: "its run is closed and does not have it"))
        }
        guard EventFields.same(e, seqNum: row["seq_num"], time: row["time"], data: row["data"], timestamps: row["timestamps"]) else {
            throw IngestError(line: line, problem: .conflictingUID(name: "event", uid: e.uid))
        }
    }

    private func event(_ e: EventFields, descriptor desc: Descriptor, run: RunContext, line: Int) throws(IngestError) {
        let (uid, seqNum, time, data, timestamps) = (e.uid, e.seqNum, e.time, e.data, e.timestamps)
        let key = BlueskyUID.anyKey(uid)
        let uid32 = BlueskyUID.hex(key)
        let writer = try openWriter(line)
        let recorded = run.recordedEvents.contains(key)
        var row = desc.onlyScalars ? data : JSONObject(minimumCapacity: data.count)
        var frames: [(field: String, source: FrameSource)] = []
        for (field, value) in data {
            if desc.onlyScalars {
                // The common case (every data key a scalar): the data go in as they are.
                if value.isScalar { continue }
                throw IngestError(line: line, problem: .unrecordable(name: "event \(uid)", reason: "field \(field.debugDescription) holds \(Self.short(value)), but its data key declares a scalar"))
            }
            if let dtypeNumpy = desc.frameFields[field] {
                if value.isScalar { row[field] = value; continue }
                guard let frame = RawFrame.fromJSON(value, dtypeNumpy: dtypeNumpy) else {
                    throw IngestError(line: line, problem: .unrecordable(name: "event \(uid)", reason: "field \(field.debugDescription) is declared a 2-D array but holds \(Self.short(value))"))
                }
                frames.append((field, .frame(frame)))
            } else if desc.externalFields.contains(field), let datumID = value.stringValue,
                      let datum = run.datums[datumID], let resource = run.resources[datum.resource],
                      ExternalFrames.readableSpecs.contains(resource["spec"]?.stringValue ?? "") {
                frames.append((field, .datum(resource: resource, kwargs: datum.kwargs, id: datumID)))
            } else if desc.jsonFields.contains(field) {
                row[field] = .string(value.jsonText)
            } else if value.isScalar {
                if desc.externalFields.contains(field), let id = value.stringValue, run.datums[id] == nil {
                    throw IngestError(line: line, problem: .unknownReference(name: "event \(uid)", reference: "datum \(id)"))
                }
                row[field] = value
            } else {
                throw IngestError(line: line, problem: .unrecordable(name: "event \(uid)", reason: "field \(field.debugDescription) holds \(Self.short(value)), but its data key declares a scalar"))
            }
        }
        if recorded {
            try checkRecorded(e, writer: writer, line: line)
            summary.skipped += 1
        } else {
            if run.currentDescriptor[desc.stream] != desc.uid {
                try guarded(line) {
                    try writer.writeDatabase { db in
                        try DocumentTables.insertSegment(db, runUID: run.uid, stream: desc.stream, descriptor: desc.uid, first: seqNum)
                    }
                }
                run.currentDescriptor[desc.stream] = desc.uid
            }
            try guarded(line) { try writer.writeEvent(row, timestamps: timestamps, stream: desc.stream, time: time, uid: uid32, seqNum: seqNum) }
            run.recordedEvents.insert(key)
            summary.events += 1
        }
        if !desc.streamFields.isEmpty {
            run.eventBySeq[desc.stream, default: [:]][seqNum] = uid32
            for (field, source) in run.pending[desc.stream]?.removeValue(forKey: seqNum) ?? [] {
                frames.append((field, source))
            }
        }
        for (field, source) in frames where !run.framesRecorded.contains(FrameKey(event: key, field: field)) {
            try writeFrames(source, event: uid32, key: key, field: field, run: run, line: line)
        }
    }

    /// Where the frames of one event's field come from.
    enum FrameSource {
        case frame(RawFrame)
        case datum(resource: JSONObject, kwargs: JSONObject, id: String)
        case stream(resource: JSONObject, range: Range<Int>)
    }

    private func writeFrames(_ source: FrameSource, event: String, key: UIDKey, field: String, run: RunContext, line: Int) throws(IngestError) {
        let frames: [RawFrame]
        do {
            switch source {
            case .frame(let frame): frames = [frame]
            case .datum(let resource, let kwargs, _): frames = try ExternalFrames.frames(resource: resource, datumKwargs: kwargs)
            case .stream(let resource, let range): frames = try ExternalFrames.frames(streamResource: resource, range: range)
            }
        } catch {
            throw IngestError(line: line, problem: .unrecordable(name: "frame of field \(field.debugDescription) of event \(event)", reason: "\(error)"))
        }
        let writer = try openWriter(line)
        for frame in frames {
            try guarded(line) {
                try frame.bytes.withUnsafeBytes { pixels in
                    try writer.writeFrame(eventUID: event, field: field, shape: [frame.rows, frame.columns], dtype: frame.dtype, pixels: pixels)
                }
            }
            summary.frames += 1
        }
        run.framesRecorded.insert(FrameKey(event: key, field: field))
    }

    // MARK: External data

    private func resource(_ doc: BlueskyDocument, run: RunContext, line: Int) throws(IngestError) {
        let uid = try keepAsset(doc, run: run, line: line, kindKey: "spec", readable: ExternalFrames.readableSpecs,
                                unread: "its datum ids are kept in the events and the documents in bluesky_documents")
        run.resources[uid] = doc.body
    }

    /// Keeps a resource or stream_resource of the open run (the uid returned) and warns
    /// when its spec or mimetype (`kindKey`) is not one resonance reads.
    private func keepAsset(_ doc: BlueskyDocument, run: RunContext, line: Int, kindKey: String, readable: Set<String>,
                           unread: String) throws(IngestError) -> String {
        let uid = try doc.string("uid", line: line)
        if let runStart = doc.body["run_start"]?.stringValue, runStart != run.startUID {
            throw IngestError(line: line, problem: .noStart(name: doc.name.rawValue, uid: uid, runStart: runStart))
        }
        if !(try keep(doc, uid: uid, runUID: run.uid, stream: nil, line: line, writer: try openWriter(line))) { summary.skipped += 1 }
        let kind = doc.body[kindKey]?.stringValue ?? ""
        if !readable.contains(kind) {
            warn("line \(line): \(doc.name.rawValue) \(uid) has \(kindKey) \(kind.debugDescription), which resonance does not read (it reads \(readable.sorted().joined(separator: ", "))); \(unread)")
        }
        return uid
    }

    private func datum(_ doc: BlueskyDocument, run: RunContext, line: Int) throws(IngestError) {
        let id = try doc.string("datum_id", line: line)
        let resource = try doc.string("resource", line: line)
        guard run.resources[resource] != nil else {
            throw IngestError(line: line, problem: .unknownReference(name: "datum \(id)", reference: "resource \(resource)"))
        }
        if !(try keep(doc, uid: id, runUID: run.uid, stream: nil, line: line, writer: try openWriter(line))) { summary.skipped += 1 }
        run.datums[id] = (resource, try doc.object("datum_kwargs", line: line))
    }

    private func datumPage(_ doc: BlueskyDocument, run: RunContext, line: Int) throws(IngestError) {
        for datum in try Self.unpackDatumPage(doc, line: line) { try self.datum(datum, run: run, line: line) }
    }

    static func unpackDatumPage(_ doc: BlueskyDocument, line: Int) throws(IngestError) -> [BlueskyDocument] {
        let resource = try doc.string("resource", line: line)
        guard let ids = doc.body["datum_id"]?.arrayValue else {
            throw IngestError(line: line, problem: .invalidDocument(name: "datum_page", reason: "no array \"datum_id\""))
        }
        let kwargs = try doc.object("datum_kwargs", line: line)
        guard kwargs.values.allSatisfy({ $0.arrayValue?.count == ids.count }) else {
            throw IngestError(line: line, problem: .invalidDocument(name: "datum_page", reason: "its columns differ in length"))
        }
        return ids.indices.map { i in
            var body: JSONObject = ["resource": .string(resource)]
            body["datum_kwargs"] = .object(kwargs.mapValues { $0.arrayValue![i] })
            body["datum_id"] = ids[i]
            return BlueskyDocument(name: .datum, body: body)
        }
    }

    private func streamResource(_ doc: BlueskyDocument, run: RunContext, line: Int) throws(IngestError) {
        let uid = try keepAsset(doc, run: run, line: line, kindKey: "mimetype", readable: ExternalFrames.readableMimetypes,
                                unread: "its documents are kept in bluesky_documents")
        run.streamResources[uid] = doc.body
    }

    private func streamDatum(_ doc: BlueskyDocument, run: RunContext, line: Int) throws(IngestError) {
        let uid = try doc.string("uid", line: line)
        let desc = try descriptorOf(doc, run: run, line: line)
        let resourceUID = try doc.string("stream_resource", line: line)
        guard let resource = run.streamResources[resourceUID] else {
            throw IngestError(line: line, problem: .unknownReference(name: "stream_datum \(uid)", reference: "stream_resource \(resourceUID)"))
        }
        let writer = try openWriter(line)
        if !(try keep(doc, uid: uid, runUID: run.uid, stream: desc.stream, line: line, writer: writer)) { summary.skipped += 1 }
        guard ExternalFrames.readableMimetypes.contains(resource["mimetype"]?.stringValue ?? "") else { return }
        func range(_ key: String) throws(IngestError) -> Range<Int> {
            guard let r = doc.body[key]?.objectValue, let a = r["start"]?.intValue, let b = r["stop"]?.intValue, a <= b else {
                throw IngestError(line: line, problem: .invalidDocument(name: "stream_datum", reason: "no \(key.debugDescription) {start, stop}"))
            }
            return Int(a)..<Int(b)
        }
        let indices = try range("indices"), seqNums = try range("seq_nums")
        guard !seqNums.isEmpty, indices.count % seqNums.count == 0 else {
            throw IngestError(line: line, problem: .invalidDocument(name: "stream_datum", reason: "\(indices.count) indices do not divide among \(seqNums.count) seq_nums"))
        }
        let field = resource["data_key"]?.stringValue ?? ""
        let perEvent = indices.count / seqNums.count
        for (k, seq) in seqNums.enumerated() {
            let frames = FrameSource.stream(resource: resource, range: (indices.lowerBound + k * perEvent)..<(indices.lowerBound + (k + 1) * perEvent))
            if let event = try run.event(stream: desc.stream, seqNum: Int64(seq), writer: writer, line: line) {
                let key = BlueskyUID.anyKey(event)
                if !run.framesRecorded.contains(FrameKey(event: key, field: field)) {
                    try writeFrames(frames, event: event, key: key, field: field, run: run, line: line)
                }
            } else {
                run.pending[desc.stream, default: [:]][Int64(seq), default: []].append((field, frames))
            }
        }
    }

    // MARK: Helpers

    /// Keeps a document in `bluesky_documents`; true when it was new, false when it was
    /// there with the same content; a conflict when it was there with other content.
    private func keep(_ doc: BlueskyDocument, uid: String, runUID: String, stream: String?, line: Int, writer: RunWriter) throws(IngestError) -> Bool {
        let text = JSONValue.object(doc.body).jsonText
        let stored = try guarded(line) {
            try writer.writeDatabase { db -> String? in
                if let (_, stored) = try DocumentTables.document(db, uid: uid) { return stored }
                try DocumentTables.insert(db, uid: uid, runUID: runUID, kind: doc.name, stream: stream, text: text)
                return nil
            }
        }
        guard let stored else { return true }
        guard stored == text else {
            throw IngestError(line: line, problem: .conflictingUID(name: doc.name.rawValue, uid: uid))
        }
        return false
    }

    private func sample(of start: JSONObject) -> SampleMetadata {
        if let object = start["sample"]?.objectValue, let name = object["name"]?.stringValue, !name.isEmpty {
            var extra = object
            for key in ["name", "formula", "serial", "tags", "beamline_pos"] { extra.removeValue(forKey: key) }
            return SampleMetadata(name: name, formula: object["formula"]?.stringValue, serial: object["serial"]?.stringValue,
                                  tags: object["tags"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                  beamlinePos: object["beamline_pos"]?.stringValue, extra: extra)
        }
        if let name = start["sample"]?.stringValue ?? start["sample_name"]?.stringValue, !name.isEmpty {
            return SampleMetadata(name: name)
        }
        return SampleMetadata(name: defaultSample)
    }

    /// The writer, opened for `sample` (reopened when the sample changes: a writer has one).
    private func writer(for sample: SampleMetadata, line: Int) throws(IngestError) -> RunWriter {
        if let writer, writer.sample.name == sample.name { return writer }
        try guarded(line) {
            try writer?.close()
            writer = nil
            let new = RunWriter(dbPath: dbPath, sample: sample, options: writerOptions)
            try new.open()
            try new.writeDatabase { db in try DocumentTables.create(db) }
            writer = new
        }
        return writer!
    }

    private func openWriter(_ line: Int) throws(IngestError) -> RunWriter {
        guard let writer else { throw IngestError(line: line, problem: .writer("no beamtime is open")) }
        return writer
    }

    private func guarded<T>(_ line: Int, _ body: () throws -> T) throws(IngestError) -> T {
        do {
            return try body()
        } catch let error as IngestError {
            throw error
        } catch let error as DatabaseFileError where error.problem == .lockedByAnotherWriter {
            // Its own case, so a caller can tell "try again later" from a refused document.
            throw IngestError(line: line, problem: .beamtimeLocked(error.description))
        } catch {
            throw IngestError(line: line, problem: .writer("\(error)"))
        }
    }

    private func warn(_ text: String) {
        summary.warnings += 1
        onWarning(text)
    }

    static func short(_ value: JSONValue) -> String {
        let text = value.jsonText
        return text.count <= 60 ? text : String(text.prefix(57)) + "..."
    }
}

/// One event of an event or event_page document.
struct EventFields {
    var uid: String
    var seqNum: Int64
    var time: Double
    var data: JSONObject
    var timestamps: Timestamps

    /// Whether a recorded row holds this event: same seq_num, time and timestamps, and
    /// each recorded value equal (as JSON text; a JSON-text field's string equal to the
    /// value's text). Frame fields are not in the row and not compared.
    static func same(_ e: EventFields, seqNum: Int64, time: Double, data: String, timestamps: String?) -> Bool {
        guard seqNum == e.seqNum, time == e.time,
              let stored = try? JSONValue(parsing: data).objectValue,
              let storedTimes = try? JSONValue(parsing: timestamps ?? "{}").objectValue
        else { return false }
        guard storedTimes.count == e.timestamps.count,
              e.timestamps.allSatisfy({ storedTimes[$0.key]?.doubleValue == $0.value })
        else { return false }
        for (field, value) in stored {
            guard let given = e.data[field] else { return false }
            let text = given.jsonText
            if value.jsonText != text && value.stringValue != text { return false }
        }
        return true
    }
}

/// One (event, field) whose frames are recorded.
struct FrameKey: Hashable {
    var event: UIDKey
    var field: String
}

/// How a descriptor's data keys are recorded.
struct Descriptor {
    let uid: String
    let stream: String
    /// 2-D arrays in the events: frames (field -> the key's `dtype_numpy`).
    var frameFields: [String: String?] = [:]
    /// Other arrays and objects: JSON text.
    var jsonFields: Set<String> = []
    /// `external` other than `STREAM:`: datum ids of a resource.
    var externalFields: Set<String> = []
    /// `external: "STREAM:"`: frames from stream_datums (absent from the events).
    var streamFields: Set<String> = []
    /// The stream's data_keys as the writer keeps them: JSON-text fields marked.
    var streamDataKeys: JSONObject
    /// No frame, external or JSON-text field: event data are recorded as they are.
    var onlyScalars = true

    /// The marker on a data key whose event values are JSON text.
    static let encodingKey = "resonance_encoding"

    init(uid: String, stream: String, dataKeys: JSONObject) {
        self.uid = uid
        self.stream = stream
        streamDataKeys = dataKeys
        for (field, key) in dataKeys {
            let external = key["external"]?.stringValue
            let shape = key["shape"]?.arrayValue ?? []
            if let external {
                if external.hasPrefix("STREAM:") { streamFields.insert(field) } else { externalFields.insert(field) }
            } else if shape.count == 2 {
                frameFields[field] = key["dtype_numpy"]?.stringValue
            } else if !shape.isEmpty || key["dtype"]?.stringValue == "array" {
                jsonFields.insert(field)
                if case .object(var marked) = key {
                    marked[Self.encodingKey] = "json"
                    streamDataKeys[field] = .object(marked)
                }
            }
        }
        onlyScalars = frameFields.isEmpty && jsonFields.isEmpty && externalFields.isEmpty
    }
}

/// The open run: what the ingestor needs to map its documents.
final class RunContext {
    let uid: String
    let startUID: String
    var streams: Set<String> = []
    var descriptors: [String: Descriptor] = [:]
    /// The descriptor the last event of each stream used.
    var currentDescriptor: [String: String] = [:]
    var recordedEvents: Set<UIDKey> = []
    var framesRecorded: Set<FrameKey> = []
    var resources: [String: JSONObject] = [:]
    var datums: [String: (resource: String, kwargs: JSONObject)] = [:]
    var streamResources: [String: JSONObject] = [:]
    /// Event uids by seq_num, for streams with stream_datum frames.
    var eventBySeq: [String: [Int64: String]] = [:]
    /// Frames of stream_datums that came before their events.
    var pending: [String: [Int64: [(String, DocumentIngestor.FrameSource)]]] = [:]
    var pendingCount: Int { pending.values.reduce(0) { $0 + $1.count } }
    /// Resumed after a killed ingest: events of earlier ingests are in the database only.
    var resumed = false

    init(uid: String, startUID: String) {
        self.uid = uid
        self.startUID = startUID
    }

    /// What an earlier (killed) ingest recorded of this run: streams, events, frames, segments.
    func loadRecorded(_ writer: RunWriter) throws {
        try writer.readDatabase { db in
            for name in try String.fetchAll(db, sql: "SELECT name FROM streams WHERE run_uid = ?", arguments: [uid]) {
                streams.insert(name)
            }
            let events = try String.fetchCursor(db, sql: """
                SELECT e.uid FROM events e JOIN streams s ON s.uid = e.stream_uid WHERE s.run_uid = ?
                """, arguments: [uid])
            while let event = try events.next() { recordedEvents.insert(BlueskyUID.anyKey(event)) }
            let frames = try Row.fetchCursor(db, sql: """
                SELECT DISTINCT i.event_uid, i.field_name FROM image_refs i JOIN events e ON e.uid = i.event_uid
                JOIN streams s ON s.uid = e.stream_uid WHERE s.run_uid = ?
                """, arguments: [uid])
            while let row = try frames.next() {
                framesRecorded.insert(FrameKey(event: BlueskyUID.anyKey(row["event_uid"]), field: row["field_name"]))
            }
            for segment in try DocumentTables.segments(db, runUID: uid) { currentDescriptor[segment.stream] = segment.descriptor }
        }
    }

    /// The uid of the event with this seq_num in `stream`, if it is recorded.
    func event(stream: String, seqNum: Int64, writer: RunWriter, line: Int) throws(IngestError) -> String? {
        if let uid = eventBySeq[stream]?[seqNum] { return uid }
        guard resumed else { return nil }
        do {
            try writer.flush()
            return try writer.readDatabase { db in
                try String.fetchOne(db, sql: """
                    SELECT e.uid FROM events e JOIN streams s ON s.uid = e.stream_uid
                    WHERE s.run_uid = ? AND s.name = ? AND e.seq_num = ?
                    """, arguments: [uid, stream, seqNum])
            }
        } catch {
            throw IngestError(line: line, problem: .writer("\(error)"))
        }
    }
}
