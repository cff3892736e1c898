import Foundation
import Hummingbird
import Logging

/// One log line per request: method, path and query, status, time to the response head,
/// and the key name when one was presented. Outermost middleware, so it sees the status the
/// client gets (``ProblemMiddleware`` has turned errors into responses by then).
///
/// A key sent as the `api_key` query parameter (the viewer's EventSource cannot send
/// headers) is logged as `api_key=REDACTED`: logs are read by more people than keys are.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let path = Self.loggedTarget(path: request.uri.path, query: request.uri.query)
        do {
            let response = try await next(request, context)
            log(request, path: path, status: Int(response.status.code), since: start, key: context.keyName)
            return response
        } catch {
            // Only an error ProblemMiddleware could not answer gets here (none should).
            log(request, path: path, status: (error as? any HTTPResponseError).map { Int($0.status.code) } ?? 500, since: start, key: context.keyName)
            throw error
        }
    }

    /// The path and query as logged, every `api_key` value replaced (its name compared
    /// percent-decoded and in any case, so no spelling the key check accepts gets through).
    static func loggedTarget(path: String, query: String?) -> String {
        let path = String(path.prefix(200))
        guard let query, !query.isEmpty else { return path }
        let redacted = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            let name = String(pair.prefix { $0 != "=" })
            let decoded = (name.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? name).lowercased()
            return decoded == "api_key" ? name + "=REDACTED" : String(pair)
        }
        // Cut after redacting, so a cut never leaves part of a key.
        return path + "?" + String(redacted.joined(separator: "&").prefix(300))
    }

    private func log(_ request: Request, path: String, status: Int, since start: ContinuousClock.Instant, key: String?) {
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) * 1e-15
        let keyText = key.map { " key=\($0)" } ?? ""
        logger.info("\(request.method.rawValue) \(path) \(status) \(String(format: "%.1f", ms))ms\(keyText)")
    }
}
