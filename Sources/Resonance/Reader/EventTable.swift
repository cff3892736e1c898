/// The events of one stream as typed columns: `seq_num`, `time`, then every data field in
/// the order the fields were first seen.
///
/// ```swift
/// let table = try run.table()                         // stream "primary"
/// table.columnNames                                   // ["seq_num", "time", "Energy", "I0", ...]
/// let energy = try table.doubles("Energy")             // [Double?]: nil where an event lacks it
/// let current = try table.doubles("sample_current", missing: .nan)   // [Double]
/// for row in table.rows {
///     print(row.seqNum, row["Energy"]?.doubleValue ?? .nan)
/// }
/// ```
///
/// Column types follow the values stored in the events' JSON data:
/// - only integers: ``EventColumn/Kind/int64``; integers and floats: ``EventColumn/Kind/double``
///   (NaN and the infinities stay as they are);
/// - only bools: ``EventColumn/Kind/bool``; only strings: ``EventColumn/Kind/string``;
/// - any other mix (a number and a string, a bool and a number): ``EventColumn/Kind/string``,
///   each value as its JSON text (`"3"`, `"2.5"`, `"NaN"`, `"true"`), strings as they are;
/// - a field missing from an event, or `null`, is a missing value; a field that is never more
///   than `null` is an all-missing ``EventColumn/Kind/double`` column.
///
/// A data field named `seq_num` or `time` would hide the event's own column of that name: it
/// is listed as `data.seq_num` / `data.time` instead.
public struct EventTable: Sendable {
    /// The stream the events belong to.
    public let stream: String
    /// Every column, `seq_num` and `time` first.
    public let columns: [EventColumn]
    private let positions: [String: Int]

    init(stream: String, seqNums: [Int64], times: [Double], fields: [EventColumn]) {
        self.stream = stream
        var columns = [EventColumn(name: "seq_num", storage: .int64(seqNums), present: nil),
                       EventColumn(name: "time", storage: .double(times), present: nil)]
        columns += fields
        self.columns = columns
        var positions: [String: Int] = [:]
        for (k, column) in columns.enumerated() { positions[column.name] = k }
        self.positions = positions
    }

    /// Number of events (rows).
    public var count: Int { columns[0].count }

    /// True when the stream has no events (or does not exist).
    public var isEmpty: Bool { count == 0 }

    /// Column names in order: `seq_num`, `time`, then the data fields.
    public var columnNames: [String] { columns.map(\.name) }

    /// The data columns: every column but `seq_num` and `time`.
    public var fields: ArraySlice<EventColumn> { columns[2...] }

    /// The events' `seq_num` values, ascending.
    public var seqNums: [Int64] {
        if case .int64(let values) = columns[0].storage { return values }
        return []
    }

    /// The events' `time` values (Unix seconds).
    public var times: [Double] {
        if case .double(let values) = columns[1].storage { return values }
        return []
    }

    /// The column named `name`, or nil.
    public func column(_ name: String) -> EventColumn? {
        positions[name].map { columns[$0] }
    }

    /// The table with `seq_num`, `time` and the data fields `names` only, in the order named
    /// (a name given twice, or `seq_num` / `time`, counts once). A name the table lacks is a
    /// column with no value in any row, of kind double, as a field that is only ever null:
    /// rows read after a seq_num (``Run/table(stream:after:limit:)``) may not carry a field
    /// the stream has, and a reader asking for it gets it as missing, not an error.
    ///
    /// ```swift
    /// let part = try run.table(stream: "primary", after: 20).selecting(["energy", "i0"])
    /// part.columnNames                                   // ["seq_num", "time", "energy", "i0"]
    /// ```
    public func selecting(_ names: [String]) -> EventTable {
        var seen: Set<String> = ["seq_num", "time"]
        var fields: [EventColumn] = []
        for name in names where seen.insert(name).inserted {
            fields.append(column(name) ?? EventColumn.missing(name: name, kind: .double, count: count))
        }
        return EventTable(stream: stream, seqNums: seqNums, times: times, fields: fields)
    }

    /// The column named `name`, or ``CatalogError/noSuchColumn(name:available:)``.
    public func requireColumn(_ name: String) throws(CatalogError) -> EventColumn {
        guard let column = column(name) else { throw .noSuchColumn(name: name, available: columnNames) }
        return column
    }

    /// A numeric column as doubles (integers convert); nil where an event has no value.
    public func doubles(_ name: String) throws(CatalogError) -> [Double?] { try requireColumn(name).doubles() }

    /// A numeric column as doubles, with `missing` where an event has no value.
    ///
    /// ```swift
    /// let i0 = try table.doubles("I0", missing: .nan)
    /// ```
    public func doubles(_ name: String, missing: Double) throws(CatalogError) -> [Double] {
        try requireColumn(name).doubles(missing: missing)
    }

    /// An integer column; nil where an event has no value.
    public func int64s(_ name: String) throws(CatalogError) -> [Int64?] { try requireColumn(name).int64s() }

    /// A string column; nil where an event has no value.
    public func strings(_ name: String) throws(CatalogError) -> [String?] { try requireColumn(name).strings() }

