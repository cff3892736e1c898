import Hummingbird
import JSONValue
import NIOCore

/// `POST /api/beamtimes/{label}/documents`: Bluesky event-model documents as JSON lines
/// (`[name, doc]` per line), recorded as `resonance ingest` records them
/// (``IngestSessions``). Always needs a key (``KeyAuthMiddleware``). The body may be at
/// most ``ServerConfiguration/maxBodyBytes`` (413 beyond, before anything is recorded).
/// 200 when every line was recorded (or was already); 422 with the refused lines, by
/// number, when some were not (the others are recorded); 409 when another writer has the
/// beamtime open (send the documents again once it is closed).
struct DocumentsRoutes: ServerRouteGroup {
    func addRoutes(to router: Router<ServerRequestContext>, environment: ServerEnvironment) {
        router.post("/api/beamtimes/:label/documents") { request, context in
            let label = try context.parameters.require("label")
            let limit = environment.configuration.maxBodyBytes
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
                throw Problem(.contentTooLarge, "the body is \(length) bytes; at most \(limit) are accepted (send the documents in several requests)")
            }
            let beamtime = try await environment.blocking.run { try environment.registry.lookup(label) }
            var request = request
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: limit)
            } catch is NIOTooManyBytesError {
                throw Problem(.contentTooLarge, "the body is larger than \(limit) bytes; send the documents in several requests")
            }
            let body = Array(buffer.readableBytesView)
            let outcome = try await environment.ingest.ingest(label: beamtime.label, dbPath: beamtime.dbPath, body: body)
            var object: JSONObject = [
                "beamtime": .string(beamtime.label), "lines": .int(Int64(outcome.lines)), "runs": .int(Int64(outcome.runs)),
                "events": .int(Int64(outcome.events)), "frames": .int(Int64(outcome.frames)), "skipped": .int(Int64(outcome.skipped)),
                "error_count": .int(Int64(outcome.errorCount)),
                "errors": .array(outcome.errors.map { ["line": .int(Int64($0.0)), "detail": .string($0.1)] }),
                "open_runs": JSONValue(outcome.openRuns),
            ]
            guard outcome.errorCount > 0 else { return Responses.json(.object(object)) }
            let first = outcome.errors.first.map { $0.1 } ?? ""
            let problem = Problem(.unprocessableContent, "\(outcome.errorCount) of \(outcome.lines) lines were refused (the others are recorded); first: \(first)")
            for (k, v) in problem.json.objectValue ?? [:] { object[k] = v }
            var bytes: [UInt8] = []
            JSONValue.object(object).write(into: &bytes)
            bytes.append(0x0A)
            return Responses.raw(bytes, contentType: "application/problem+json", status: .unprocessableContent)
        }
    }
}
