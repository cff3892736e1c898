import Hummingbird

/// A set of routes added to the server: this module's API groups, and those other modules
/// plug in (the web viewer's `GET /`, Tiled's `/api/v1/...`).
///
/// ```swift
/// struct ViewerRoutes: ServerRouteGroup {
///     func addRoutes(to router: Router<ServerRequestContext>, environment: ServerEnvironment) {
///         router.get("/") { _, _ in Response(status: .ok, headers: [.contentType: "text/html"], body: ...) }
///     }
/// }
/// let app = ServerApplication(configuration: config, routeGroups: [ViewerRoutes()])
/// ```
///
/// Routes are added after the middleware, so they get request logging, problem+json errors,
/// the path guard and the key rules. Blocking work goes through `environment.blocking`.
public protocol ServerRouteGroup: Sendable {
    func addRoutes(to router: Router<ServerRequestContext>, environment: ServerEnvironment)
}
