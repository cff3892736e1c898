import GRDB
import JSONValue

/// The one rule of every metadata filter (``RunQuery/metadata`` on a beamtime,
/// ``IndexQuery/metadata`` on the master index): the run's metadata has this top-level key
/// (any text: dots, quotes and spaces are part of the key) with exactly this value.
///
/// ```swift
/// let (sql, arguments) = MetadataMatching.sqliteCondition(column: "r.metadata", key: "edge", value: "C K")
/// // EXISTS (SELECT 1 FROM json_each(...) WHERE key = ? AND type = 'text' AND value = ?)
/// ```
///
/// A string matches the same string only (`"1"` is not `1`); numbers match by value
/// (`1` and `1.0` are the same number); `true`, `false` and `null` match themselves.
/// Arrays and objects cannot be matched.
public enum MetadataMatching {
    /// A `key=value` condition as `resonance runs --where`, `resonance index search --where`
    /// and `/api/search?where=` read it: the value is JSON when it parses (a number, `true`,
    /// `false`, `null`, a quoted string) and text otherwise, so `edge=C K` needs no quotes.
    /// Nil without a `=` or with an empty key.
    ///
    /// ```swift
    /// MetadataMatching.condition("repeat=2")   // ("repeat", .int(2))
    /// MetadataMatching.condition("edge=C K")   // ("edge", .string("C K"))
    /// MetadataMatching.condition("id=\"2\"")   // ("id", .string("2"))
    /// ```
    public static func condition(_ text: String) -> (key: String, value: JSONValue)? {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { return nil }
        let valueText = String(text[text.index(after: equals)...])
        // An array or object parses too; the query refuses it, naming it.
        return (String(text[..<equals]), (try? JSONValue(parsing: valueText)) ?? .string(valueText))
    }

    /// Why `value` cannot be matched, or nil when it can.
    static func problem(_ value: JSONValue) -> String? {
        value.isScalar ? nil : "only strings, numbers, booleans and null can be matched"
    }

    /// The SQLite condition that `column` (JSON text of an object) has `key` = `value`, with
    /// its arguments. `value` must be a scalar (see ``problem(_:)``).
    ///
    /// json_each instead of a JSON path: any key text works. json_valid keeps one malformed
    /// row from failing the whole query (it matches nothing).
    static func sqliteCondition(column: String, key: String, value: JSONValue) -> (String, StatementArguments) {
        let match: String
        var arguments: StatementArguments = [key]
        switch value {
        case .string(let text): match = "type = 'text' AND value = ?"; arguments += [text]
        case .int(let number): match = "type IN ('integer', 'real') AND value = ?"; arguments += [number]
        case .double(let number): match = "type IN ('integer', 'real') AND value = ?"; arguments += [number]
        case .bool(let flag): match = "type = ?"; arguments += [flag ? "true" : "false"]
        case .null: match = "type = 'null'"
        case .array, .object: return ("0", [])  // refused before (problem(_:)); would match nothing
        }
        return ("EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(\(column)) THEN \(column) ELSE '{}' END) WHERE key = ? AND \(match))",
                arguments)
    }
}
