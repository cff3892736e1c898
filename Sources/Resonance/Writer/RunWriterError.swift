/// A call the ``RunWriter`` refused, or a value it cannot store. Nothing was written.
///
/// Each message says what was wrong and, for calls made in the wrong order, what to call first.
public enum RunWriterError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The writer is not open.
    case notOpen
    /// `open()` was called on an open writer.
    case alreadyOpen
    /// A run is needed and none is open.
    case noOpenRun
    /// `openRun` was called while another run is open.
    case runAlreadyOpen(uid: String)
    /// An event was written before any stream of the run was opened.
    case noOpenStream
    /// `writeEvent(stream:)` named a stream the run does not have.
    case unknownStream(name: String, known: [String])
    /// `openStream` was called twice with the same name in one run.
    case duplicateStream(name: String)
    /// The run uid given to `openRun` is already used in this beamtime.
    case runUIDInUse(uid: String)
    /// A uid that is not 32 lowercase hex digits.
    case invalidUID(String)
    /// A name (plan, sample, stream or field) that cannot be stored.
    case invalidName(kind: String, name: String, reason: String)
    /// An event value that is not a scalar (number, string, bool or null).
    case nonScalarValue(field: String, value: String)
    /// A timestamp that is NaN or infinite.
    case nonFiniteTimestamp(field: String, value: Double)
    /// `writeFrame` named an event that is not an event of the current run.
    case eventNotInRun(eventUID: String, runUID: String)
    /// A frame that cannot be stored (wrong rank, empty, changed shape or dtype).
    case invalidFrame(field: String, reason: String)
    /// Metadata, data keys or sample extras that could not be read back once written.
    case unencodable(what: String, reason: String)
    /// A frame accepted by `writeFrame` could not be compressed or stored in the background:
    /// frames `firstIndex ..< firstIndex + count` of `field` were not stored and have no
    /// image_refs row (`reason` names the file and the cause). Frames before them are
    /// stored; the next frame of the field follows the last one stored.
    case framesNotWritten(field: String, firstIndex: Int, count: Int, reason: String)
    /// A background commit failed; the `pendingEvents` rows not yet committed are kept in
    /// memory. Thrown once per failure, and by every call after three failures in a row,
    /// until ``RunWriter/flush()`` (the retry) succeeds.
    case commitFailed(reason: String, pendingEvents: Int)
    /// `writeEvent(seqNum:)` gave a seq_num not above the stream's last one.
    case seqNumNotIncreasing(stream: String, seqNum: Int64, last: Int64)
    /// `resumeRun(uid:)` named a run that is not in the beamtime or is already closed.
    case cannotResume(uid: String, reason: String)

    public var description: String {
        switch self {
        case .notOpen: return "the RunWriter is not open: call open() first"
        case .alreadyOpen: return "the RunWriter is already open: call close() before opening it again"
        case .noOpenRun: return "no run is open: call openRun(_:metadata:) first"
        case .runAlreadyOpen(let uid): return "run \(uid) is still open: call closeRun(exitStatus:) before opening another run"
        case .noOpenStream: return "the run has no stream: call openStream(_:dataKeys:) before writeEvent"
        case .unknownStream(let name, let known):
            return "the run has no stream named \(name.debugDescription) (streams: \(known.joined(separator: ", "))): call openStream(\(name.debugDescription), dataKeys:) first"
        case .duplicateStream(let name):
            return "the run already has a stream named \(name.debugDescription): write to it with writeEvent(_:timestamps:stream:)"
        case .runUIDInUse(let uid): return "run uid \(uid) is already used in this beamtime; omit uid to get a new one"
        case .invalidUID(let uid): return "invalid uid \(uid.debugDescription): expected 32 lowercase hex digits"
        case .invalidName(let kind, let name, let reason):
            return "invalid \(kind) name \(Self.abbreviated(name)): \(reason)"
        case .nonScalarValue(let field, let value):
            return "event field \(field.debugDescription) holds \(Self.abbreviated(value)); event values must be numbers, strings, bools or null"
        case .nonFiniteTimestamp(let field, let value):
            return "timestamp of field \(field.debugDescription) is \(value); timestamps must be finite Unix seconds"
        case .eventNotInRun(let event, let run):
            return "event \(event.debugDescription) is not an event of the current run \(run): write the event with writeEvent first and pass the uid it returned"
        case .invalidFrame(let field, let reason): return "frame for field \(field.debugDescription) refused: \(reason)"
        case .unencodable(let what, let reason): return "\(what) cannot be stored: \(reason)"
        case .framesNotWritten(let field, let first, let count, let reason):
            let frames = count == 1 ? "frame \(first)" : "frames \(first)...\(first + count - 1)"
            return "\(frames) of field \(field.debugDescription) could not be written and were not stored (\(reason)); earlier frames are stored, the next frame follows the last one stored"
        case .commitFailed(let reason, let pending):
            return "committing to the database failed (\(reason)); \(pending) pending rows are kept in memory: call flush() to retry"
        case .seqNumNotIncreasing(let stream, let seqNum, let last):
            return "seq_num \(seqNum) in stream \(stream.debugDescription) is not above its last seq_num \(last); seq_nums of a stream must increase"
        case .cannotResume(let uid, let reason): return "run \(uid) cannot be resumed: \(reason)"
        }
    }

    /// Long names and values are cut in messages so a 10 MB string does not flood a terminal.
    static func abbreviated(_ s: String) -> String {
        s.count <= 80 ? s.debugDescription : (String(s.prefix(60)) + "…").debugDescription + " (\(s.utf8.count) bytes)"
    }
}