    /// A bool column; nil where an event has no value.
    public func bools(_ name: String) throws(CatalogError) -> [Bool?] { try requireColumn(name).bools() }

    /// The events as rows, in `seq_num` order.
    public var rows: Rows { Rows(table: self) }

    /// The rows of an ``EventTable``.
    public struct Rows: RandomAccessCollection, Sendable {
        let table: EventTable
        public var startIndex: Int { 0 }
        public var endIndex: Int { table.count }
        public subscript(position: Int) -> EventRow { EventRow(table: table, index: position) }
    }
}

/// One event of an ``EventTable``.
public struct EventRow: Sendable {
    let table: EventTable
    /// Zero-based row position in the table.
    public let index: Int

    /// The event's `seq_num`.
    public var seqNum: Int64 { table.columns[0].int64(at: index) }
    /// The event's `time` (Unix seconds).
    public var time: Double { table.columns[1].double(at: index) }

    /// The value of column `name` in this event, typed as its column is; nil when the event
    /// has no value or the table has no such column.
    public subscript(name: String) -> JSONValue? {
        table.column(name)?[index]
    }

    /// The row's values in column order (nil where missing).
    public var values: [JSONValue?] { table.columns.map { $0[index] } }
}

/// One typed column of an ``EventTable``.
public struct EventColumn: Sendable {
    /// The type of a column's values; see ``EventTable`` for how it is chosen.
    public enum Kind: String, Sendable {
        case int64, double, string, bool
    }

    enum Storage: Sendable {
        case int64([Int64])
        case double([Double])
        case string([String])
        case bool([Bool])
    }

    /// The column's name: the field name in the events' data.
    public let name: String
    let storage: Storage
    /// Which rows hold a value; nil when all do.
    let present: [Bool]?

    /// The type of the values.
    public var kind: Kind {
        switch storage {
        case .int64: return .int64
        case .double: return .double
        case .string: return .string
        case .bool: return .bool
        }
    }

    /// Number of rows.
    public var count: Int {
        switch storage {
        case .int64(let v): return v.count
        case .double(let v): return v.count
        case .string(let v): return v.count
        case .bool(let v): return v.count
        }
    }

    /// Number of rows without a value.
    public var missingCount: Int { present.map { $0.count - $0.lazy.filter { $0 }.count } ?? 0 }

    /// Whether the event at `row` has no value for this field.
    public func isMissing(_ row: Int) -> Bool { present.map { !$0[row] } ?? false }

    /// The value at `row` as JSON, typed as the column is (an integer in a double column is a
    /// `.double`); nil when missing.
    public subscript(row: Int) -> JSONValue? {
        if isMissing(row) { return nil }
        switch storage {
        case .int64(let v): return .int(v[row])
        case .double(let v): return .double(v[row])
        case .string(let v): return .string(v[row])
        case .bool(let v): return .bool(v[row])
        }
    }

    func int64(at row: Int) -> Int64 {
        if case .int64(let v) = storage { return v[row] }
        return 0
    }

    func double(at row: Int) -> Double {
        switch storage {
        case .double(let v): return v[row]
        case .int64(let v): return Double(v[row])
        default: return .nan
        }
    }

    private func withPresence<T>(_ values: [T]) -> [T?] {
        guard let present else { return values.map { $0 } }
        return zip(values, present).map { $1 ? $0 : nil }
    }

    /// The values as doubles (integers convert); nil where missing.
    /// Throws ``CatalogError/columnTypeMismatch(name:kind:requested:)`` for string and bool columns.
    public func doubles() throws(CatalogError) -> [Double?] {
        switch storage {
        case .double(let v): return withPresence(v)
        case .int64(let v): return withPresence(v.map(Double.init))
        default: throw .columnTypeMismatch(name: name, kind: kind, requested: "Double")
        }
    }

    /// The values as doubles (integers convert), with `missing` where an event has no value.
    public func doubles(missing: Double) throws(CatalogError) -> [Double] {
        var values: [Double]
        switch storage {
        case .double(let v): values = v
        case .int64(let v): values = v.map(Double.init)
        default: throw .columnTypeMismatch(name: name, kind: kind, requested: "Double")
        }
        if let present {
            for k in values.indices where !present[k] { values[k] = missing }
        }
        return values
    }

    /// The values of an integer column; nil where missing.
    public func int64s() throws(CatalogError) -> [Int64?] {
        guard case .int64(let v) = storage else { throw .columnTypeMismatch(name: name, kind: kind, requested: "Int64") }
        return withPresence(v)
    }

    /// The values of a string column; nil where missing.
    public func strings() throws(CatalogError) -> [String?] {
        guard case .string(let v) = storage else { throw .columnTypeMismatch(name: name, kind: kind, requested: "String") }
        return withPresence(v)
    }

    /// The values of a bool column; nil where missing.
    public func bools() throws(CatalogError) -> [Bool?] {
        guard case .bool(let v) = storage else { throw .columnTypeMismatch(name: name, kind: kind, requested: "Bool") }
        return withPresence(v)
    }
}
