import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web viewer: `GET /` (index.html), `GET /viewer.js`, `GET /viewer.css`, plain files
/// beside this one, one page over the JSON API (issue #15; README, "The web viewer").
///
/// The files are compiled into the binary (`.embedInCode` in Package.swift: SwiftPM turns
/// each into a `PackageResources` byte array), not shipped as a `.copy` resource bundle:
/// on Linux `Bundle.module` looks for `Resonance_ResonanceServer.resources` beside the
/// executable or in the build folder and traps when neither exists, so a `resonance`
/// copied to /usr/local/bin (or into a container) would crash on `GET /`. Embedded, the
/// binary is the whole server; the files stay plain HTML/JS/CSS in the repository and a
/// rebuild picks up every edit, with no generation step.
///
/// Only these three names are served: no request path is ever mapped to a file.
public struct ViewerRoutes: ServerRouteGroup {
    public init() {}

    public func addRoutes(to router: Router<ServerRequestContext>, environment: ServerEnvironment) {
        for asset in Self.assets {
            for path in asset.paths {
                router.get(RouterPath(path)) { request, _ in asset.response(ifNoneMatch: request.headers[.ifNoneMatch]) }
            }
        }
    }

    /// One embedded file and how it is served.
    struct Asset: Sendable {
        let paths: [String]
        let contentType: String
        let body: ByteBuffer
        /// Strong validator: a hash of the bytes, so a browser revalidates cheaply and never
        /// keeps a page older than the binary.
        let etag: String

        init(paths: [String], contentType: String, bytes: [UInt8]) {
            self.paths = paths
            self.contentType = contentType
            self.body = ByteBuffer(bytes: bytes)
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325   // FNV-1a 64
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            self.etag = "\"" + String(hash, radix: 16) + "-" + String(bytes.count) + "\""
        }

        func response(ifNoneMatch: String?) -> Response {
            var headers: HTTPFields = [
                .contentType: contentType,
                .cacheControl: "no-cache",
                .eTag: etag,
                // Everything comes from this server: no CDN, no inline script, no frames.
                .contentSecurityPolicy: "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                HTTPField.Name("Referrer-Policy")!: "no-referrer",
            ]
            if let ifNoneMatch, ifNoneMatch.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0 == "*" }) {
                return Response(status: .notModified, headers: headers)
            }
            headers[.contentLength] = String(body.readableBytes)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
    }

    static let assets: [Asset] = [
        Asset(paths: ["/", "/index.html"], contentType: "text/html; charset=utf-8", bytes: PackageResources.index_html),
        Asset(paths: ["/viewer.js"], contentType: "text/javascript; charset=utf-8", bytes: PackageResources.viewer_js),
        Asset(paths: ["/viewer.css"], contentType: "text/css; charset=utf-8", bytes: PackageResources.viewer_css),
    ]
}
