import Foundation
import JSONValue
import Resonance

/// The rows and columns a request picked (`fields`, `after_seq`) of an event table, as
/// columnar JSON or CSV bytes. Whole tables go through ResonanceFormats' `TableWriter`; this
/// encodes a subset, which `TableWriter` (taking a whole `EventTable`) cannot, by the same rules.
///
/// JSON: `{"seq_num": [...], "time": [...], "<field>": [...]}`, columns in table order,
/// `null` for a missing value, NaN / Infinity / -Infinity as Python's json writes them
/// (docs/format.md). CSV: as `resonance table` writes it (header `seq_num,time,...`;
/// shortest round-trip floats; `NaN`, `inf`, `-inf`; `True`/`False`; empty when missing;
/// RFC 4180 quoting).
enum TableEncoding {
    static func json(_ columns: [EventColumn], rows: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count * columns.count * 12 + 64)
        out.append(UInt8(ascii: "{"))
        for (k, column) in columns.enumerated() {
            if k > 0 { out += [UInt8(ascii: ","), UInt8(ascii: " ")] }
            JSONWriter.writeString(column.name, into: &out)
            out += [UInt8(ascii: ":"), UInt8(ascii: " "), UInt8(ascii: "[")]
            var first = true
            for row in rows {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                (column[row] ?? .null).write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out += [UInt8(ascii: "}"), 0x0A]
        return out
    }

    static func csv(_ columns: [EventColumn], rows: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count * columns.count * 12 + 64)
        out += Array(columns.map { csvString($0.name) }.joined(separator: ",").utf8)
        out.append(0x0A)
        for row in rows {
            for (k, column) in columns.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                if let value = column[row] { appendCSV(value, to: &out) }
            }
            out.append(0x0A)
        }
        return out
    }

    static func appendCSV(_ value: JSONValue, to buffer: inout [UInt8]) {
        switch value {
        case .int(let i): JSONWriter.writeInt(i, into: &buffer)
        case .double(let d):
            if d.isNaN { buffer += Array("NaN".utf8) }
            else if d.isInfinite { buffer += Array((d < 0 ? "-inf" : "inf").utf8) }
            else { JSONWriter.writeDouble(d, into: &buffer) }
        case .bool(let b): buffer += Array((b ? "True" : "False").utf8)
        case .string(let s): buffer += Array(csvString(s).utf8)
        case .null: break
        default: buffer += Array(csvString(value.jsonText).utf8)
        }
    }

    static func csvString(_ s: String) -> String {
        let needsQuotes = s.isEmpty || s.first == " " || s.last == " "
            || s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard needsQuotes else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
