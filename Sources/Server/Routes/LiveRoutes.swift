import Foundation
import HTTPTypes
import Hummingbird
import JSONValue
import NIOCore
import ServiceLifecycle

/// `GET /api/live[?beamtime=LABEL]`: Server-Sent Events of ``LiveFeed``: `run_opened`,
/// `events`, `frames`, `run_closed`, `beamtime_added`, each with an `id:`. A client that
/// reconnects with `Last-Event-ID` (header, or `last_event_id` query parameter) first gets
/// what it missed, or a `reset` event when that is no longer known. A comment line every
/// ``LiveFeed/heartbeatInterval`` keeps proxies from closing the stream and finds clients
/// that went away.
struct LiveRoutes: ServerRouteGroup {
    func addRoutes(to router: Router<ServerRequestContext>, environment: ServerEnvironment) {
        router.get("/api/live") { request, _ in
            let query = QueryParameters(request)
            let beamtime = try query.string("beamtime")
            if let beamtime, environment.registry.beamtime(beamtime) == nil {
                throw Problem.notFound("no beamtime labelled \(beamtime.debugDescription) is served")
            }
            let lastText = try request.headers[HTTPField.Name("Last-Event-ID")!] ?? query.string("last_event_id", maxLength: 32)
            let lastEventID: UInt64? = try lastText.map { text in
                guard let value = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
                    throw Problem.badRequest("Last-Event-ID \(text.debugDescription) is not an id this server gives (a decimal number)")
                }
                return value
            }
            let live = environment.live
            let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"]
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                let (replay, stream, cancel) = live.subscribe(after: lastEventID, beamtime: beamtime)
                defer { cancel() }
                try await writer.write(ByteBuffer(string: "retry: 1000\n: resonance live feed, newest id \(live.lastID)\n\n"))
                switch replay {
                case .messages(let missed):
                    for message in missed { try await writer.write(ByteBuffer(bytes: message.sse)) }
                case .reset(let reason):
                    let data: JSONValue = ["reason": .string(reason), "last_id": .int(Int64(live.lastID))]
                    try await writer.write(ByteBuffer(string: "id: \(live.lastID)\nevent: reset\ndata: \(data.jsonText)\n\n"))
                }
                // Ends on graceful shutdown (cancel() finishes the stream), when the feed drops
                // this subscriber, or when a write fails because the client went away; the
                // feed's heartbeats make sure a write happens now and then.
                try await withGracefulShutdownHandler {
                    for await message in stream {
                        try await writer.write(ByteBuffer(bytes: message.isHeartbeat ? Array(": keepalive\n\n".utf8) : message.sse))
                    }
                } onGracefulShutdown: {
                    cancel()
                }
                try await writer.finish(nil)
            })
        }
    }
}
