import Concurrency
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
    /// Rows parsed as one unit of work. Small enough that the reading thread hands the first
    /// chunk to a worker early; large enough that per-chunk costs stay negligible.
    static let rowsPerChunk = 8_192

    /// The events of the stream with seq_num in `seqNums`, at most `limit` of them (nil:
    /// all), in seq_num order: one walk of the (stream_uid, seq_num) index.
    static func load(
        db: Database, stream: String, streamUID: String, seqNums: ClosedRange<Int64> = .min ... .max, limit: Int? = nil
    ) throws -> EventTable {
        guard let connection = db.sqliteConnection else { throw CatalogError.closed }
        var statement: OpaquePointer?
        var code = sqlite3_prepare_v2(
            connection, "SELECT seq_num, time, data FROM events WHERE stream_uid = ? AND seq_num BETWEEN ? AND ? ORDER BY seq_num LIMIT ?",
            -1, &statement, nil)
        defer { sqlite3_finalize(statement) }
        guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage) }
        sqlite3_bind_text(statement, 1, streamUID, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
        sqlite3_bind_int64(statement, 2, seqNums.lowerBound)
        sqlite3_bind_int64(statement, 3, seqNums.upperBound)
        sqlite3_bind_int64(statement, 4, Int64(limit ?? -1))

        // This thread steps SQLite and offers each full chunk to a worker while it reads on;
        // then it parses every chunk no worker has taken. On two cores reading and parsing
        // overlap, and nothing waits for a worker that never comes (a busy thread pool).
        let work = ChunkWork()
        defer { work.finish() }  // also when reading fails: workers not yet started skip their chunk
        var chunks: [EventChunk] = []
        var rowCount = 0
        // The chunk being filled, in locals: appending to a class's properties row by row
        // would check exclusivity on each append.
        var seqNums: [Int64] = [], times: [Double] = [], ends: [Int] = [], bytes: [UInt8] = []
        func startChunk(expectedBytes: Int) {
            seqNums = []; times = []; ends = []; bytes = []
            seqNums.reserveCapacity(rowsPerChunk)
            times.reserveCapacity(rowsPerChunk)
            ends.reserveCapacity(rowsPerChunk)
            bytes.reserveCapacity(expectedBytes)
        }
        func finishChunk() -> EventChunk {
            EventChunk(firstRow: rowCount - seqNums.count, seqNums: seqNums, times: times, ends: ends, bytes: bytes)
        }
        startChunk(expectedBytes: 0)
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
            rowCount += 1
            if seqNums.count == rowsPerChunk {
                let full = finishChunk()
                chunks.append(full)
                DispatchQueue.global().async { if work.take(full) { full.parse(stream: stream); work.done() } }
                startChunk(expectedBytes: bytes.count + bytes.count / 8 + 1)
            }
        }
        if !seqNums.isEmpty || chunks.isEmpty { chunks.append(finishChunk()) }
        for chunk in chunks where work.take(chunk) {
            chunk.parse(stream: stream)
            work.done()
        }
        work.finish()
        if let failure = chunks.lazy.compactMap(\.failure).first { throw failure }

        var allSeqNums: [Int64] = []
        var allTimes: [Double] = []
        allSeqNums.reserveCapacity(rowCount)
        allTimes.reserveCapacity(rowCount)
        for chunk in chunks {
            allSeqNums += chunk.seqNums
            allTimes += chunk.times
        }
        return EventTable(stream: stream, seqNums: allSeqNums, times: allTimes, fields: merge(chunks, rowCount: rowCount))
    }

    /// Joins the chunks' fields into columns, in first-seen order (chunk order, then each
    /// chunk's own order, which is the order over all rows).
    static func merge(_ chunks: [EventChunk], rowCount: Int) -> [EventColumn] {
        var names: [String] = []
        var parts: [String: [(chunk: EventChunk, field: Int)]] = [:]
        for chunk in chunks {
            for (f, name) in chunk.parser.names.enumerated() {
                if parts[name] == nil { names.append(name) }
                parts[name, default: []].append((chunk, f))
            }
        }
        let reserved: Set<String> = ["seq_num", "time"]
        var taken = Set(names).union(reserved)
        return names.map { name in
            var columnName = name
            if reserved.contains(name) {
                repeat { columnName = "data." + columnName } while taken.contains(columnName)
                taken.insert(columnName)
            }
            return column(named: columnName, pieces: parts[name]!, rowCount: rowCount)
        }
    }

    static func column(named name: String, pieces: [(chunk: EventChunk, field: Int)], rowCount: Int) -> EventColumn {
        let kinds = pieces.reduce(0 as UInt8) { $0 | $1.chunk.parser.kinds[$1.field] }
        let allPresent = pieces.reduce(0) { $0 + $1.chunk.parser.presentCounts[$1.field] } == rowCount
        var present: [Bool]?
        if !allPresent {
            var flags = [Bool](repeating: false, count: rowCount)
            for (chunk, f) in pieces {
                let tags = chunk.parser.tags[f]
                for r in 0..<chunk.rowCount where tags[r] != Tag.missing { flags[chunk.firstRow + r] = true }
            }
            present = flags
        }

        /// Fills a column of `rowCount` values: `fallback` where a chunk lacks the field or a row is missing.
        func fill<T>(_ fallback: T, _ value: (ChunkParser, Int, Int) -> T) -> [T] {
            var values = [T](repeating: fallback, count: rowCount)
            values.withUnsafeMutableBufferPointer { out in
                for (chunk, f) in pieces {
                    let parser = chunk.parser
                    let tags = parser.tags[f]
                    for r in 0..<chunk.rowCount where tags[r] != Tag.missing { out[chunk.firstRow + r] = value(parser, f, r) }
                }
            }
            return values
        }

        let storage: EventColumn.Storage
        switch kinds {
        case Tag.int:
            storage = .int64(fill(0) { p, f, r in Int64(bitPattern: p.bits[f][r]) })
        case Tag.missing, Tag.double, Tag.int | Tag.double:
            storage = .double(fill(.nan) { p, f, r in
                p.tags[f][r] == Tag.int ? Double(Int64(bitPattern: p.bits[f][r])) : Double(bitPattern: p.bits[f][r])
            })
        case Tag.bool:
            storage = .bool(fill(false) { p, f, r in p.bits[f][r] != 0 })
        default:  // strings, or a mix no other type holds: JSON text
            storage = .string(fill("") { p, f, r in p.text(field: f, row: r) })
        }
        return EventColumn(name: name, storage: storage, present: present)
    }
}

