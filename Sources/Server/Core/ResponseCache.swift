import HTTPTypes
import Hummingbird
import JSONValue
import NIOCore
import Synchronization

/// Responses that can never change, kept so the next request for them touches neither
/// SQLite nor the codec: a finished run's metadata and event tables, and any frame asked for by
/// its index (a frame's pixels never change once its image ref is committed).
///
/// Why: many viewers watch the same run (everyone at the beamline follows the scan in
/// progress; the last finished one is what they compare with), and on a 2-core beamline
/// server decoding the same 4 MB frame for each of them is what limits the response time.
///
/// Entries are keyed by the request's path and query as sent, so only the same request
/// hits; a route stores a response only when it names the run by its full uid (a prefix
/// could come to match a second run later). Least recently used entries go first once the
/// cache holds more than `capacity` bytes; a response larger than an eighth of it is not
/// kept. Lookups take one lock and copy nothing (`ByteBuffer` shares its storage).
///
/// ```swift
/// if let hit = environment.responses.response(for: request) { return hit }
/// ...
/// return Responses.json(value, keptIn: environment.responses, for: request, immutable: !run.isOpen)
/// ```
public final class ResponseCache: Sendable {
    /// Bytes the cache may hold; 0 turns it off.
    public let capacity: Int

    private struct Entry {
        var body: ByteBuffer
        var headers: HTTPFields
        var lastUse: UInt64
    }
    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var hits = 0
        var misses = 0
    }
    private let state = Mutex(State())

    public init(capacity: Int) {
        self.capacity = max(capacity, 0)
    }

    /// The kept response for this request, if any.
    func response(for request: Request) -> Response? {
        guard capacity > 0 else { return nil }
        let key = Self.key(request)
        let found = state.withLock { state -> Entry? in
            state.clock += 1
            guard var entry = state.entries[key] else {
                state.misses += 1
                return nil
            }
            entry.lastUse = state.clock
            state.entries[key] = entry
            state.hits += 1
            return entry
        }
        guard let found else { return nil }
        return Response(status: .ok, headers: found.headers, body: .init(byteBuffer: found.body))
    }

    /// Keeps a 200 response's body and headers for the next request like this one.
    func keep(_ body: ByteBuffer, headers: HTTPFields, for request: Request) {
        let size = body.readableBytes + 256
        guard capacity > 0, size <= capacity / 8 else { return }
        let key = Self.key(request)
        state.withLock { state in
            state.clock += 1
            if let old = state.entries.updateValue(Entry(body: body, headers: headers, lastUse: state.clock), forKey: key) {
                state.bytes -= old.body.readableBytes + 256
            }
            state.bytes += size
            while state.bytes > capacity, let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                state.entries[oldest.key] = nil
                state.bytes -= oldest.value.body.readableBytes + 256
            }
        }
    }

    /// Entries, bytes held, hits and misses so far (for tests and the log).
    public var statistics: (entries: Int, bytes: Int, hits: Int, misses: Int) {
        state.withLock { ($0.entries.count, $0.bytes, $0.hits, $0.misses) }
    }

    private static func key(_ request: Request) -> String {
        request.uri.path + "?" + (request.uri.query ?? "")
    }
}

extension Responses {
    /// A 200 response of these bytes, also kept in `cache` for the next identical request
    /// when `immutable`.
    static func raw(_ bytes: [UInt8], contentType: String, headers: HTTPFields = [:],
                    keptIn cache: ResponseCache, for request: Request, immutable: Bool) -> Response {
        let body = ByteBuffer(bytes: bytes)
        let fields = Self.fields(contentType: contentType, headers: headers)
        if immutable { cache.keep(body, headers: fields, for: request) }
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: body))
    }

    /// A 200 JSON response, kept as ``raw(_:contentType:headers:keptIn:for:immutable:)`` keeps it.
    static func json(_ value: JSONValue, keptIn cache: ResponseCache, for request: Request, immutable: Bool) -> Response {
        raw(jsonBytes(value), contentType: "application/json", keptIn: cache, for: request, immutable: immutable)
    }
}
