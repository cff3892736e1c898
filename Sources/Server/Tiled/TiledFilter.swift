import Foundation
import JSONValue

/// One `filter[<type>][condition][<field>]=<value>` query of Tiled's client (values of
/// `value`, `keys`, `include`... JSON-encoded, as `tiled.queries` encodes them).
enum TiledFilter: Equatable {
    case eq(key: String, value: JSONValue)
    case noteq(key: String, value: JSONValue)
    case comparison(op: String, key: String, value: JSONValue)
    case contains(key: String, value: JSONValue)
    case inList(key: String, values: [JSONValue])
    case notInList(key: String, values: [JSONValue])
    case keyPresent(key: String, exists: Bool)
    case regex(key: String, pattern: String, caseSensitive: Bool)
    case lookup(key: String)
    case keysFilter(keys: [String])
    case specs(include: [String], exclude: [String])
    case structureFamily(String)

    /// The query names `GET /api/v1/` advertises.
    static let supported = ["eq", "noteq", "comparison", "contains", "in", "notin", "keypresent", "regex", "lookup", "keys_filter", "specs", "structure_family"]

    /// Every filter of the query; 400 naming a query type this server does not answer.
    static func parse(_ query: TiledQuery) throws -> [TiledFilter] {
        // name -> field -> values in order; the i-th values of each field form the i-th filter.
        var types: [String] = []
        var fields: [String: [String: [String]]] = [:]
        for (name, value) in query.pairs where name.hasPrefix("filter[") {
            let pieces = name.split(separator: "[").map { $0.hasSuffix("]") ? String($0.dropLast()) : String($0) }
            guard pieces.count == 4, pieces[2] == "condition" else { throw TiledError.badRequest("unreadable filter parameter \(name.debugDescription)") }
            let type = pieces[1], field = pieces[3]
            if fields[type] == nil { types.append(type) }
            fields[type, default: [:]][field, default: []].append(value)
        }
        var out: [TiledFilter] = []
        for type in types {
            let f = fields[type]!
            let n = f.values.map(\.count).max() ?? 0
            for i in 0..<n {
                func text(_ name: String) throws -> String {
                    guard let values = f[name], i < values.count else { throw TiledError.badRequest("filter[\(type)] lacks its \(name)") }
                    return values[i]
                }
                func json(_ name: String) throws -> JSONValue {
                    let t = try text(name)
                    do { return try JSONValue(parsing: t) } catch { throw TiledError.badRequest("filter[\(type)][condition][\(name)]=\(t.debugDescription) is not JSON") }
                }
                func strings(_ name: String) throws -> [String] {
                    (try json(name).arrayValue ?? []).compactMap(\.stringValue)
                }
                switch type {
                case "eq": out.append(.eq(key: try text("key"), value: try json("value")))
                case "noteq": out.append(.noteq(key: try text("key"), value: try json("value")))
                case "comparison":
                    let op = try text("operator")
                    guard ["lt", "gt", "le", "ge"].contains(op) else { throw TiledError.badRequest("comparison operator \(op.debugDescription) is not lt, gt, le or ge") }
                    out.append(.comparison(op: op, key: try text("key"), value: try json("value")))
                case "contains": out.append(.contains(key: try text("key"), value: try json("value")))
                case "in": out.append(.inList(key: try text("key"), values: try json("value").arrayValue ?? []))
                case "notin": out.append(.notInList(key: try text("key"), values: try json("value").arrayValue ?? []))
                case "keypresent":
                    let exists = try text("exists").lowercased()
                    out.append(.keyPresent(key: try text("key"), exists: exists == "true" || exists == "1"))
                case "regex":
                    let sensitive = (try? json("case_sensitive"))?.boolValue ?? true
                    out.append(.regex(key: try text("key"), pattern: try json("pattern").stringValue ?? "", caseSensitive: sensitive))
                case "lookup": out.append(.lookup(key: try text("key")))
                case "keys_filter": out.append(.keysFilter(keys: try strings("keys")))
                case "specs": out.append(.specs(include: try strings("include"), exclude: (try? strings("exclude")) ?? []))
                case "structure_family": out.append(.structureFamily(try text("value")))
                default:
                    throw TiledError.badRequest("Unsupported query type \(type.debugDescription): this server answers \(supported.joined(separator: ", ")) (docs/tiled.md)")
                }
            }
        }
        return out
    }

    /// Whether a child passes: `key` its key in the container, `value(k)` the value of a
    /// metadata key (dotted paths go into nested objects), `specs` its spec names.
    func matches(key childKey: String, specs: [String], family: String, value: (String) throws -> JSONValue?) throws -> Bool {
        switch self {
        case .lookup(let key): return childKey == key
        case .keysFilter(let keys): return keys.contains(childKey)
        case .specs(let include, let exclude): return include.allSatisfy(specs.contains) && !exclude.contains(where: specs.contains)
        case .structureFamily(let f): return f == family
        case .eq(let key, let v): return try value(key).map { Self.equal($0, v) } ?? false
        case .noteq(let key, let v): return try value(key).map { !Self.equal($0, v) } ?? false
        case .comparison(let op, let key, let v):
            guard let have = try value(key), let order = Self.order(have, v) else { return false }
            switch op {
            case "lt": return order < 0
            case "gt": return order > 0
            case "le": return order <= 0
            default: return order >= 0
            }
        case .contains(let key, let v):
            guard let have = try value(key) else { return false }
            if let items = have.arrayValue { return items.contains { Self.equal($0, v) } }
            if let s = have.stringValue, let part = v.stringValue { return s.contains(part) }
            return false
        case .inList(let key, let values): return try value(key).map { have in values.contains { Self.equal(have, $0) } } ?? false
        case .notInList(let key, let values): return try value(key).map { have in !values.contains { Self.equal(have, $0) } } ?? false
        case .keyPresent(let key, let exists): return (try value(key) != nil) == exists
        case .regex(let key, let pattern, let sensitive):
            guard let s = try value(key)?.stringValue else { return false }
            let regex = try NSRegularExpression(pattern: pattern, options: sensitive ? [] : [.caseInsensitive])
            return regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
        }
    }

    /// The keys filters name.
    var key: String? {
        switch self {
        case .eq(let k, _), .noteq(let k, _), .comparison(_, let k, _), .contains(let k, _), .inList(let k, _), .notInList(let k, _),
             .keyPresent(let k, _), .regex(let k, _, _):
            return k
        default: return nil
        }
    }

    /// JSON equality with 1 == 1.0, as Python compares them.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = number(a), let y = number(b) { return x == y }
        return a == b
    }

    static func number(_ v: JSONValue) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// -1, 0, 1 for numbers or strings; nil when they do not compare.
    static func order(_ a: JSONValue, _ b: JSONValue) -> Int? {
        if let x = number(a), let y = number(b) { return x < y ? -1 : x > y ? 1 : 0 }
        if let x = a.stringValue, let y = b.stringValue { return x < y ? -1 : x > y ? 1 : 0 }
        return nil
    }

    /// The value at a dotted path in an object.
    static func lookup(_ path: String, in object: JSONObject) -> JSONValue? {
        var current: JSONValue = .object(object)
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = current.objectValue?[String(part)] else { return nil }
            current = next
        }
        return current
    }
}
