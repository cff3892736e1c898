import Dispatch
import Foundation
import GRDB
import GRDBSQLite

/// Builds an ``EventTable`` from the `events` rows of one stream.
///
/// Speed matters here (a stream may hold 100,000 events): rows are stepped with the SQLite C
/// API and their JSON bytes copied into one buffer; the bytes are then parsed in chunks, one
/// per core, each by a scanner specialised for flat objects of scalars (what writers store),
/// which hands anything unusual (escapes, nesting) to the full ``JSONValue`` parser.
enum EventTableLoader {
    /// Below this many events one core parses everything: threads would cost more than they save.
    static let rowsPerChunk = 8_192

    static func load(db: Database, stream: String, streamUID: String) throws -> EventTable {
        guard let connection = db.sqliteConnection else { throw CatalogError.closed }
        var statement: OpaquePointer?
        var code = sqlite3_prepare_v2(
            connection, "SELECT seq_num, time, data FROM events WHERE stream_uid = ? ORDER BY seq_num", -1, &statement, nil)
        defer { sqlite3_finalize(statement) }
        guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage) }
        sqlite3_bind_text(statement, 1, streamUID, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))

        var seqNums: [Int64] = []
        var times: [Double] = []
        var ends: [Int] = []
        var bytes: [UInt8] = []
        while true {
            code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage) }
            seqNums.append(sqlite3_column_int64(statement, 0))
            times.append(sqlite3_column_double(statement, 1))
            if let text = sqlite3_column_text(statement, 2) {
                bytes.append(contentsOf: UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, 2))))
            }
            ends.append(bytes.count)
        }

        let rowCount = seqNums.count
        let chunkCount = max(1, min(ProcessInfo.processInfo.activeProcessorCount, rowCount / rowsPerChunk))
        let parsers = (0..<chunkCount).map { c in
            ChunkParser(rows: rowCount * c / chunkCount..<rowCount * (c + 1) / chunkCount, stream: stream)
        }
        bytes.withUnsafeBufferPointer { bytes in
            ends.withUnsafeBufferPointer { ends in
                seqNums.withUnsafeBufferPointer { seqNums in
                    let input = ChunkInput(bytes: bytes, ends: ends, seqNums: seqNums)
                    if chunkCount == 1 {
                        parsers[0].parse(input)
                    } else {
                        DispatchQueue.concurrentPerform(iterations: chunkCount) { parsers[$0].parse(input) }
                    }
                }
            }
        }
        bytes = []  // the text is no longer needed; free it before the columns are built
        if let failure = parsers.lazy.compactMap(\.failure).first { throw failure }
        return EventTable(stream: stream, seqNums: seqNums, times: times, fields: merge(parsers, rowCount: rowCount))
    }

    /// Joins the chunks' fields into columns, in first-seen order (chunk order, then each
    /// chunk's own order, which is the order over all rows).
    static func merge(_ parsers: [ChunkParser], rowCount: Int) -> [EventColumn] {
        var names: [String] = []
        var parts: [String: [(parser: ChunkParser, field: FieldBuilder)]] = [:]
        for parser in parsers {
            for field in parser.fields {
                if parts[field.name] == nil { names.append(field.name) }
                parts[field.name, default: []].append((parser, field))
            }
        }
        let reserved: Set<String> = ["seq_num", "time"]
        var taken = Set(names).union(reserved)
        return names.map { name in
            let pieces = parts[name]!
            var columnName = name
            if reserved.contains(name) {
                repeat { columnName = "data." + columnName } while taken.contains(columnName)
                taken.insert(columnName)
            }
            return column(named: columnName, pieces: pieces, rowCount: rowCount)
        }
    }

    static func column(named name: String, pieces: [(parser: ChunkParser, field: FieldBuilder)], rowCount: Int) -> EventColumn {
        let kinds = pieces.reduce(0 as UInt8) { $0 | $1.field.kinds }
        let allPresent = pieces.reduce(0) { $0 + $1.field.presentCount } == rowCount
        var present: [Bool]?
        if !allPresent {
            var flags = [Bool](repeating: false, count: rowCount)
            for (parser, field) in pieces {
                for r in 0..<parser.rows.count where field.tags[r] != Tag.missing { flags[parser.rows.lowerBound + r] = true }
            }
            present = flags
        }

        /// Fills a column of `rowCount` values: `fallback` where a chunk lacks the field or a row is missing.
        func fill<T>(_ fallback: T, _ value: (FieldBuilder, Int) -> T) -> [T] {
            var values = [T](repeating: fallback, count: rowCount)
            values.withUnsafeMutableBufferPointer { out in
                for (parser, field) in pieces {
                    let base = parser.rows.lowerBound
                    for r in 0..<parser.rows.count where field.tags[r] != Tag.missing { out[base + r] = value(field, r) }
                }
            }
            return values
        }

        let storage: EventColumn.Storage
        switch kinds {
        case Tag.int:
            storage = .int64(fill(0) { Int64(bitPattern: $0.bits[$1]) })
        case Tag.missing, Tag.double, Tag.int | Tag.double:
            storage = .double(fill(.nan) { field, r in
                field.tags[r] == Tag.int ? Double(Int64(bitPattern: field.bits[r])) : Double(bitPattern: field.bits[r])
            })
        case Tag.bool:
            storage = .bool(fill(false) { $0.bits[$1] != 0 })
        default:  // strings, or a mix no other type holds: JSON text
            storage = .string(fill("") { $0.text(at: $1) })
        }
        return EventColumn(name: name, storage: storage, present: present)
    }
}

