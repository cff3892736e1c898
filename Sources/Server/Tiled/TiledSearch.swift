import Foundation
import JSONValue
import Resonance

/// `GET /api/v1/search/{path}`: a container's children, a page at a time, as Tiled's client
/// pages them (`page[offset]`, `page[limit]` up to 300, `links.next`); `fields=` (the client
/// listing keys) leaves attributes out, `fields=count` answers only the count; `filter[...]`
/// (``TiledFilter``) and `sort` narrow and order the children.
enum TiledSearch {
    static let defaultLimit = 100
    static let maxLimit = 300

    static func page(_ parts: [String], query: TiledQuery, base: String, registry: BeamtimeRegistry) throws -> JSONValue {
        let node = try TiledTree.resolve(parts, registry: registry)
        guard node.isContainer else { throw TiledError.notFound("No container at /\(parts.joined(separator: "/")): it is an array") }
        let offset = try query.int("page[offset]") ?? 0
        let limit = min(try query.int("page[limit]") ?? defaultLimit, maxLimit)
        let filters = try TiledFilter.parse(query)
        let sort = query.first("sort") ?? "_"
        var fields: Set<String>? = nil
        if query.has("fields") { fields = Set(query.all("fields").filter { !$0.isEmpty }) }
        let countOnly = fields == ["count"]

        var count = 0
        var children: [TiledNode] = []
        switch node {
        case .beamtime(let beamtime):
            let page = try TiledRuns.page(beamtime.catalog, filters: filters, sort: sort, offset: offset, limit: countOnly ? 0 : limit)
            count = page.count
            if fields?.isEmpty == true {
                // Keys only (the client listing keys): no run is read beyond its summary row.
                let link = "\(base)/metadata/\(TiledSerialization.linkPath([beamtime.label]))/"
                let ancestors: JSONValue = [.string(beamtime.label)]
                let empty: JSONObject = ["ancestors": ancestors, "structure_family": .null, "specs": .null, "metadata": .null,
                                         "structure": .null, "access_tags": .null, "sorting": .null, "data_sources": .null]
                let items: [JSONValue] = page.runs.map {
                    ["id": .string($0.uid), "attributes": .object(empty), "links": ["self": .string(link + $0.uid)], "meta": .null]
                }
                let path = TiledSerialization.linkPath(parts)
                return envelope(items: items, count: count, link: "\(base)/search/\(path)", offset: offset, limit: limit, countOnly: false)
            }
            for summary in page.runs {
                // A run deleted between the listing and this read is left out of the page.
                guard let run = try? beamtime.catalog.run(summary.uid) else { continue }
                children.append(.run(beamtime, run))
            }
        default:
            var all = try childNodes(node, registry: registry).filter { child in
                try filters.allSatisfy { filter in
                    let metadata = try child.metadata()
                    return try filter.matches(key: child.key, specs: child.specs.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue } ?? [],
                                              family: child.isContainer ? "container" : "array") { TiledFilter.lookup($0, in: metadata) }
                }
            }
            if sort.hasPrefix("-") { all.reverse() }
            count = all.count
            if !countOnly { children = Array(all.dropFirst(offset).prefix(limit)) }
        }

        let path = TiledSerialization.linkPath(parts)
        let link = "\(base)/search/\(path)"
        let items = try children.map { try $0.item(base: base, fields: fields) }
        return envelope(items: items, count: count, link: link, offset: offset, limit: limit, countOnly: countOnly)
    }

    static func envelope(items: [JSONValue], count: Int, link: String, offset: Int, limit: Int, countOnly: Bool) -> JSONValue {
        let next: JSONValue = !countOnly && offset + limit < count ? .string("\(link)?page[offset]=\(offset + limit)&page[limit]=\(limit)") : .null
        return [
            "data": .array(items), "error": .null,
            "links": ["self": .string("\(link)?page[offset]=\(offset)&page[limit]=\(limit)"), "first": .string("\(link)?page[limit]=\(limit)"), "next": next],
            "meta": ["count": .int(Int64(count))],
        ]
    }

    /// The children of a container other than a beamtime.
    static func childNodes(_ node: TiledNode, registry: BeamtimeRegistry) throws -> [TiledNode] {
        switch node {
        case .root(let beamtimes):
            return beamtimes.map { .beamtime($0) }
        case .beamtime:
            return []
        case .run(let b, let run):
            return run.streams.map { .stream(b, run, $0) }
        case .stream(let b, let run, let stream):
            return [.data(b, run, stream)]
        case .data(let b, let run, let stream):
            return try TiledTree.fields(run: run, stream: stream).map { .field(b, run, stream, $0) }
        case .field:
            return []
        }
    }
}
