import Logging

/// What every route group shares: the configuration, the beamtimes, the blocking pool, the
/// keys, the live feed and the response cache. One per running server.
public final class ServerEnvironment: Sendable {
    public let configuration: ServerConfiguration
    public let registry: BeamtimeRegistry
    public let blocking: BlockingPool
    public let keys: KeyStore
    public let live: LiveFeed
    public let ingest: IngestSessions
    public let responses: ResponseCache
    public let logger: Logger

    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        registry = BeamtimeRegistry(root: configuration.root, logger: logger)
        blocking = BlockingPool(threads: configuration.blockingThreads)
        keys = KeyStore(root: configuration.root)
        responses = ResponseCache(capacity: configuration.responseCacheBytes)
        live = LiveFeed(registry: registry, blocking: blocking, configuration: configuration, logger: logger)
        ingest = IngestSessions(registry: registry, blocking: blocking, configuration: configuration, logger: logger)
    }
}
