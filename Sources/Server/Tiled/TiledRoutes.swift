import Foundation
import Hummingbird
import JSONValue
import NIOCore

/// The read-only subset of Tiled's HTTP API (v1, as Tiled 0.2.20 serves it) that Tiled's
/// Python client uses to browse containers and read arrays: `tiled.client.from_uri(
/// "http://host:port/api")` reads beamtimes, runs, streams and fields (docs/tiled.md).
///
/// - `GET /api/v1/`: what the server is and speaks (the client reads it once).
/// - `GET /api/v1/metadata/{path}`: one node (``TiledTree``).
/// - `GET /api/v1/search/{path}?page[offset]&page[limit]&filter[...]&sort&fields`: a
///   container's children, a page at a time (``TiledSearch``).
/// - `GET /api/v1/documents/{label}/{uid}`: the run's Bluesky documents (JSON-Seq).
/// - `GET /api/v1/array/full/{path}?slice=&expected_shape=` and
///   `GET /api/v1/array/block/{path}?block=`: array bytes, C order, little-endian
///   (``TiledArrays``).
///
/// Keys are the server's (``KeyAuthMiddleware``): the client's `api_key=` becomes
/// `Authorization: Apikey <key>`, which it accepts. Everything runs on the blocking pool.
/// Errors are answered as Tiled answers them, `application/json` with a `detail`, so the
/// client raises `KeyError` for a 404 on a lookup and shows the detail otherwise.
public struct TiledRoutes: ServerRouteGroup {
    /// Where the API lives: the client is given `http://host:port/api` and adds `/v1`.
    public static let prefix = "/api/v1"

    public init() {}

    public func addRoutes(to router: Router<ServerRequestContext>, environment: ServerEnvironment) {
        let prefix = Self.prefix
        router.get(RouterPath(prefix)) { request, _ in
            Self.respond { TiledSerialization.about(base: Self.base(request), requireKey: environment.configuration.requireKey) }
        }
        for path in ["metadata", "metadata/**"] {
            router.get(RouterPath("\(prefix)/\(path)")) { request, context in
                let parts = Self.parts(context)
                let base = Self.base(request)
                return try await Self.blocking(environment) {
                    let node = try TiledTree.resolve(parts, registry: environment.registry)
                    let item = try node.item(base: base, fields: nil)
                    return TiledSerialization.json(["data": item, "error": .null, "links": .null, "meta": [:]])
                }
            }
        }
        for path in ["search", "search/**"] {
            router.get(RouterPath("\(prefix)/\(path)")) { request, context in
                let parts = Self.parts(context)
                let base = Self.base(request)
                let query = TiledQuery(request)
                return try await Self.blocking(environment) {
                    let page = try TiledSearch.page(parts, query: query, base: base, registry: environment.registry)
                    return TiledSerialization.json(page)
                }
            }
        }
        router.get(RouterPath("\(prefix)/documents/**")) { _, context in
            let parts = Self.parts(context)
            return try await Self.blocking(environment) {
                let node = try TiledTree.resolve(parts, registry: environment.registry)
                var fields = HTTPFields()
                fields[.contentType] = "application/json-seq"
                fields[.cacheControl] = "no-store"
                let bytes = try TiledDocuments.sequence(node)
                return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        }
        router.get(RouterPath("\(prefix)/array/full/**")) { request, context in
            let parts = Self.parts(context)
            let query = TiledQuery(request)
            return try await Self.blocking(environment) {
                let node = try TiledTree.resolve(parts, registry: environment.registry)
                let bytes = try TiledArrays.full(node, query: query)
                return Self.octets(bytes)
            }
        }
        router.get(RouterPath("\(prefix)/array/block/**")) { request, context in
            let parts = Self.parts(context)
            let query = TiledQuery(request)
            return try await Self.blocking(environment) {
                let node = try TiledTree.resolve(parts, registry: environment.registry)
                let bytes = try TiledArrays.block(node, query: query)
                return Self.octets(bytes)
            }
        }
    }

    /// The path components after the route's fixed part, percent-decoded.
    static func parts(_ context: ServerRequestContext) -> [String] {
        let rest = context.parameters.getCatchAll().map(String.init)
        return rest.filter { !$0.isEmpty }.map { $0.removingPercentEncoding ?? $0 }
    }

    /// `http://host:port/api/v1`, for the links in every answer.
    static func base(_ request: Request) -> String {
        let host = request.head.authority ?? "127.0.0.1"
        return "http://\(host)\(prefix)"
    }

    static func octets(_ bytes: [UInt8]) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/octet-stream"
        fields[.cacheControl] = "no-store"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Runs `body` on the blocking pool; a ``TiledError`` (or a Problem) becomes Tiled's error shape.
    static func blocking(_ environment: ServerEnvironment, _ body: @escaping @Sendable () throws -> Response) async throws -> Response {
        do {
            return try await environment.blocking.run { try respond(body) }
        } catch let error as TiledError {
            return error.response
        }
    }

    static func respond(_ body: () throws -> Response) rethrows -> Response {
        do {
            return try body()
        } catch let error as TiledError {
            return error.response
        } catch let problem as Problem {
            return TiledError(problem.status, problem.detail).response
        }
    }
}

/// An error as Tiled's server answers it: `{"detail": "..."}`.
struct TiledError: Error, CustomStringConvertible {
    var status: HTTPResponse.Status
    var detail: String

    init(_ status: HTTPResponse.Status, _ detail: String) {
        self.status = status
        self.detail = detail
    }

    var description: String { "\(status.code): \(detail)" }

    static func notFound(_ detail: String) -> TiledError { TiledError(.notFound, detail) }
    static func badRequest(_ detail: String) -> TiledError { TiledError(.badRequest, detail) }

    var response: Response {
        var bytes: [UInt8] = []
        JSONValue.object(["detail": .string(detail)]).write(into: &bytes)
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
