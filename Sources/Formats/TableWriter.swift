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
        var writer = Writer(format: format)
        try writer.add(table, progress: progress, sink: sink)
        try writer.finish(sink: sink)
        progress(table.count)
    }

    /// Writes a stream of `run` batch by batch (``Run/forEachTableBatch(stream:rows:_:)``, of
    /// `batchRows` events): the same bytes as writing ``Run/table(stream:)``, with memory
    /// that does not grow with the run.
    public static func write(
        _ run: Run, stream: String, as format: Format, batchRows: Int = 65_536,
        progress: (Int) -> Void = { _ in }, sink: ([UInt8]) throws -> Void
    ) throws {
        guard format != .columns else {
            return try writeColumns(run, stream: stream, batchRows: batchRows, progress: progress, sink: sink)
        }
        var writer = Writer(format: format)
        try run.forEachTableBatch(stream: stream, rows: batchRows) { batch in try writer.add(batch, progress: progress, sink: sink) }
        try writer.finish(sink: sink)
        progress(writer.rowsWritten)
    }

    /// Columnar JSON needs each column whole before the next one starts, and a batch holds a
    /// slice of every column: each column's values go to a temporary file of their own as the
    /// batches are read, then the files are copied out one after the other. Memory is one
    /// batch; the temporary files take as much disk as the output and are removed at the end.
    /// (Reading the stream once per column instead would hold nothing, but read it 10-50 times.)
    private static func writeColumns(
        _ run: Run, stream: String, batchRows: Int, progress: (Int) -> Void, sink: ([UInt8]) throws -> Void
    ) throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("resonance-columns-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        var names: [String] = []
        var files: [FileHandle] = []
        defer { for file in files { try? file.close() } }
        var rows = 0
        var bytes: [UInt8] = []
        try run.forEachTableBatch(stream: stream, rows: batchRows) { batch in
            let columns = batch.columns
            if names.isEmpty && files.isEmpty {
                names = columns.map(\.name)
                for k in columns.indices {
                    let url = folder.appendingPathComponent("\(k)")
                    guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
                    }
                    files.append(try FileHandle(forUpdating: url))
                }
            }
            for (k, column) in columns.enumerated() {
                bytes.removeAll(keepingCapacity: true)
                for row in 0..<batch.count {
                    if rows + row > 0 { bytes.append(UInt8(ascii: ",")) }
                    (column[row] ?? .null).write(into: &bytes)
                }
                try files[k].write(contentsOf: bytes)
            }
            rows += batch.count
            progress(rows / 2)  // the copy out is the other half
        }
        var buffer: [UInt8] = [UInt8(ascii: "{")]
        for (k, name) in names.enumerated() {
            if k > 0 { buffer += [UInt8(ascii: ","), UInt8(ascii: " ")] }
            JSONWriter.writeString(name, into: &buffer)
            buffer += [UInt8(ascii: ":"), UInt8(ascii: " "), UInt8(ascii: "[")]
            try sink(buffer)
            try files[k].seek(toOffset: 0)
            while let piece = try files[k].read(upToCount: 1 << 20), !piece.isEmpty { try sink(Array(piece)) }
            buffer = [UInt8(ascii: "]")]
            progress(rows / 2 + rows * (k + 1) / max(names.count, 1) / 2)
        }
        buffer += Array("}\n".utf8)
        try sink(buffer)
        progress(rows)
    }

    /// The output in progress: the header goes with the first table, the closing bracket
    /// at the end, rows in between, flushed about every megabyte.
    private struct Writer {
        let format: Format
        var buffer: [UInt8] = []
        var rowsWritten = 0
        var started = false

        init(format: Format) {
            self.format = format
            buffer.reserveCapacity(1 << 20)
        }

        mutating func flush(force: Bool = false, sink: ([UInt8]) throws -> Void) throws {
            guard force || buffer.count >= 1 << 20 else { return }
            try sink(buffer)
            buffer.removeAll(keepingCapacity: true)
        }

        mutating func add(_ table: EventTable, progress: (Int) -> Void, sink: ([UInt8]) throws -> Void) throws {
            let columns = table.columns
            switch format {
            case .csv:
                if !started {
                    buffer += Array(columns.map { csvString($0.name) }.joined(separator: ",").utf8)
                    buffer.append(0x0A)
                }
                for row in 0..<table.count {
                    for (k, column) in columns.enumerated() {
                        if k > 0 { buffer.append(UInt8(ascii: ",")) }
                        if let value = column[row] { appendCSV(value, to: &buffer) }
                    }
                    buffer.append(0x0A)
                    if row % 4096 == 4095 { try flush(sink: sink); progress(rowsWritten + row + 1) }
                }
            case .json:
                if !started { buffer.append(UInt8(ascii: "[")) }
                for row in 0..<table.count {
                    buffer += Array((rowsWritten + row == 0 ? "\n{" : ",\n{").utf8)
                    for (k, column) in columns.enumerated() {
                        if k > 0 { buffer += [UInt8(ascii: ","), UInt8(ascii: " ")] }
                        JSONWriter.writeString(column.name, into: &buffer)
                        buffer += [UInt8(ascii: ":"), UInt8(ascii: " ")]
                        (column[row] ?? .null).write(into: &buffer)
                    }
                    buffer.append(UInt8(ascii: "}"))
                    if row % 4096 == 4095 { try flush(sink: sink); progress(rowsWritten + row + 1) }
                }
            case .columns:
                precondition(!started, "columnar JSON is written from one whole table")
                buffer.append(UInt8(ascii: "{"))
                for (k, column) in columns.enumerated() {
                    if k > 0 { buffer += [UInt8(ascii: ","), UInt8(ascii: " ")] }
                    JSONWriter.writeString(column.name, into: &buffer)
                    buffer += [UInt8(ascii: ":"), UInt8(ascii: " "), UInt8(ascii: "[")]
                    for row in 0..<table.count {
                        if row > 0 { buffer.append(UInt8(ascii: ",")) }
                        (column[row] ?? .null).write(into: &buffer)
                        if row % 4096 == 4095 { try flush(sink: sink) }
                    }
                    buffer.append(UInt8(ascii: "]"))
                    progress(table.count * (k + 1) / max(columns.count, 1))
                }
            }
            started = true
            rowsWritten += table.count
        }

        mutating func finish(sink: ([UInt8]) throws -> Void) throws {
            switch format {
            case .csv: break
            case .json: buffer += Array((rowsWritten == 0 ? "]\n" : "\n]\n").utf8)
            case .columns: buffer += Array("}\n".utf8)
            }
            try flush(force: true, sink: sink)
        }
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
