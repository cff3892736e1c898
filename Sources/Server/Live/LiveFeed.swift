import DequeModule
import Foundation
import JSONValue
import Logging
import ServiceLifecycle
import Synchronization

/// The live feed behind `GET /api/live`: watches every beamtime for commits by any process
/// (a writer, `resonance ingest`, Python) and fans the news out to subscribers.
///
/// A service of the application: ``run()`` polls each beamtime's ``BeamtimeWatcher`` every
/// ``ServerConfiguration/livePollInterval`` on the blocking pool, and rescans ROOT for new
/// beamtimes every ``ServerConfiguration/rescanInterval``. Messages get increasing ids and
/// the last ``ServerConfiguration/liveHistory`` are kept, so a client reconnecting with
/// `Last-Event-ID` is sent what it missed. A subscriber whose buffer overflows (it reads
/// too slowly) is disconnected; it reconnects and replays from its last id.
public final class LiveFeed: Service, Sendable {
    /// Messages a subscriber may have queued before it is dropped.
    static let subscriberBuffer = 4096
    /// How often every subscriber gets a heartbeat (an SSE comment line).
    public static let heartbeatInterval: Duration = .seconds(15)

    private let registry: BeamtimeRegistry
    private let blocking: BlockingPool
    private let configuration: ServerConfiguration
    private let logger: Logger

    private struct State {
        var nextID: UInt64
        var history = Deque<LiveMessage>()
        var subscribers: [Int: (filter: String?, continuation: AsyncStream<LiveMessage>.Continuation)] = [:]
        var nextSubscriber = 0
    }
    private let state: Mutex<State>
    /// The watchers, by label, and whether the first look (the starting point) was taken.
    private struct Watching {
        var started = false
        var byLabel: [String: BeamtimeWatcher] = [:]
    }
    private let watching = Mutex(Watching())
    /// The id below which messages belong to an earlier server run.
    let firstID: UInt64

    init(registry: BeamtimeRegistry, blocking: BlockingPool, configuration: ServerConfiguration, logger: Logger) {
        self.registry = registry
        self.blocking = blocking
        self.configuration = configuration
        self.logger = logger
        firstID = UInt64(Date().timeIntervalSince1970 * 1_000_000)
        state = Mutex(State(nextID: firstID))
    }

    /// The id of the newest message, or `firstID - 1` when there is none yet.
    public var lastID: UInt64 { state.withLock { $0.nextID - 1 } }

    // MARK: Subscribing

    /// Subscribes to messages about `beamtime` (all when nil) after `lastEventID`.
    /// Replay and subscription are taken under one lock: nothing is missed or sent twice.
    public func subscribe(after lastEventID: UInt64?, beamtime: String?) -> (LiveReplay, AsyncStream<LiveMessage>, cancel: @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream<LiveMessage>.makeStream(bufferingPolicy: .bufferingOldest(Self.subscriberBuffer))
        let (replay, key) = state.withLock { s -> (LiveReplay, Int) in
            let key = s.nextSubscriber
            s.nextSubscriber += 1
            s.subscribers[key] = (beamtime, continuation)
            guard let lastEventID else { return (.messages([]), key) }
            let oldest = s.history.first?.id ?? s.nextID
            if lastEventID >= s.nextID {
                return (.reset(reason: "Last-Event-ID \(lastEventID) is not an id this server gave (newest is \(s.nextID - 1))"), key)
            }
            if lastEventID + 1 < oldest {
                return (.reset(reason: "Last-Event-ID \(lastEventID) is older than the history kept (oldest \(oldest)); reload"), key)
            }
            let missed = s.history.filter { $0.id > lastEventID && (beamtime == nil || $0.beamtime == beamtime) }
            return (.messages(Array(missed)), key)
        }
        let cancel: @Sendable () -> Void = { [weak self] in
            guard let self else { return }
            let removed = self.state.withLock { s in s.subscribers.removeValue(forKey: key) }
            removed?.continuation.finish()
        }
        continuation.onTermination = { _ in cancel() }
        return (replay, stream, cancel)
    }

