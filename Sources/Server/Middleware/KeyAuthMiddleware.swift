import Foundation
import Hummingbird

/// The key rules: writes (any method but GET and HEAD) always need a valid key; reads
/// under `/api/` need one when the server runs with `--require-key`. A key comes as
/// `Authorization: Bearer <key>` (or `Apikey <key>`, as Tiled clients send it), or as the
/// `api_key` query parameter (browsers' EventSource cannot set headers). A key that is
/// presented is always checked, even where none is needed. Every refusal is the same 401
/// (``Problem/unauthorized``): it does not say whether the key was missing, malformed or
/// wrong, and ``KeyStore/verify(_:)`` takes the same time for any key.
struct KeyAuthMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let keys: KeyStore
    let requireKeyForReads: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let isRead = request.method == .get || request.method == .head
        let needed = !isRead || (requireKeyForReads && request.uri.path.hasPrefix("/api/") && !Self.openPaths.contains(request.uri.path))
        if let presented = Self.presentedKey(request) {
            guard let name = presented.map({ keys.verify($0) }) ?? nil else { throw Problem.unauthorized }
            context.keyName = name
        } else if needed {
            throw Problem.unauthorized
        }
        return try await next(request, context)
    }

    /// Reads that need no key even with `--require-key`: Tiled's API description, which the
    /// Tiled client fetches before it sends its key (it tells the client how to
    /// authenticate, and holds no data).
    static let openPaths: Set<String> = ["/api/v1", "/api/v1/"]

    /// nil: no credential at all; .some(nil): a credential that is not a key (a malformed
    /// header); .some(key): the key to check.
    static func presentedKey(_ request: Request) -> String?? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, ["bearer", "apikey"].contains(parts[0].lowercased()) else { return .some(nil) }
            return .some(parts[1].trimmingCharacters(in: .whitespaces))
        }
        if let key = request.uri.queryParameters.get("api_key") { return .some(key) }
        return nil
    }
}