/// The text and row boundaries shared, read-only, by the chunk parsers.
struct ChunkInput: @unchecked Sendable {
    let bytes: UnsafeBufferPointer<UInt8>
    /// `ends[r]` is where row r's JSON ends in `bytes` (it starts where row r-1's ends).
    let ends: UnsafeBufferPointer<Int>
    let seqNums: UnsafeBufferPointer<Int64>
}

/// Kinds of cell, as bits so a column's kinds combine with `|`.
enum Tag {
    static let missing: UInt8 = 0
    static let int: UInt8 = 1
    static let double: UInt8 = 2
    static let bool: UInt8 = 4
    static let string: UInt8 = 8
    /// An array or object: kept as its JSON text.
    static let json: UInt8 = 16
}

/// One field's cells within one chunk: a tag per row, and the value's bits (an Int64, a
/// Double, a Bool, or an index into `strings`).
final class FieldBuilder {
    let name: String
    /// The key as it appears in the JSON text, for matching without making a String.
    let key: [UInt8]
    let tags: UnsafeMutablePointer<UInt8>
    let bits: UnsafeMutablePointer<UInt64>
    var strings: [String] = []
    var kinds: UInt8 = 0
    var presentCount = 0
    let rowCount: Int

    init(name: String, key: [UInt8], rowCount: Int) {
        self.name = name
        self.key = key
        self.rowCount = rowCount
        tags = .allocate(capacity: max(rowCount, 1))
        tags.initialize(repeating: Tag.missing, count: max(rowCount, 1))
        bits = .allocate(capacity: max(rowCount, 1))
        bits.initialize(repeating: 0, count: max(rowCount, 1))
    }

    deinit {
        tags.deallocate()
        bits.deallocate()
    }

    @inline(__always) func set(_ row: Int, tag: UInt8, bits value: UInt64) {
        if tags[row] == Tag.missing, tag != Tag.missing { presentCount += 1 }
        if tags[row] != Tag.missing, tag == Tag.missing { presentCount -= 1 }
        tags[row] = tag
        bits[row] = value
        kinds |= tag
    }

    func set(_ row: Int, string: String, tag: UInt8 = Tag.string) {
        set(row, tag: tag, bits: UInt64(strings.count))
        strings.append(string)
    }

    func set(_ row: Int, value: JSONValue) {
        switch value {
        case .null: set(row, tag: Tag.missing, bits: 0)
        case .bool(let b): set(row, tag: Tag.bool, bits: b ? 1 : 0)
        case .int(let i): set(row, tag: Tag.int, bits: UInt64(bitPattern: i))
        case .double(let d): set(row, tag: Tag.double, bits: d.bitPattern)
        case .string(let s): set(row, string: s)
        case .array, .object: set(row, string: value.jsonText, tag: Tag.json)
        }
    }

    /// The cell as text, for columns of mixed kinds.
    func text(at row: Int) -> String {
        switch tags[row] {
        case Tag.int: return String(Int64(bitPattern: bits[row]))
        case Tag.double:
            var out: [UInt8] = []
            JSONWriter.writeDouble(Double(bitPattern: bits[row]), into: &out)
            return String(decoding: out, as: UTF8.self)
        case Tag.bool: return bits[row] != 0 ? "true" : "false"
        default: return strings[Int(bits[row])]
        }
    }
}

struct NotAnObject: Error, CustomStringConvertible {
    var description: String { "event data is not a JSON object" }
}

