import Foundation
import Resonance

/// Writing to the terminal: stdout for results, stderr for messages and progress.
enum Output {
    /// Writes `text` to stdout at once (no buffering surprises when piped).
    static func print(_ text: String = "", terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }

    /// Writes a message to stderr.
    static func message(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Whether stderr is a terminal (progress bars only then).
    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// Where a command's result goes: the file `path` (created or emptied), or stdout.
    static func sink(_ path: String?) throws -> FileHandle {
        guard let path else { return FileHandle.standardOutput }
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CommandError("\(path): cannot create the file (\(String(cString: strerror(errno))))")
        }
        return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    /// Prints `value` as JSON text (Python-compatible, NaN included).
    static func printJSON(_ value: JSONValue) {
        print(value.jsonText)
    }
}

/// A plain aligned table for people: a header, a rule, then the rows.
///
/// ```
/// uid       plan    sample  start
/// --------  ------  ------  -------------------
/// 1f3a...   nexafs  PS      2026-03-05 14:02:11
/// ```
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []
    /// Columns aligned right (numbers).
    var rightAligned: Set<Int> = []

    init(_ headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    mutating func append(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                return rightAligned.contains(i) ? pad + cell : (i == cells.count - 1 ? cell : cell + pad)
            }.joined(separator: "  ")
        }
        var out = [line(headers), line(widths.map { String(repeating: "-", count: $0) })]
        out += rows.map(line)
        return out.joined(separator: "\n")
    }
}

/// Times and numbers as people read them.
enum Format {
    private static let dateFormatter: DateFormatter = {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.locale = Locale(identifier: "en_US_POSIX")
        return f
    }()

    /// Local time, to the second; "-" for nil.
    static func time(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        return dateFormatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    /// Today's local date as YYYY-MM-DD.
    static func today() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.locale = Locale(identifier: "en_US_POSIX")
        return f.string(from: Date())
    }

    /// 1536 -> "1.5 KiB".
    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// Seconds with sensible precision.
    static func seconds(_ s: Double) -> String {
        s < 10 ? String(format: "%.2f s", s) : String(format: "%.1f s", s)
    }

    /// A number the way Python prints it, for tables of event values.
    static func number(_ d: Double) -> String { JSONValue.double(d).jsonText }
}
