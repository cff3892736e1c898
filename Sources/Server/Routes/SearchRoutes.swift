import Hummingbird
import JSONValue
import Resonance

/// `GET /api/search?sample=&sample_contains=&plan=&researcher=&tag=&since=&until=&where=&limit=`:
/// the master index given with `--index`, with the filters and keys of
/// `resonance index search --json`. `where=key=value` (repeatable, every one must match) is
/// `--where`: `/api/search?where=edge%3DC%20K&where=repeat%3D2`. 404 when the server has no index.
struct SearchRoutes: ServerRouteGroup {
    func addRoutes(to router: Router<ServerRequestContext>, environment: ServerEnvironment) {
        router.get("/api/search") { request, _ in
            guard let index = environment.configuration.index else {
                throw Problem.notFound("this server has no master index (start it with --index INDEX.db)")
            }
            let q = QueryParameters(request)
            let sample = try q.string("sample"), contains = try q.string("sample_contains")
            if sample != nil, contains != nil { throw Problem.badRequest("give sample or sample_contains, not both") }
            var query = IndexQuery(plan: try q.string("plan"), researcher: try q.string("researcher"), tag: try q.string("tag"),
                                   limit: try q.int("limit", in: 1...100_000) ?? 100)
            if let sample { query.sample = .exactly(sample) }
            if let contains { query.sample = .containing(contains) }
            query.since = try q.date("since")
            query.until = try q.date("until", endOfDay: true)
            for text in request.uri.queryParameters.getAll("where") {
                guard text.utf8.count <= 512 else {
                    throw Problem.badRequest("query parameter where is \(text.utf8.count) bytes long; at most 512 are accepted")
                }
                guard let condition = MetadataMatching.condition(text) else {
                    throw Problem.badRequest("query parameter where=\(text.debugDescription) is not key=value")
                }
                query.metadata[condition.key] = condition.value
            }
            do {
                try query.checkMetadata()
            } catch {
                throw Problem.badRequest("\(error)")  // IndexError: names the value and why
            }
            let finalQuery = query
            return try await environment.blocking.run {
                let hits = try index.search(finalQuery)
                return Responses.json(.array(hits.map { hit in
                    [
                        "uid": .string(hit.uid), "plan_name": .string(hit.planName),
                        "sample_name": hit.sampleName.map(JSONValue.string) ?? .null,
                        "time_start": .double(hit.timeStart), "researcher": .string(hit.researcher),
                        "beamtime_label": .string(hit.beamtimeLabel), "db_path": .string(hit.dbPath),
                    ]
                }))
            }
        }
    }
}