/// Which chunks a thread has taken to parse, and how many of those are parsed.
final class ChunkWork: @unchecked Sendable {
    private let condition = Lock()
    private var taken: Set<ObjectIdentifier> = []  // guarded by `condition`
    private var finished = 0  // guarded by `condition`
    private var closed = false  // guarded by `condition`

    /// True when the caller is the first to ask for `chunk` (before ``finish()``), and must
    /// parse it and call ``done()``.
    func take(_ chunk: EventChunk) -> Bool {
        condition.withLock { !closed && taken.insert(ObjectIdentifier(chunk)).inserted }
    }

    func done() {
        condition.withLock {
            finished += 1
            condition.broadcast()
        }
    }

    /// Lets no one take another chunk, and waits until every taken chunk is parsed.
    func finish() {
        condition.lock()
        closed = true
        while finished < taken.count { condition.wait() }
        condition.unlock()
    }
}

/// Up to ``EventTableLoader/rowsPerChunk`` consecutive events: their text as read from
/// SQLite, then the parsed cells.
///
/// Unchecked Sendable: the reading thread fills a chunk, then exactly one thread parses it
/// (the one ``ChunkWork/take(_:)`` lets), and the reading thread reads the result only after
/// waiting for that parse to finish.
final class EventChunk: @unchecked Sendable {
    let firstRow: Int
    let seqNums: [Int64]
    let times: [Double]
    private var ends: [Int]
    private var bytes: [UInt8]
    private(set) var parser = ChunkParser(rowCount: 0)
    private(set) var failure: CatalogError?

    init(firstRow: Int, seqNums: [Int64], times: [Double], ends: [Int], bytes: [UInt8]) {
        self.firstRow = firstRow
        self.seqNums = seqNums
        self.times = times
        self.ends = ends
        self.bytes = bytes
    }

    deinit { parser.deallocate() }

    var rowCount: Int { seqNums.count }

