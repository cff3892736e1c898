import Foundation
import HTTPTypes
import Hummingbird
import JSONValue
import NIOCore

/// An error answered as `application/problem+json` (RFC 9457): `type`, `title`, `status`
/// and a `detail` that names the value the server could not use.
///
/// Route handlers throw it for anything a client did wrong or asked for that is not there;
/// ``ProblemMiddleware`` turns every other error into one too, so clients always get the
/// same shape.
public struct Problem: Error, HTTPResponseError, CustomStringConvertible, Sendable {
    public var status: HTTPResponse.Status
    public var detail: String
    /// Extra headers, e.g. `WWW-Authenticate` on a 401.
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.detail = detail
        self.headers = headers
    }

    public var description: String { "\(status.code) \(status.reasonPhrase): \(detail)" }

    /// The JSON body.
    public var json: JSONValue {
        [
            "type": "about:blank", "title": .string(status.reasonPhrase), "status": .int(Int64(status.code)),
            "detail": .string(detail),
        ]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var bytes: [UInt8] = []
        json.write(into: &bytes)
        bytes.append(0x0A)
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Common problems

    static func notFound(_ detail: String) -> Problem { Problem(.notFound, detail) }
    static func badRequest(_ detail: String) -> Problem { Problem(.badRequest, detail) }

    /// The one answer to a missing, malformed or wrong key: it does not say which.
    static let unauthorized = Problem(
        .unauthorized, "a valid API key is required: send Authorization: Bearer <key> (resonance keys add NAME --root ROOT)",
        headers: [.wwwAuthenticate: "Bearer realm=\"resonance\""])
}
