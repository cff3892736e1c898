import Hummingbird
import JSONValue
import Resonance

/// `GET /api/beamtimes/{label}/runs` (filtered, newest first, the keys of
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
            return try await environment.blocking.run {
                let beamtime = try environment.registry.lookup(label)
                let runs = try beamtime.catalog.allRuns().reversed().filter { run in
                    (sample == nil || run.sampleName == sample) && (plan == nil || run.planName == plan)
                        && (status == nil || (run.exitStatus?.rawValue ?? "open") == status)
                        && (since == nil || run.timeStart >= since!) && (until == nil || run.timeStart < until!)
                }.prefix(limit)
                return Responses.json(.array(Array(runs).map(RunJSON.summary)))
            }
        }

        router.get("/api/runs/:uid") { _, context in
            let uid = try context.parameters.require("uid")
            return try await environment.blocking.run {
                let (beamtime, run) = try RunLocator.find(uid, in: environment.registry)
                var object = RunJSON.detail(run).objectValue ?? [:]
                object["beamtime"] = .string(beamtime.label)
                return Responses.json(.object(object))
            }
        }
    }
}
