import Hummingbird
import JSONValue
import NIOCore

/// Responses built from bytes the blocking pool already encoded.
enum Responses {
    /// `application/json` with the value as Python's json writes it (NaN, Infinity).
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        json(bytes: jsonBytes(value), status: status)
    }

    /// The value's JSON text and a newline.
    static func jsonBytes(_ value: JSONValue) -> [UInt8] {
        var bytes: [UInt8] = []
        value.write(into: &bytes)
        bytes.append(0x0A)
        return bytes
    }

    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        raw(bytes, contentType: "application/json", status: status)
    }

    static func raw(_ bytes: [UInt8], contentType: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        Response(status: status, headers: fields(contentType: contentType, headers: headers), body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `headers` with the content type and `Cache-Control: no-store` (a live run's answers
    /// change; a browser must ask again).
    static func fields(contentType: String, headers: HTTPFields = [:]) -> HTTPFields {
        var fields = headers
        fields[.contentType] = contentType
        fields[.cacheControl] = "no-store"
        return fields
    }
}
