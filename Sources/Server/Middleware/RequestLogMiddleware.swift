import Foundation
import Hummingbird
import Logging

/// One log line per request: method, path, status, time to the response head, and the
/// key name when one was presented. Outermost middleware, so it sees the status the
/// client gets (``ProblemMiddleware`` has turned errors into responses by then).
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let path = String(request.uri.path.prefix(200))
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

    private func log(_ request: Request, path: String, status: Int, since start: ContinuousClock.Instant, key: String?) {
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) * 1e-15
        let keyText = key.map { " key=\($0)" } ?? ""
        logger.info("\(request.method.rawValue) \(path) \(status) \(String(format: "%.1f", ms))ms\(keyText)")
    }
}