    /// Number of connected subscribers.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    private func publish(_ items: [(label: String, event: String, data: JSONObject)]) {
        guard !items.isEmpty else { return }
        var dropped: [AsyncStream<LiveMessage>.Continuation] = []
        state.withLock { s in
            for item in items {
                var data: JSONObject = ["beamtime": .string(item.label)]
                for (k, v) in item.data { data[k] = v }
                let message = LiveMessage(id: s.nextID, event: item.event, beamtime: item.label, data: .object(data))
                s.nextID += 1
                s.history.append(message)
                if s.history.count > configuration.liveHistory { s.history.removeFirst() }
                for (key, subscriber) in s.subscribers where subscriber.filter == nil || subscriber.filter == item.label {
                    // A subscriber with a full buffer is not reading: drop it (it may reconnect
                    // with its Last-Event-ID and be replayed what it missed).
                    if case .dropped = subscriber.continuation.yield(message) {
                        dropped.append(subscriber.continuation)
                        s.subscribers[key] = nil
                    }
                }
            }
        }
        for continuation in dropped { continuation.finish() }
    }

    private func heartbeat() {
        let dropped = state.withLock { s -> [AsyncStream<LiveMessage>.Continuation] in
            var dropped: [AsyncStream<LiveMessage>.Continuation] = []
            for (key, subscriber) in s.subscribers {
                if case .dropped = subscriber.continuation.yield(.heartbeat) {
                    dropped.append(subscriber.continuation)
                    s.subscribers[key] = nil
                }
            }
            return dropped
        }
        for continuation in dropped { continuation.finish() }
    }

    // MARK: Watching

    /// Takes the starting point: finds the beamtimes under ROOT and watches them from what
    /// they hold now. The server calls it before it listens, so a beamtime created after a
    /// client could connect is always announced as new (`beamtime_added`, then everything in
    /// it), however late ``run()``'s first look comes on a busy machine.
    public func start() async throws {
        let items = try await blocking.run { self.pollAll(rescan: true) }
        publish(items)
    }

    public func run() async throws {
        let interval = configuration.livePollInterval
        try? await cancelWhenGracefulShutdown {
            var lastRescan = ContinuousClock.now
            var lastHeartbeat = ContinuousClock.now
            var first = true
            while !Task.isCancelled {
                let rescan = first || ContinuousClock.now - lastRescan >= self.configuration.rescanInterval
                if rescan { lastRescan = .now }
                first = false
                do {
                    let items = try await self.blocking.run { self.pollAll(rescan: rescan) }
                    self.publish(items)
                } catch {
                    self.logger.warning("live feed: \(error)")
                }
                if ContinuousClock.now - lastHeartbeat >= Self.heartbeatInterval {
                    lastHeartbeat = .now
                    self.heartbeat()
                }
                try await Task.sleep(for: interval)
            }
        }
        // Shutting down: end every stream, so open SSE responses finish.
        let continuations = state.withLock { s in
            defer { s.subscribers = [:] }
            return s.subscribers.values.map(\.continuation)
        }
        for continuation in continuations { continuation.finish() }
    }

    /// One look at every beamtime (blocking). On the first call (``start()``, or the first
    /// of ``run()`` if that comes first), what is there is the starting point; beamtimes
    /// found later are new, with everything in them.
    func pollAll(rescan: Bool) -> [(label: String, event: String, data: JSONObject)] {
        var items: [(label: String, event: String, data: JSONObject)] = []
        if rescan { _ = registry.scan() }
        let beamtimes = registry.all
        watching.withLock { watching in
            let initial = !watching.started
            watching.started = true
            for beamtime in beamtimes where watching.byLabel[beamtime.label] == nil {
                do {
                    watching.byLabel[beamtime.label] = try BeamtimeWatcher(label: beamtime.label, dbPath: beamtime.dbPath, fromNow: initial)
                    if !initial { items.append((beamtime.label, "beamtime_added", ["path": .string(beamtime.relativePath)])) }
                } catch {
                    logger.warning("live feed: cannot watch \(beamtime.relativePath): \(error)")
                }
            }
            for (label, watcher) in watching.byLabel {
                do {
                    for (event, data) in try watcher.poll() { items.append((label, event, data)) }
                } catch {
                    logger.warning("live feed: \(label): \(error)")
                }
            }
        }
        return items
    }
}