/// Parses the rows of one chunk into ``FieldBuilder``s.
///
/// Unchecked Sendable: each parser, and the builders it makes, is used by one thread at a
/// time (its chunk's worker, then the merging thread after the workers have finished).
final class ChunkParser: @unchecked Sendable {
    let rows: Range<Int>
    let stream: String
    var fields: [FieldBuilder] = []
    var fieldIndex: [String: Int] = [:]
    /// The field at each key position of the previous row: writers repeat the same keys in
    /// the same order, so the key at position k is most likely that row's k-th key again.
    var lastOrder: [Int] = []
    var failure: Error?

    init(rows: Range<Int>, stream: String) {
        self.rows = rows
        self.stream = stream
    }

    func parse(_ input: ChunkInput) {
        for row in rows {
            let start = row == 0 ? 0 : input.ends[row - 1]
            // No base address only when every row is empty.
            let text = UnsafeBufferPointer(start: input.bytes.baseAddress.map { $0 + start }, count: input.ends[row] - start)
            let local = row - rows.lowerBound
            if !scanFlatObject(text, row: local) {
                do {
                    try parseSlowly(text, row: local)
                } catch {
                    failure = CatalogError.malformedJSON(
                        location: "events.data of seq_num \(input.seqNums[row]) in stream \(stream.debugDescription)",
                        reason: "\(error)")
                    return
                }
            }
        }
    }

    func field(named name: String, key: [UInt8]) -> Int {
        if let k = fieldIndex[name] { return k }
        fields.append(FieldBuilder(name: name, key: key, rowCount: rows.count))
        fieldIndex[name] = fields.count - 1
        return fields.count - 1
    }

    /// The full parser, for rows the fast scanner declined.
    func parseSlowly(_ text: UnsafeBufferPointer<UInt8>, row: Int) throws {
        if text.isEmpty { return }  // a lenient writer's NULL data: no fields
        guard case .object(let object) = try JSONValue(parsingUTF8: text) else {
            throw NotAnObject()
        }
        for (name, value) in object {
            fields[field(named: name, key: Array(name.utf8))].set(row, value: value)
        }
    }

