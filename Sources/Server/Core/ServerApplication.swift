import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Builds and runs `resonance serve`: middleware, the API routes, route groups from other
/// modules, the live feed service.
///
/// ```swift
/// var config = ServerConfiguration(root: "/data/beamtimes")
/// config.port = 0
/// let server = ServerApplication(configuration: config, routeGroups: [ViewerRoutes()])
/// try await server.run()                           // until SIGINT / SIGTERM
/// ```
public struct ServerApplication: Sendable {
    public let environment: ServerEnvironment
    public let routeGroups: [any ServerRouteGroup]
    /// Called with the port once the server listens (the real one when the port was 0).
    public var onListening: @Sendable (Int) async -> Void = { _ in }

    /// The API's own route groups, in the order they are added.
    public static let apiGroups: [any ServerRouteGroup] = [
        BeamtimesRoutes(), RunsRoutes(), TablesRoutes(), FramesRoutes(), SearchRoutes(), LiveRoutes(), DocumentsRoutes(),
    ]

    public init(configuration: ServerConfiguration, routeGroups: [any ServerRouteGroup] = [], logger: Logger? = nil) {
        let logger = logger ?? Logger(label: ResonanceServerModule.name)
        environment = ServerEnvironment(configuration: configuration, logger: logger)
        self.routeGroups = routeGroups
    }

    /// The router with every middleware and route. Middleware first: Hummingbird wraps a
    /// route in the middleware present when the route is added.
    public func buildRouter() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        router.add(middleware: RequestLogMiddleware(logger: environment.logger))
        router.add(middleware: ProblemMiddleware(logger: environment.logger))
        router.add(middleware: PathGuardMiddleware())
        router.add(middleware: KeyAuthMiddleware(keys: environment.keys, requireKeyForReads: environment.configuration.requireKey))
        for group in Self.apiGroups + routeGroups {
            group.addRoutes(to: router, environment: environment)
        }
        return router
    }

    /// The Hummingbird application (HummingbirdTesting runs it in tests).
    public func makeApplication() -> some ApplicationProtocol {
        let configuration = environment.configuration
        let environment = environment
        let onListening = onListening
        var app = Application(
            router: buildRouter(),
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(configuration.idleTimeout / .nanoseconds(1))))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: ResonanceServerModule.name),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
            logger: environment.logger)
        app.addServices(environment.blocking, environment.ingest, environment.live)
        app.beforeServerStarts {
            // Finds the beamtimes and takes the live feed's starting point before a client can connect.
            try await environment.live.start()
        }
        return app
    }

    /// Serves until SIGINT or SIGTERM, then stops cleanly: open live streams end, requests
    /// in progress finish, ingest sessions commit and close.
    public func run() async throws {
        let app = makeApplication()
        try await app.runService()
    }
}
