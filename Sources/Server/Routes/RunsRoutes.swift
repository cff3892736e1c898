import Foundation
import Hummingbird
import JSONValue
import Resonance
import ResonanceFormats

/// `GET /api/beamtimes/{label}/runs?sample=&plan=&status=&since=&until=&limit=&offset=`
/// (filtered and paged in SQL by `Catalog.runs`, newest first, the keys of
/// `resonance runs --json`) and `GET /api/runs/{uid}` (what `resonance show --json`
/// prints, plus the beamtime's label).
struct RunsRoutes: ServerRouteGroup {
    static let statuses = ["open", "success", "failed", "aborted"]

    func addRoutes(to router: Router<ServerRequestContext>, environment: ServerEnvironment) {
        router.get("/api/beamtimes/:label/runs") { request, context in
            let label = try context.parameters.require("label")
            let query = QueryParameters(request)
            let sample = try query.string("sample")
            let plan = try query.string("plan")
            let status = try query.string("status", maxLength: 32)
            if let status, !Self.statuses.contains(status) {
                throw Problem.badRequest("query parameter status=\(status.debugDescription) is not one of \(Self.statuses.joined(separator: ", "))")
            }
            let since = try query.date("since")
            let until = try query.date("until", endOfDay: true)
            let limit = try query.int("limit", in: 0...100_000) ?? 1000
            let offset = try query.int("offset", in: 0...Int(Int32.max)) ?? 0
            let runQuery = RunQuery(
                sample: sample, plan: plan, status: status.map(RunQuery.Status.init),
                since: since.map { Date(timeIntervalSince1970: $0) }, until: until.map { Date(timeIntervalSince1970: $0) },
                order: .newestFirst, limit: limit, offset: offset)
            return try await environment.blocking.run {
                let beamtime = try environment.registry.lookup(label)
                return Responses.json(.array(try beamtime.catalog.runs(runQuery).map(RunDescription.summary)))
            }
        }

        router.get("/api/runs/:uid") { request, context in
            let uid = try context.parameters.require("uid")
            return try await environment.responses.response(for: request) { try await environment.blocking.run {
                let (beamtime, run) = try RunLocator.find(uid, in: environment.registry)
                var object = RunDescription.run(run).objectValue ?? [:]
                object["beamtime"] = .string(beamtime.label)
                return Responses.json(.object(object), keptIn: environment.responses, for: request,
                                      immutable: run.answersNeverChange(requestedAs: uid))
            } }
        }
    }
}
