/// # ResonanceServer
///
/// `resonance serve`: the beamtimes under one folder over HTTP (docs/server.md). Built on
/// Hummingbird 2; the core `Resonance` library knows nothing of it.
///
/// ## The one rule: never block an event loop
///
/// `Catalog`, `RunWriter` and `DocumentIngestor` are synchronous: they call SQLite, read
/// Zarr chunks and may wait on file locks or `fsync`. Hummingbird serves every connection
/// from a few NIO event-loop threads (and Swift's cooperative pool, which is as small as
/// the machine has cores); one blocking call there stalls every other client on that
/// loop. So **every call into the blocking core goes through ``BlockingPool/run(_:)``**,
/// which runs it on a dedicated `NIOThreadPool` and resumes the request's task when it is
/// done. Route handlers only parse, look up, and turn results into bytes; anything that
/// touches a file is inside `blocking.run { ... }`. Encoding large bodies (a 10,000-event
/// table, a 4 MiB frame) also happens inside that closure, for the same reason.
///
/// ## Nothing from a client becomes a path
///
/// Beamtime labels, run uids, stream and field names are looked up in what the server
/// discovered under ROOT (``BeamtimeRegistry``) and in the catalog; they are never joined
/// into a file path. ``PathGuardMiddleware`` refuses `..`, NUL and absurd lengths before
/// routing, for the static routes other groups add.
///
/// ## Plugging in
///
/// ``ServerApplication`` builds the router: the middleware (``RequestLogMiddleware``,
/// ``ProblemMiddleware``, ``PathGuardMiddleware``, ``KeyAuthMiddleware``), then this module's
/// routes, then any ``ServerRouteGroup`` handed to it (the web viewer at `GET /`, the
/// Tiled-compatible `/api/v1/...`). A group gets the router and the shared
/// ``ServerEnvironment`` (registry, blocking pool, live feed, keys).
public enum ResonanceServerModule {
    /// The server's name in logs and the `Server` header.
    public static let name = "resonance-serve"
}
