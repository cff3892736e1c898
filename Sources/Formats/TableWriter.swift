import Foundation
import JSONValue
import Resonance

/// Writes an ``EventTable`` as CSV or JSON in pieces, so a large table never sits in
/// memory twice.
///
/// CSV (RFC 4180 quoting, "\n" line ends): the header `seq_num,time,<fields...>`; integers
/// in decimal; floats with the shortest digits that read back to the same double (Python's
/// `repr`: `285.0`, `1e-09`); `NaN`, `inf` and `-inf` for non-finite floats (pandas and
/// spreadsheet programs read them back); `True`/`False` for bools; an empty field for a
/// missing value; strings quoted when they hold a comma, quote, line break, surrounding
/// spaces, or are empty (so `""` and missing differ).
///
/// JSON (`.json`): an array of row objects `{"seq_num": 1, "time": ..., "energy": 270.0, ...}`
/// in column order, `null` for a missing value, NaN and infinities as Python's json writes them.
///
/// Columnar JSON (`.columns`): one object of arrays, `{"seq_num": [...], "time": [...],
/// "<field>": [...]}`, what `pandas.DataFrame(json.load(f))` and a plotting page want.
///
/// ```swift
/// try TableWriter.write(table, as: .csv, to: FileHandle.standardOutput)
/// var body: [UInt8] = []
/// try TableWriter.write(table, as: .columns) { body += $0 }
/// ```
public enum TableWriter {
    public enum Format: String, CaseIterable, Sendable {
        /// Comma-separated values with a header line.
        case csv
        /// An array of row objects.
        case json
        /// One object of column arrays.
        case columns
    }

    /// Writes `table` to a file handle, calling `progress` with the rows done.
    public static func write(_ table: EventTable, as format: Format, to sink: FileHandle, progress: (Int) -> Void = { _ in }) throws {
        try write(table, as: format, progress: progress) { try sink.write(contentsOf: $0) }
    }

    /// Writes `table` in pieces of about a megabyte, handing each to `sink` in order.
    public static func write(
        _ table: EventTable, as format: Format, progress: (Int) -> Void = { _ in }, sink: ([UInt8]) throws -> Void
    ) throws {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        func flush(force: Bool = false) throws {
            guard force || buffer.count >= 1 << 20 else { return }
            try sink(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
        let columns = table.columns
        switch format {
        case .csv:
            buffer += Array(columns.map { csvString($0.name) }.joined(separator: ",").utf8)
            buffer.append(0x0A)
            for row in 0..<table.count {
                for (k, column) in columns.enumerated() {
                    if k > 0 { buffer.append(UInt8(ascii: ",")) }
                    if let value = column[row] { appendCSV(value, to: &buffer) }
                }
                buffer.append(0x0A)
                if row % 4096 == 4095 { try flush(); progress(row + 1) }
            }
        case .json:
            buffer.append(UInt8(ascii: "["))
            for row in 0..<table.count {
                buffer += Array((row == 0 ? "\n{" : ",\n{").utf8)
                for (k, column) in columns.enumerated() {
                    if k > 0 { buffer += [UInt8(ascii: ","), UInt8(ascii: " ")] }
                    JSONWriter.writeString(column.name, into: &buffer)
                    buffer += [UInt8(ascii: ":"), UInt8(ascii: " ")]
                    (column[row] ?? .null).write(into: &buffer)
                }
                buffer.append(UInt8(ascii: "}"))
                if row % 4096 == 4095 { try flush(); progress(row + 1) }
            }
            buffer += Array((table.count == 0 ? "]\n" : "\n]\n").utf8)
        case .columns:
            buffer.append(UInt8(ascii: "{"))
            for (k, column) in columns.enumerated() {
                if k > 0 { buffer += [UInt8(ascii: ","), UInt8(ascii: " ")] }
                JSONWriter.writeString(column.name, into: &buffer)
                buffer += [UInt8(ascii: ":"), UInt8(ascii: " "), UInt8(ascii: "[")]
                for row in 0..<table.count {
                    if row > 0 { buffer.append(UInt8(ascii: ",")) }
                    (column[row] ?? .null).write(into: &buffer)
                    if row % 4096 == 4095 { try flush() }
                }
                buffer.append(UInt8(ascii: "]"))
                progress(table.count * (k + 1) / max(columns.count, 1))
            }
            buffer += Array("}\n".utf8)
        }
        try flush(force: true)
        progress(table.count)
    }

    /// One CSV field for a present value.
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

    /// A string as a CSV field, quoted (quotes doubled) when it needs to be.
    static func csvString(_ s: String) -> String {
        let needsQuotes = s.isEmpty || s.first == " " || s.last == " "
            || s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard needsQuotes else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