    func parse(stream: String) {
        // A local copy: mutating a class's stored property row by row would check exclusivity each time.
        var parser = ChunkParser(rowCount: rowCount)
        defer { self.parser = parser }
        bytes.append(0)  // a terminator, so no scan can run past the last row
        bytes.withUnsafeBufferPointer { bytes in
            let base = bytes.baseAddress!
            for row in 0..<rowCount {
                let start = row == 0 ? 0 : ends[row - 1]
                let text = UnsafeBufferPointer(start: base + start, count: ends[row] - start)
                if !parser.scanFlatObject(text, row: row) {
                    do {
                        try parser.parseSlowly(text, row: row)
                    } catch {
                        failure = .malformedJSON(
                            location: "events.data of seq_num \(seqNums[row]) in stream \(stream.debugDescription)",
                            reason: "\(error)")
                        return
                    }
                }
            }
        }
        bytes = []
        ends = []
    }
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

struct NotAnObject: Error, CustomStringConvertible {
    var description: String { "event data is not a JSON object" }
}

/// Parses the rows of one chunk into per-field cells: a tag per row, and the value's bits
/// (an Int64, a Double, a Bool, or an index into the field's strings).
///
/// Per-field state lives in parallel arrays of plain values, not in objects, so the hot
/// loop does no reference counting or dynamic exclusivity checks.
struct ChunkParser {
    let rowCount: Int
    var names: [String] = []
    var keys: [UnsafeBufferPointer<UInt8>] = []
    var tags: [UnsafeMutablePointer<UInt8>] = []
    var bits: [UnsafeMutablePointer<UInt64>] = []
    var kinds: [UInt8] = []
    var presentCounts: [Int] = []
    var strings: [[String]] = []
    var fieldIndex: [String: Int] = [:]
    /// The field at each key position of the previous row: writers repeat the same keys in
    /// the same order, so the key at position k is most likely that row's k-th key again.
    var lastOrder: [Int] = []

    init(rowCount: Int) { self.rowCount = rowCount }

    /// Frees the cells; called once, by the chunk that owns them.
    func deallocate() {
        for k in keys { k.deallocate() }
        for t in tags { t.deallocate() }
        for b in bits { b.deallocate() }
    }

