import Foundation
import Hummingbird

/// Refuses request targets no route could mean, before routing: longer than
/// ``maxTargetLength`` (414), or with a NUL or other control character, a backslash, or a
/// `.`/`..` segment, raw or percent-encoded (`%2e%2e`, `%2E.`), which only a path-walking
/// attack sends (400). Labels, uids and fields are looked up, never joined into paths,
/// so this guard is a second wall, mostly for the static routes of the viewer.
struct PathGuardMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    static let maxTargetLength = 4096
    static let maxSegmentLength = 512

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let problem = Self.check(request.uri.description) { throw problem }
        return try await next(request, context)
    }

    /// The problem with a request target, or nil when it may be routed.
    static func check(_ target: String) -> Problem? {
        if target.utf8.count > maxTargetLength {
            return Problem(.uriTooLong, "the request target is \(target.utf8.count) bytes long; at most \(maxTargetLength) are accepted")
        }
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? target
        let decodedTarget = target.removingPercentEncoding ?? target
        if decodedTarget.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) || target.lowercased().contains("%00") {
            return Problem(.badRequest, "the request target contains a NUL or control character")
        }
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.utf8.count > maxSegmentLength {
                return Problem(.uriTooLong, "a path segment is \(segment.utf8.count) bytes long; at most \(maxSegmentLength) are accepted")
            }
            let decoded = segment.removingPercentEncoding ?? String(segment)
            if decoded == "." || decoded == ".." || decoded.contains("\\") || decoded.contains("/") {
                return Problem(.badRequest, "the path segment \(String(segment).debugDescription) is not allowed (no '.', '..', '/' or '\\' inside a segment)")
            }
        }
        return nil
    }
}
