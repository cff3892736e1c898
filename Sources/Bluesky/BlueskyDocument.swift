import JSONValue

/// The kinds of event-model documents a Bluesky RunEngine publishes.
public enum DocumentName: String, Sendable, CaseIterable {
    case start, descriptor, event, eventPage = "event_page", resource, datum, datumPage = "datum_page"
    case streamResource = "stream_resource", streamDatum = "stream_datum", stop
}

/// One event-model document: its name and its body, e.g. `("start", {"uid": ..., "time": ...})`.
///
/// ```swift
/// let doc = try BlueskyDocument(jsonLine: #"["stop", {"uid": "a", "run_start": "b", "time": 1.0, "exit_status": "success"}]"#, line: 7)
/// doc.name   // .stop
/// ```
public struct BlueskyDocument: Sendable {
    public var name: DocumentName
    public var body: JSONObject

    public init(name: DocumentName, body: JSONObject) {
        self.name = name
        self.body = body
    }

    /// Parses one JSON line: `[name, doc]` (suitcase-jsonl, Bluesky's serializers) or
    /// `{"name": name, "doc": doc}`. `line` is the 1-based line number for errors.
    public init(jsonLine bytes: UnsafeBufferPointer<UInt8>, line: Int) throws(IngestError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsingUTF8: bytes)
        } catch {
            throw IngestError(line: line, problem: .malformedJSON(error.description))
        }
        try self.init(value: value, line: line)
    }

    /// Parses one JSON line given as a string (see ``init(jsonLine:line:)-(UnsafeBufferPointer<UInt8>,_)``).
    public init(jsonLine text: String, line: Int) throws(IngestError) {
        var text = text
        let parsed = text.withUTF8 { bytes -> Result<BlueskyDocument, IngestError> in
            do throws(IngestError) { return .success(try BlueskyDocument(jsonLine: bytes, line: line)) } catch { return .failure(error) }
        }
        self = try parsed.get()
    }

    init(value: JSONValue, line: Int) throws(IngestError) {
        let nameValue: JSONValue?
        let docValue: JSONValue?
        switch value {
        case .array(let pair) where pair.count == 2:
            (nameValue, docValue) = (pair[0], pair[1])
        case .object(let object) where object.count == 2:
            (nameValue, docValue) = (object["name"], object["doc"])
        default:
            throw IngestError(line: line, problem: .notADocument("expected [name, doc] or {\"name\": ..., \"doc\": ...}"))
        }
        guard let nameText = nameValue?.stringValue, let body = docValue?.objectValue else {
            throw IngestError(line: line, problem: .notADocument("the name must be a string and the document an object"))
        }
        guard let name = DocumentName(rawValue: nameText) else {
            throw IngestError(line: line, problem: .unknownDocumentName(nameText))
        }
        self.init(name: name, body: body)
    }

    /// The document as one JSON line, `[name, doc]`.
    public var jsonLine: String { JSONValue.array([.string(name.rawValue), .object(body)]).jsonText }

    /// A string field of the body, or an error naming it.
    func string(_ key: String, line: Int) throws(IngestError) -> String {
        guard let value = body[key]?.stringValue else {
            throw IngestError(line: line, problem: .invalidDocument(name: name.rawValue, reason: "no string \(key.debugDescription)"))
        }
        return value
    }

    /// A number field of the body, or an error naming it.
    func number(_ key: String, line: Int) throws(IngestError) -> Double {
        guard let value = body[key]?.doubleValue else {
            throw IngestError(line: line, problem: .invalidDocument(name: name.rawValue, reason: "no number \(key.debugDescription)"))
        }
        return value
    }

    /// An object field of the body (empty when absent), or an error when it is not an object.
    func object(_ key: String, line: Int) throws(IngestError) -> JSONObject {
        guard let value = body[key] else { return [:] }
        guard let object = value.objectValue else {
            throw IngestError(line: line, problem: .invalidDocument(name: name.rawValue, reason: "\(key.debugDescription) is not an object"))
        }
        return object
    }
}