    /// The fast path: a flat object of numbers, unescaped strings, bools and nulls.
    /// Returns false, having maybe set some cells of `row`, when the text needs the full parser
    /// (which then sets every cell of the row again).
    func scanFlatObject(_ text: UnsafeBufferPointer<UInt8>, row: Int) -> Bool {
        guard let p = text.baseAddress else { return false }
        let n = text.count
        var i = 0
        @inline(__always) func skipSpace() {
            while i < n, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x09 || p[i] == 0x0D { i += 1 }
        }
        skipSpace()
        guard i < n, p[i] == UInt8(ascii: "{") else { return false }
        i += 1
        skipSpace()
        if i < n, p[i] == UInt8(ascii: "}") {
            i += 1
            skipSpace()
            return i == n
        }
        var position = 0
        while true {
            // Key.
            guard i < n, p[i] == UInt8(ascii: "\"") else { return false }
            i += 1
            let keyStart = i
            while i < n, p[i] != UInt8(ascii: "\"") {
                if p[i] == UInt8(ascii: "\\") || p[i] < 0x20 { return false }
                i += 1
            }
            guard i < n else { return false }
            let keyLength = i - keyStart
            i += 1
            let f = fieldAt(position: position, key: p + keyStart, length: keyLength)
            position += 1
            skipSpace()
            guard i < n, p[i] == UInt8(ascii: ":") else { return false }
            i += 1
            skipSpace()
            guard i < n else { return false }
            // Value.
            let field = fields[f]
            switch p[i] {
            case UInt8(ascii: "\""):
                i += 1
                let start = i
                while i < n, p[i] != UInt8(ascii: "\"") {
                    if p[i] == UInt8(ascii: "\\") || p[i] < 0x20 { return false }
                    i += 1
                }
                guard i < n else { return false }
                field.set(row, string: String(decoding: UnsafeBufferPointer(start: p + start, count: i - start), as: UTF8.self))
                i += 1
            case UInt8(ascii: "t"):
                guard matches(p, n, &i, "true") else { return false }
                field.set(row, tag: Tag.bool, bits: 1)
            case UInt8(ascii: "f"):
                guard matches(p, n, &i, "false") else { return false }
                field.set(row, tag: Tag.bool, bits: 0)
            case UInt8(ascii: "n"):
                guard matches(p, n, &i, "null") else { return false }
                field.set(row, tag: Tag.missing, bits: 0)
            case UInt8(ascii: "N"):
                guard matches(p, n, &i, "NaN") else { return false }
                field.set(row, tag: Tag.double, bits: Double.nan.bitPattern)
            case UInt8(ascii: "I"):
                guard matches(p, n, &i, "Infinity") else { return false }
                field.set(row, tag: Tag.double, bits: Double.infinity.bitPattern)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                if p[i] == UInt8(ascii: "-"), i + 1 < n, p[i + 1] == UInt8(ascii: "I") {
                    i += 1
                    guard matches(p, n, &i, "Infinity") else { return false }
                    field.set(row, tag: Tag.double, bits: (-Double.infinity).bitPattern)
                } else {
                    guard let (tag, bits) = scanNumber(p, n, &i) else { return false }
                    field.set(row, tag: tag, bits: bits)
                }
            default:
                return false  // nested value or invalid text
            }
            skipSpace()
            guard i < n else { return false }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                skipSpace()
                continue
            }
            guard p[i] == UInt8(ascii: "}") else { return false }
            i += 1
            skipSpace()
            return i == n
        }
    }

    /// The field whose key is these bytes, trying the previous row's key at this position first.
    @inline(__always) func fieldAt(position: Int, key: UnsafePointer<UInt8>, length: Int) -> Int {
        if position < lastOrder.count {
            let guess = lastOrder[position]
            let known = fields[guess].key
            if known.count == length, known.withUnsafeBufferPointer({ memcmp($0.baseAddress!, key, length) == 0 }) {
                return guess
            }
        }
        let bytes = Array(UnsafeBufferPointer(start: key, count: length))
        let f = field(named: String(decoding: bytes, as: UTF8.self), key: bytes)
        if position < lastOrder.count { lastOrder[position] = f } else { lastOrder.append(f) }
        return f
    }

    @inline(__always) func matches(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int, _ word: StaticString) -> Bool {
        let length = word.utf8CodeUnitCount
        guard i + length <= n, memcmp(p + i, word.utf8Start, length) == 0 else { return false }
        i += length
        return true
    }

    /// Exact powers of ten as doubles (10^22 is the largest one a double holds exactly).
    static let powersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }

    /// Scans a JSON number. Integers of up to 18 digits and floats whose digits fit in 53 bits
    /// with a power of ten up to 10^22 are converted here, exactly (Clinger's fast path: one
    /// correctly rounded multiply or divide of exact operands); others go to the standard
    /// library's correctly rounded conversion.
    @inline(__always) func scanNumber(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> (UInt8, UInt64)? {
        let start = i
        let negative = p[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        let intStart = i
        while i < n, p[i] &- 0x30 < 10 {
            if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(p[i] &- 0x30) }
            if mantissa != 0 || digits > 0 { digits += 1 }
            i += 1
        }
        let intDigits = i - intStart
        guard intDigits > 0, !(intDigits > 1 && p[intStart] == UInt8(ascii: "0")) else { return nil }
        var exponent = 0
        var isFloat = false
        if i < n, p[i] == UInt8(ascii: ".") {
            isFloat = true
            i += 1
            let fracStart = i
            while i < n, p[i] &- 0x30 < 10 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(p[i] &- 0x30)
                    exponent -= 1
                }
                if mantissa != 0 || digits > 0 { digits += 1 }
                i += 1
            }
            guard i > fracStart else { return nil }
        }
        if i < n, p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E") {
            isFloat = true
            i += 1
            var expNegative = false
            if i < n, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") {
                expNegative = p[i] == UInt8(ascii: "-")
                i += 1
            }
            let expStart = i
            var e = 0
            while i < n, p[i] &- 0x30 < 10 {
                if e < 100_000 { e = e * 10 + Int(p[i] &- 0x30) }
                i += 1
            }
            guard i > expStart else { return nil }
            exponent += expNegative ? -e : e
        }
        if !isFloat {
            if digits <= 18 {
                let value = Int64(mantissa)
                return (Tag.int, UInt64(bitPattern: negative ? -value : value))
            }
            // Like Python: an integer too long for 64 bits reads as a float.
            let text = String(decoding: UnsafeBufferPointer(start: p + start, count: i - start), as: UTF8.self)
            if let value = Int64(text) { return (Tag.int, UInt64(bitPattern: value)) }
            return Double(text).map { (Tag.double, $0.bitPattern) }
        }
        if digits <= 19, mantissa <= 1 << 53, exponent >= -22, exponent <= 22 {
            var value = Double(mantissa)
            value = exponent < 0 ? value / Self.powersOfTen[-exponent] : value * Self.powersOfTen[exponent]
            return (Tag.double, (negative ? -value : value).bitPattern)
        }
        let text = String(decoding: UnsafeBufferPointer(start: p + start, count: i - start), as: UTF8.self)
        return Double(text).map { (Tag.double, $0.bitPattern) }
    }
}
