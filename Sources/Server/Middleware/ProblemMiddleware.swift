import Foundation
import Hummingbird
import Logging
import NIOPosix
import Resonance
import ResonanceBluesky

/// Turns every error a route throws into an `application/problem+json` response whose
/// `detail` names what was wrong, with the status that fits: a run or beamtime that is not
/// there 404, a malformed request 400, a beamtime another writer holds 409, an unreadable
/// file 500. Unexpected errors are logged and answered 500 with their description.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Self.problem(for: error)
            if problem.status.code >= 500 {
                logger.error("\(request.method.rawValue) \(request.uri.path.prefix(200)): \(problem.detail)")
            }
            return try problem.response(from: request, context: context)
        }
    }

    static func problem(for error: any Error) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as HTTPError:
            return Problem(error.status, error.body ?? defaultDetail(error.status), headers: error.headers)
        case let error as CatalogError:
            switch error {
            case .runNotFound, .noSuchColumn, .frameIndexOutOfRange, .frameRangeOutOfBounds: return Problem(.notFound, error.description)
            case .ambiguousRunUID, .invalidRunUID, .columnTypeMismatch, .frameTypeMismatch: return Problem(.badRequest, error.description)
            case .closed: return Problem(.serviceUnavailable, error.description)
            case .malformedJSON, .unreadableFrames: return Problem(.internalServerError, error.description)
            }
        case let error as DatabaseFileError:
            if case .lockedByAnotherWriter = error.problem { return Problem(.conflict, error.description) }
            return Problem(.internalServerError, error.description)
        case let error as IngestError:
            return Problem(.unprocessableContent, error.description)
        case is NIOThreadPoolError.ThreadPoolInactive:
            return Problem(.serviceUnavailable, "the server is shutting down")
        case let error as any HTTPResponseError:
            return Problem(error.status, "\(error)")
        default:
            return Problem(.internalServerError, "internal error: \(error)")
        }
    }

    static func defaultDetail(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: return "no such resource (the API is under /api; docs/server.md lists it)"
        case .contentTooLarge: return "the request body is larger than the server accepts"
        case .methodNotAllowed: return "this method is not allowed on this resource"
        default: return status.reasonPhrase
        }
    }
}
