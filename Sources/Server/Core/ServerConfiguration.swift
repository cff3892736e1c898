import Foundation
import Resonance

/// What `resonance serve` was asked to do.
public struct ServerConfiguration: Sendable {
    /// Body limit of `POST .../documents` when none is given: 64 MiB of JSON lines.
    public static let defaultMaxBodyBytes = 64 << 20

    /// The folder whose beamtimes (`*.db`, with `.zarr` beside) are served.
    public var root: String
    /// Address to listen on; loopback unless told otherwise.
    public var host: String = "127.0.0.1"
    /// 0 picks a free port (tests); ``ServerApplication/onListening`` tells which.
    public var port: Int = 8000
    /// Reads need a key too (writes always do).
    public var requireKey: Bool = false
    /// Larger request bodies are refused with 413.
    public var maxBodyBytes: Int = defaultMaxBodyBytes
    /// A connection that sends nothing for this long (between requests, or in the middle
    /// of its headers or body) is closed: slow and idle clients cannot hold sockets forever.
    public var idleTimeout: Duration = .seconds(30)
    /// Threads for the blocking core (SQLite, Zarr, ingest); see ``BlockingPool``.
    public var blockingThreads: Int = max(4, ProcessInfo.processInfo.activeProcessorCount * 2)
    /// Bytes of unchanging responses (finished runs' metadata and tables, frames) kept in
    /// memory for the next identical request (``ResponseCache``); 0 turns the cache off.
    public var responseCacheBytes: Int = defaultResponseCacheBytes
    public static let defaultResponseCacheBytes = 256 << 20
    /// How often the live feed looks for commits of other processes (and new beamtimes).
    public var livePollInterval: Duration = .milliseconds(50)
    /// How often ROOT is scanned for new beamtimes.
    public var rescanInterval: Duration = .seconds(1)
    /// Live events kept for `Last-Event-ID` replay.
    public var liveHistory: Int = 10_000
    /// `POST .../documents` may read files named by `resource` / `stream_resource`
    /// documents (paths on this machine). Off by default: with it off such documents are
    /// refused, since their paths come from the client.
    public var allowExternalFiles: Bool = false
    /// The master index `GET /api/search` reads; nil when `--index` was not given. The CLI
    /// opens it (a file or a postgres:// URL), so this module has no PostgreSQL dependency.
    public var index: (any MasterIndexReading)?

    public init(root: String) {
        self.root = root
    }
}
