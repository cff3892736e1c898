import JSONValue

/// One message of the live feed: an SSE event with its id.
public struct LiveMessage: Sendable {
    /// Increases by one per message; a new server starts above any id an earlier one gave
    /// (ids begin at the start time in microseconds), so an old `Last-Event-ID` reads as
    /// "too old" rather than matching unrelated messages.
    public let id: UInt64
    /// `run_opened`, `events`, `frames`, `run_closed`, `beamtime_added`.
    public let event: String
    /// The beamtime the message is about.
    public let beamtime: String
    /// The JSON object sent as `data:` (it includes `beamtime`).
    public let data: JSONValue

    /// A heartbeat is not an event: the SSE stream writes a comment line for it.
    public var isHeartbeat: Bool { id == 0 }

    static let heartbeat = LiveMessage(id: 0, event: "", beamtime: "", data: .null)

    /// The message as SSE text.
    public var sse: [UInt8] {
        var out = Array("id: \(id)\nevent: \(event)\ndata: ".utf8)
        data.write(into: &out)   // one line: JSONWriter writes no newlines
        out += [0x0A, 0x0A]
        return out
    }
}

/// What a subscriber gets first.
public enum LiveReplay: Sendable {
    /// The messages after the `Last-Event-ID` it gave (empty when it gave none).
    case messages([LiveMessage])
    /// Its `Last-Event-ID` is older than the history kept (or from another server run):
    /// it must reload what it shows; then it follows from here.
    case reset(reason: String)
}