    mutating func field(named name: String, key: UnsafeBufferPointer<UInt8>) -> Int {
        if let f = fieldIndex[name] { return f }
        let stored = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: key.count)
        _ = stored.initialize(from: key)
        keys.append(UnsafeBufferPointer(stored))
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: max(rowCount, 1))
        t.initialize(repeating: Tag.missing, count: max(rowCount, 1))
        let b = UnsafeMutablePointer<UInt64>.allocate(capacity: max(rowCount, 1))
        b.initialize(repeating: 0, count: max(rowCount, 1))
        names.append(name)
        tags.append(t)
        bits.append(b)
        kinds.append(0)
        presentCounts.append(0)
        strings.append([])
        fieldIndex[name] = names.count - 1
        return names.count - 1
    }

    @inline(__always) mutating func set(_ f: Int, _ row: Int, tag: UInt8, bits value: UInt64) {
        let t = tags[f]
        if t[row] == Tag.missing {
            if tag != Tag.missing { presentCounts[f] += 1 }
        } else if tag == Tag.missing {
            presentCounts[f] -= 1
        }
        t[row] = tag
        bits[f][row] = value
        kinds[f] |= tag
    }

    mutating func set(_ f: Int, _ row: Int, string: String, tag: UInt8 = Tag.string) {
        set(f, row, tag: tag, bits: UInt64(strings[f].count))
        strings[f].append(string)
    }

    mutating func set(_ f: Int, _ row: Int, value: JSONValue) {
        switch value {
        case .null: set(f, row, tag: Tag.missing, bits: 0)
        case .bool(let b): set(f, row, tag: Tag.bool, bits: b ? 1 : 0)
        case .int(let i): set(f, row, tag: Tag.int, bits: UInt64(bitPattern: i))
        case .double(let d): set(f, row, tag: Tag.double, bits: d.bitPattern)
        case .string(let s): set(f, row, string: s)
        case .array, .object: set(f, row, string: value.jsonText, tag: Tag.json)
        }
    }

    /// The cell as text, for columns of mixed kinds.
    func text(field f: Int, row: Int) -> String {
        let value = bits[f][row]
        switch tags[f][row] {
        case Tag.int: return String(Int64(bitPattern: value))
        case Tag.double:
            var out: [UInt8] = []
            JSONWriter.writeDouble(Double(bitPattern: value), into: &out)
            return String(decoding: out, as: UTF8.self)
        case Tag.bool: return value != 0 ? "true" : "false"
        default: return strings[f][Int(value)]
        }
    }

    /// The full parser, for rows the fast scanner declined.
    mutating func parseSlowly(_ text: UnsafeBufferPointer<UInt8>, row: Int) throws {
        if text.isEmpty { return }  // a lenient writer's NULL data: no fields
        guard case .object(let object) = try JSONValue(parsingUTF8: text) else { throw NotAnObject() }
        for (name, value) in object {
            var utf8 = name
            let f = utf8.withUTF8 { field(named: name, key: $0) }
            set(f, row, value: value)
        }
    }

    /// The fast path: a flat object of numbers, unescaped strings, bools and nulls.
    /// Returns false, having maybe set some cells of `row`, when the text needs the full parser
    /// (which then sets every cell of the row again).
    mutating func scanFlatObject(_ text: UnsafeBufferPointer<UInt8>, row: Int) -> Bool {
        guard let p = text.baseAddress else { return false }
        let n = text.count
        var i = 0
        Self.skipSpace(p, n, &i)
        guard i < n, p[i] == UInt8(ascii: "{") else { return false }
        i += 1
        Self.skipSpace(p, n, &i)
        if i < n, p[i] == UInt8(ascii: "}") {
            i += 1
            Self.skipSpace(p, n, &i)
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
            let f = fieldAt(position: position, key: UnsafeBufferPointer(start: p + keyStart, count: i - keyStart))
            i += 1
            position += 1
            Self.skipSpace(p, n, &i)
            guard i < n, p[i] == UInt8(ascii: ":") else { return false }
            i += 1
            Self.skipSpace(p, n, &i)
            guard i < n else { return false }
            // Value.
            switch p[i] {
            case UInt8(ascii: "\""):
                i += 1
                let start = i
                while i < n, p[i] != UInt8(ascii: "\"") {
                    if p[i] == UInt8(ascii: "\\") || p[i] < 0x20 { return false }
                    i += 1
                }
                guard i < n else { return false }
                set(f, row, string: String(decoding: UnsafeBufferPointer(start: p + start, count: i - start), as: UTF8.self))
                i += 1
            case UInt8(ascii: "t"):
                guard Self.matches(p, n, &i, "true") else { return false }
                set(f, row, tag: Tag.bool, bits: 1)
            case UInt8(ascii: "f"):
                guard Self.matches(p, n, &i, "false") else { return false }
                set(f, row, tag: Tag.bool, bits: 0)
            case UInt8(ascii: "n"):
                guard Self.matches(p, n, &i, "null") else { return false }
                set(f, row, tag: Tag.missing, bits: 0)
            case UInt8(ascii: "N"):
                guard Self.matches(p, n, &i, "NaN") else { return false }
                set(f, row, tag: Tag.double, bits: Double.nan.bitPattern)
            case UInt8(ascii: "I"):
                guard Self.matches(p, n, &i, "Infinity") else { return false }
                set(f, row, tag: Tag.double, bits: Double.infinity.bitPattern)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                if p[i] == UInt8(ascii: "-"), i + 1 < n, p[i + 1] == UInt8(ascii: "I") {
                    i += 1
                    guard Self.matches(p, n, &i, "Infinity") else { return false }
                    set(f, row, tag: Tag.double, bits: (-Double.infinity).bitPattern)
                } else {
                    guard let number = JSONNumber.scan(p, n, &i) else { return false }
                    let (tag, value): (UInt8, UInt64)
                    switch number {
                    case .int(let v): (tag, value) = (Tag.int, UInt64(bitPattern: v))
                    case .double(let v): (tag, value) = (Tag.double, v.bitPattern)
                    }
                    set(f, row, tag: tag, bits: value)
                }
            default:
                return false  // nested value or invalid text
            }
            Self.skipSpace(p, n, &i)
            guard i < n else { return false }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                Self.skipSpace(p, n, &i)
                continue
            }
            guard p[i] == UInt8(ascii: "}") else { return false }
            i += 1
            Self.skipSpace(p, n, &i)
            return i == n
        }
    }

    /// The field whose key is these bytes, trying the previous row's key at this position first.
    @inline(__always) mutating func fieldAt(position: Int, key: UnsafeBufferPointer<UInt8>) -> Int {
        if position < lastOrder.count {
            let guess = lastOrder[position]
            let known = keys[guess]
            if known.count == key.count {
                var k = 0
                while k < key.count, known[k] == key[k] { k += 1 }
                if k == key.count { return guess }
            }
        }
        let f = field(named: String(decoding: key, as: UTF8.self), key: key)
        if position < lastOrder.count { lastOrder[position] = f } else { lastOrder.append(f) }
        return f
    }

    // Static, not nested: a nested function capturing the cursor would put it in a box with
    // dynamic exclusivity checks on every access.
    @inline(__always) static func skipSpace(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) {
        while i < n, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x09 || p[i] == 0x0D { i += 1 }
    }

    @inline(__always) static func matches(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int, _ word: StaticString) -> Bool {
        let length = word.utf8CodeUnitCount
        guard i + length <= n, memcmp(p + i, word.utf8Start, length) == 0 else { return false }
        i += length
        return true
    }

}
