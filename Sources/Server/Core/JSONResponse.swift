import Hummingbird
import JSONValue
import NIOCore

/// Responses built from bytes the blocking pool already encoded.
enum Responses {
    /// `application/json` with the value as Python's json writes it (NaN, Infinity).
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var bytes: [UInt8] = []
        value.write(into: &bytes)
        bytes.append(0x0A)
        return json(bytes: bytes, status: status)
    }

    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        raw(bytes, contentType: "application/json", status: status)
    }

    static func raw(_ bytes: [UInt8], contentType: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = contentType
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
