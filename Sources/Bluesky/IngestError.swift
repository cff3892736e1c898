/// A document `resonance ingest` refused, with the line it came from. Nothing of the
/// document was recorded; everything before it was.
///
/// ```swift
/// do { try ingestor.ingest(line: bytes, number: 12) } catch { print(error) }   // "line 12: event ... names descriptor ..."
/// ```
public struct IngestError: Error, CustomStringConvertible, Sendable, Equatable {
    /// 1-based line number in the input (0 when the document did not come from a line).
    public var line: Int
    public var problem: Problem

    public enum Problem: Sendable, Equatable {
        /// The line is not JSON.
        case malformedJSON(String)
        /// JSON, but not `[name, doc]` or `{"name":..., "doc":...}`.
        case notADocument(String)
        /// A name that is not an event-model document name.
        case unknownDocumentName(String)
        /// A document lacking a field the format needs, or with a field of the wrong type.
        case invalidDocument(name: String, reason: String)
        /// A document of a run whose start was not read (or was refused).
        case noStart(name: String, uid: String, runStart: String)
        /// An event (or stream_datum) naming a descriptor that was not read.
        case unknownDescriptor(name: String, descriptor: String)
        /// A datum naming a resource that was not read, or an event naming an unknown datum.
        case unknownReference(name: String, reference: String)
        /// A start while the run of an earlier start has no stop yet.
        case startBeforeStop(newStart: String, openStart: String)
        /// A uid seen before with other content.
        case conflictingUID(name: String, uid: String)
        /// A value that cannot be recorded as the document says (e.g. an array in a field declared scalar).
        case unrecordable(name: String, reason: String)
        /// Another writer (another process, another ingest) has the beamtime open: nothing
        /// can be recorded until it closes. The message names the file.
        case beamtimeLocked(String)
        /// The writer refused it or failed (the underlying message).
        case writer(String)
    }

    public init(line: Int, problem: Problem) {
        self.line = line
        self.problem = problem
    }

    public var description: String {
        let text: String
        switch problem {
        case .malformedJSON(let reason): text = "malformed JSON: \(reason)"
        case .notADocument(let reason): text = "not a document: \(reason)"
        case .unknownDocumentName(let name):
            text = "unknown document name \(name.debugDescription) (known: \(DocumentName.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .invalidDocument(let name, let reason): text = "invalid \(name) document: \(reason)"
        case .noStart(let name, let uid, let runStart):
            text = "\(name) \(uid) belongs to run_start \(runStart), but no start with that uid is open (a \(name) must follow its start)"
        case .unknownDescriptor(let name, let descriptor):
            text = "\(name) names descriptor \(descriptor), which was not read before it (or was refused)"
        case .unknownReference(let name, let reference):
            text = "\(name) names \(reference), which was not read before it (or was refused)"
        case .startBeforeStop(let newStart, let openStart):
            text = "start \(newStart) arrived before the stop of run \(openStart); a run must stop before the next starts"
        case .conflictingUID(let name, let uid):
            text = "\(name) \(uid) was recorded before with different content"
        case .unrecordable(let name, let reason): text = "\(name) cannot be recorded: \(reason)"
        case .beamtimeLocked(let message), .writer(let message): text = message
        }
        return line > 0 ? "line \(line): \(text)" : text
    }
}
