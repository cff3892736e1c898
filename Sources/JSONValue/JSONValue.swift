@_exported import OrderedCollections

/// A JSON object whose keys keep the order they were written in, as Python's `dict` does.
public typealias JSONObject = OrderedDictionary<String, JSONValue>

/// A JSON value as Python's `json` module writes and reads it.
///
/// Integers and floats stay apart (`285` is ``int(_:)``, `285.0` is ``double(_:)``), and the
/// non-finite floats Python writes as the bare tokens `NaN`, `Infinity` and `-Infinity`
/// are ordinary ``double(_:)`` values.
///
/// ```swift
/// let value: JSONValue = ["energy": 285.0, "counts": 12, "ok": true, "i0": .double(.nan)]
/// value.jsonText            // {"energy": 285.0, "counts": 12, "ok": true, "i0": NaN}
/// try JSONValue(parsing: value.jsonText)["i0"]?.doubleValue?.isNaN  // true
/// ```
public enum JSONValue: Sendable {
    /// `null` (Python `None`).
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer that fits in 64 bits.
    case int(Int64)
    /// A float, including NaN and the infinities.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object with its keys in order.
    case object(JSONObject)
}

// MARK: - Accessors

extension JSONValue {
    /// The member named `key` when this is an object, else nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The number as a Double (integers convert), else nil. Bools are not numbers here.
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    /// The integer when this is ``int(_:)``, else nil.
    public var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }

    /// The string when this is ``string(_:)``, else nil.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The bool when this is ``bool(_:)``, else nil.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements when this is ``array(_:)``, else nil.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members when this is ``object(_:)``, else nil.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// True for `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// True for numbers, strings, bools and null: what an event's data may hold.
    public var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }
}

// MARK: - Equality

extension JSONValue: Equatable {
    /// Structural equality in which NaN equals NaN, so a value round-trips to an equal value.
    /// Object member order is not significant; an int never equals a double.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (key, value) in a {
                guard let other = b[key], other == value else { return false }
            }
            return true
        default: return false
        }
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var object = JSONObject(minimumCapacity: elements.count)
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }
}

extension JSONValue {
    /// An object value from ordered members.
    public init(_ object: JSONObject) { self = .object(object) }
    /// An array of strings, e.g. a sample's tags.
    public init(_ strings: [String]) { self = .array(strings.map { .string($0) }) }
}

// MARK: - Nesting

extension JSONValue {
    /// The deepest nesting the reader accepts. Writers should refuse deeper values, so
    /// everything written can be read back (Python's own limit is about 1,000).
    public static let maxNestingDepth = 512

    /// How deeply arrays and objects nest: 0 for a scalar, 1 for `[1]` or `{"a": 1}`.
    /// Computed without recursion, so any value can be measured.
    public var nestingDepth: Int {
        var deepest = 0
        var pending: [(JSONValue, Int)] = [(self, 0)]
        while let (value, depth) = pending.popLast() {
            switch value {
            case .array(let elements):
                deepest = max(deepest, depth + 1)
                for element in elements where !element.isScalar { pending.append((element, depth + 1)) }
            case .object(let members):
                deepest = max(deepest, depth + 1)
                for element in members.values where !element.isScalar { pending.append((element, depth + 1)) }
            default:
                break
            }
        }
        return deepest
    }
}
