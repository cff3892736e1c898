import Foundation

/// Reads a file descriptor line by line, without copying each line: `body` sees the bytes
/// of one line (without its newline) and its 1-based number.
///
/// ```swift
/// var reader = JSONLinesReader(fd: 0)                       // standard input
/// try reader.forEachLine { bytes, number in ... }
/// ```
///
/// With `follow`, the end of the file is not the end: reading goes on as the file grows
/// (`tail -f`), until `shouldStop` says so; a last line without its newline waits for it.
public struct JSONLinesReader {
    public let fd: Int32
    public var follow: Bool
    /// Checked while following (every `pollInterval`) and between reads.
    public var shouldStop: () -> Bool
    public var pollInterval: TimeInterval = 0.2
    public var chunkSize = 1 << 20

    public init(fd: Int32, follow: Bool = false, shouldStop: @escaping () -> Bool = { false }) {
        self.fd = fd
        self.follow = follow
        self.shouldStop = shouldStop
    }

    /// Why the input could not be read.
    public struct ReadError: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { "cannot read the input: \(reason)" }
    }

    public func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var filled = 0
        var lineNumber = 0
        while !shouldStop() {
            if filled == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }  // a line longer than the buffer
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(reason: String(cString: strerror(errno)))
            }
            if n == 0 {
                if follow {
                    Thread.sleep(forTimeInterval: pollInterval)
                    continue
                }
                break
            }
            filled += n
            let consumed = try buffer.withUnsafeBufferPointer { all -> Int in
                var start = 0
                while let newline = all[start..<filled].firstIndex(of: 0x0A) {
                    lineNumber += 1
                    try body(UnsafeBufferPointer(rebasing: all[start..<newline]), lineNumber)
                    start = newline + 1
                }
                return start
            }
            if consumed > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    let base = raw.baseAddress!
                    memmove(base, base + consumed, filled - consumed)
                }
                filled -= consumed
            }
        }
        if filled > 0 && !shouldStop() {
            lineNumber += 1
            try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<filled]), lineNumber) }
        }
    }
}
