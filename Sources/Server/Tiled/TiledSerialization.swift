import Foundation
import Hummingbird
import JSONValue
import NIOCore
import Resonance

/// Tiled's JSON shapes: the `/api/v1/` answer, a node ("item") with its attributes and
/// links, array structures. Answers are `application/json`: the client asks for msgpack
/// but reads JSON just as well (`TiledResponse.json` falls back to it).
enum TiledSerialization {
    static let specVersion = "1"

    static func json(_ value: JSONValue) -> Response {
        var bytes: [UInt8] = []
        value.write(into: &bytes)
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.cacheControl] = "no-store"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `GET /api/v1/`: the formats and queries this server answers, no authentication
    /// providers (keys are the server's own; see docs/tiled.md).
    static func about(base: String, requireKey: Bool) -> Response {
        json([
            "api_version": 0, "library_version": "0.2.20",
            "formats": ["array": ["application/octet-stream"], "container": ["application/json"]],
            "aliases": ["array": [:], "container": [:]],
            "queries": .array(TiledFilter.supported.map(JSONValue.string)),
            "authentication": ["required": .bool(requireKey), "providers": [], "links": .null],
            "links": ["self": .string(base), "documentation": .string(base + "/docs")],
            "meta": ["root_path": "/api"],
        ])
    }

    /// A path as it goes in a link: each key percent-encoded.
    static func linkPath(_ parts: [String]) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return parts.map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0 }.joined(separator: "/")
    }

    static let naturalSorting: JSONValue = [["key": "_", "direction": 1]]
}

extension TiledNode {
    var isContainer: Bool {
        if case .field = self { return false }
        return true
    }

    var specs: JSONValue {
        switch self {
        case .run: return [["name": "BlueskyRun", "version": .string(TiledSerialization.specVersion)]]
        case .stream: return [["name": "BlueskyEventStream", "version": .string(TiledSerialization.specVersion)]]
        default: return []
        }
    }

    /// The number of children of a container.
    func count() throws -> Int {
        switch self {
        case .root(let beamtimes): return beamtimes.count
        case .beamtime(let b): return try TiledRuns.count(b.catalog, filters: [])
        case .run(_, let run): return run.streams.count
        case .stream: return 1
        case .data(_, let run, let stream): return try TiledTree.fields(run: run, stream: stream).count
        case .field: return 0
        }
    }

    /// The node as Tiled's client reads it: `id`, `attributes` (only `fields` when given; the
    /// client asks for none when it lists keys), `links`.
    func item(base: String, fields: Set<String>?, count knownCount: Int? = nil) throws -> JSONValue {
        func wants(_ name: String) -> Bool { fields.map { $0.contains(name) } ?? true }
        let path = TiledSerialization.linkPath(self.path)
        var links: JSONObject = ["self": .string("\(base)/metadata/\(path)")]
        var attributes: JSONObject = ["ancestors": .array(ancestors.map(JSONValue.string))]
        attributes["structure_family"] = wants("structure_family") ? .string(isContainer ? "container" : "array") : .null
        attributes["specs"] = wants("specs") ? specs : .null
        attributes["metadata"] = .null
        if wants("metadata") { attributes["metadata"] = .object(try metadata()) }
        if isContainer {
            attributes["structure"] = .null
            if wants("structure") {
                let n = try knownCount ?? count()
                attributes["structure"] = ["contents": .null, "count": .int(Int64(n))]
            }
            links["search"] = .string("\(base)/search/\(path)")
            links["full"] = .string("\(base)/container/full/\(path)")
        } else {
            if case .field(_, _, _, let field) = self {
                let array = TiledArray(field)
                attributes["structure"] = wants("structure") ? array.structure : .null
                links["full"] = .string("\(base)/array/full/\(path)")
                links["block"] = .string("\(base)/array/block/\(path)?block=" + (0..<array.shape.count).map { "{\($0)}" }.joined(separator: ","))
            }
        }
        attributes["access_tags"] = .null
        attributes["sorting"] = wants("sorting") && isContainer ? TiledSerialization.naturalSorting : .null
        attributes["data_sources"] = .null
        return ["id": .string(key), "attributes": .object(attributes), "links": .object(links), "meta": .null]
    }

    /// The node's metadata: a run's start / stop documents, a stream's descriptors.
    func metadata() throws -> JSONObject {
        switch self {
        case .root, .data: return [:]
        case .beamtime(let b):
            return ["label": .string(b.label), "path": .string(b.relativePath)]
        case .run(let b, let run):
            let docs = try TiledDocuments.header(b, run)
            var summary: JSONObject = [
                "uid": .string(run.uid), "plan_name": .string(run.planName), "timestamp": .double(run.timeStart),
                "datetime": .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: run.timeStart))),
                "stream_names": .array(run.streamNames.map(JSONValue.string)),
                "duration": run.timeStop.map { JSONValue.double($0 - run.timeStart) } ?? JSONValue.null,
            ]
            if let scan = docs.start["scan_id"] { summary["scan_id"] = scan }
            if let sample = run.sample { summary["sample_name"] = .string(sample.name) }
            return ["start": .object(docs.start), "stop": docs.stop.map(JSONValue.object) ?? .null, "summary": .object(summary)]
        case .stream(let b, let run, let stream):
            let docs = try TiledDocuments.header(b, run)
            let descriptors = docs.descriptors.filter { $0["name"]?.stringValue == stream.name }
            return ["descriptors": .array(descriptors.map(JSONValue.object)), "stream_name": .string(stream.name)]
        case .field(_, _, let stream, let field):
            if let key = stream.dataKeys[field.name]?.objectValue { return ["data_key": .object(key)] }
            return [:]
        }
    }
}
