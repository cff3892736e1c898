import Foundation
import JSONValue

/// Writing to the terminal: stdout for results, stderr for messages and progress.
package enum Output {
    /// Writes `text` to stdout at once (no buffering surprises when piped).
    package static func print(_ text: String = "", terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }

    /// Writes a message to stderr.
    package static func message(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Whether stderr is a terminal (progress bars only then).
    package static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// Where a command's result goes: the file `path` (created or emptied), or stdout.
    package static func sink(_ path: String?) throws -> FileHandle {
        guard let path else { return FileHandle.standardOutput }
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CommandError("\(path): cannot create the file (\(String(cString: strerror(errno))))")
        }
        return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    /// Prints `value` as JSON text (Python-compatible, NaN included).
    package static func printJSON(_ value: JSONValue) {
        print(value.jsonText)
    }
}
