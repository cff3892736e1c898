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
/// could come to match a second run later). Once the cache holds more than `capacity`
/// bytes, least recently used entries go first until it holds 7/8 of it; a response larger
/// than an eighth of it is not kept. Lookups take one lock and copy nothing (`ByteBuffer` shares its storage).
///
/// ```swift
/// return try await environment.responses.response(for: request) {
///     try await environment.blocking.run {
///         ...
///         return Responses.json(value, keptIn: environment.responses, for: request,
///                               immutable: run.answersNeverChange(requestedAs: uid))
///     }
/// }
/// ```
public final class ResponseCache: Sendable {
    /// Bytes the cache may hold; 0 turns it off.
    public let capacity: Int

    private struct Entry {
        var body: ByteBuffer
        var headers: HTTPFields
        var lastUse: UInt64
        /// What the entry counts against the capacity: its body and a share for the rest.
        var cost: Int { body.readableBytes + 256 }
    }
    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var hits = 0
        var built = 0
        /// Requests being built, with the identical requests waiting for them.
        var building: [String: [CheckedContinuation<Void, Never>]] = [:]
    }
    private let state = Mutex(State())

    public init(capacity: Int) {
        self.capacity = max(capacity, 0)
    }

    /// The kept response for this request, or the one `make` builds. Identical requests
    /// that arrive while the first is being built wait for it rather than build it again
    /// (32 viewers opening the same finished run ask the core once); if what it built was
    /// not kept (a live run), each then builds its own.
    func response(for request: Request, _ make: @Sendable () async throws -> Response) async throws -> Response {
        guard capacity > 0 else { return try await make() }
        let key = Self.key(request)
        func build() async throws -> Response {
            state.withLock { $0.built += 1 }
            return try await make()
        }
        enum Step { case kept(Response), build, wait }
        let step = state.withLock { state -> Step in
            if let entry = Self.use(key, in: &state) { return .kept(Self.response(entry)) }
            if state.building[key] != nil { return .wait }
            state.building[key] = []
            return .build
        }
        switch step {
        case .kept(let response):
            return response
        case .build:
            defer {
                let waiting = state.withLock { $0.building.removeValue(forKey: key) ?? [] }
                for waiter in waiting { waiter.resume() }
            }
            return try await build()
        case .wait:
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let queued = state.withLock { state -> Bool in
                    guard state.building[key] != nil else { return false }
                    state.building[key]!.append(waiter)
                    return true
                }
                if !queued { waiter.resume() }
            }
            if let entry = state.withLock({ Self.use(key, in: &$0) }) { return Self.response(entry) }
            return try await build()
        }
    }

    /// The entry for `key`, marked as just used and counted as a hit.
    private static func use(_ key: String, in state: inout State) -> Entry? {
        state.clock += 1
        guard var entry = state.entries[key] else { return nil }
        entry.lastUse = state.clock
        state.entries[key] = entry
        state.hits += 1
        return entry
    }

    private static func response(_ entry: Entry) -> Response {
        Response(status: .ok, headers: entry.headers, body: .init(byteBuffer: entry.body))
    }

    /// Keeps a 200 response's body and headers for the next request like this one.
    func keep(_ body: ByteBuffer, headers: HTTPFields, for request: Request) {
        guard capacity > 0 else { return }
        let key = Self.key(request)
        state.withLock { state in
            state.clock += 1
            let entry = Entry(body: body, headers: headers, lastUse: state.clock)
            guard entry.cost <= capacity / 8 else { return }
            if let old = state.entries.updateValue(entry, forKey: key) { state.bytes -= old.cost }
            state.bytes += entry.cost
            guard state.bytes > capacity else { return }
            // Least recently used first, down to 7/8 of the capacity in one go: one sort per
            // many insertions, rather than a search of every entry for each one (a full
            // cache of small answers holds ~100,000 of them, and this runs under the lock).
            for (key, entry) in state.entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
                guard state.bytes > capacity - capacity / 8 else { break }
                state.entries[key] = nil
                state.bytes -= entry.cost
            }
        }
    }

    /// Entries, bytes held, responses served from the cache and responses built so far.
    public var statistics: (entries: Int, bytes: Int, hits: Int, built: Int) {
        state.withLock { ($0.entries.count, $0.bytes, $0.hits, $0.built) }
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
