import Hummingbird
import JSONValue
import Resonance

/// `GET /api/beamtimes`: every beamtime served, with its run count and the start times of
/// its first and last runs.
struct BeamtimesRoutes: ServerRouteGroup {
    func addRoutes(to router: Router<ServerRequestContext>, environment: ServerEnvironment) {
        router.get("/api/beamtimes") { _, _ in
            try await environment.blocking.run {
                let list = try environment.registry.all.map { beamtime -> JSONValue in
                    let catalog = beamtime.catalog
                    let first = try catalog.runs(RunQuery(order: .oldestFirst, limit: 1)).first
                    let last = try catalog.runs(RunQuery(order: .newestFirst, limit: 1)).first
                    return [
                        "label": .string(beamtime.label), "path": .string(beamtime.relativePath),
                        "runs": .int(Int64(try catalog.count())),
                        "first_run": first.map { .double($0.timeStart) } ?? .null,
                        "last_run": last.map { .double($0.timeStart) } ?? .null,
                    ]
                }
                return Responses.json(.array(list))
            }
        }
    }
}
