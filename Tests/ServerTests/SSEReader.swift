import Foundation
import JSONValue

/// Reads `GET /api/live` over a raw socket: each message with its id, event name, data and
/// the wall-clock time it arrived.
///
/// Every read has a deadline that holds whatever the server sends: the feed's heartbeat
/// comments arrive every 15 s, so a read that waited "until the next line" could wait
/// forever for a message that never comes, and the test would hang instead of failing.
final class SSEReader {
    struct Message {
        var id: UInt64?
        var event: String
        var data: JSONValue
        var received: Double
    }

    let client: RawHTTP
    let status: Int
    let headers: [String: String]
    private let timeout: Double

    init(port: Int, query: String = "", lastEventID: UInt64? = nil, timeout: Double = 30) async throws {
        self.timeout = timeout
        client = try RawHTTP(port: port, timeout: timeout)
        var request = "GET /api/live\(query) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if let lastEventID { request += "Last-Event-ID: \(lastEventID)\r\n" }
        try client.send(request + "\r\n")
        (status, headers) = try await client.readHead()
        chunked = headers["transfer-encoding"]?.lowercased() == "chunked"
    }

    private let chunked: Bool
    /// The size of the chunk whose data did not all arrive before the last deadline.
    private var chunkSize: Int?
    /// Bytes of the stream, de-chunked, not yet split into lines.
    private var text: [UInt8] = []
    /// The message being read when the last deadline passed.
    private var id: UInt64?, event = "message", data = "", sawField = false

    /// The next line of the event stream (chunked framing undone), or nil at the end or
    /// when no whole line came by `end`. Nothing read is lost on a timeout.
    private func nextLine(until end: Double) async -> String? {
        guard chunked else { return await client.readLine(until: end) }
        while true {
            if let newline = text.firstIndex(of: 0x0A) {
                var line = Array(text[..<newline])
                text.removeFirst(newline + 1)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            if chunkSize == nil {
                guard let sizeLine = await client.readLine(until: end) else { return nil }
                if sizeLine.isEmpty { continue }
                guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16), size > 0 else { return nil }
                chunkSize = size
            }
            // The chunk's data and the CRLF after it.
            guard let bytes = await client.read(count: chunkSize! + 2, until: end) else { return nil }
            text += bytes.dropLast(2)
            chunkSize = nil
        }
    }

    /// The next message (comments skipped), or nil when the stream ends or nothing whole
    /// came by `end` (Unix seconds; the reader's timeout from now when nil).
    func next(until end: Double? = nil) async -> Message? {
        let end = end ?? Date().timeIntervalSince1970 + timeout
        while let line = await nextLine(until: end) {
            if line.isEmpty {
                defer { id = nil; event = "message"; data = ""; sawField = false }
                if sawField, !data.isEmpty {
                    return Message(id: id, event: event, data: (try? JSONValue(parsing: data)) ?? .string(data), received: Date().timeIntervalSince1970)
                }
                continue
            }
            if line.hasPrefix(":") { continue }
            let (field, value) = line.firstIndex(of: ":").map { (String(line[..<$0]), String(line[line.index(after: $0)...]).trimmingCharacters(in: .init(charactersIn: " "))) } ?? (line, "")
            switch field {
            case "id": id = UInt64(value); sawField = true
            case "event": event = value; sawField = true
            case "data": data += value; sawField = true
            default: break
            }
        }
        return nil
    }

    /// Messages until `done` says stop, the stream ends, or `deadline` seconds pass: it
    /// returns by then whatever the server sends.
    func read(for deadline: Double, until done: (Message) -> Bool) async -> [Message] {
        let end = Date().timeIntervalSince1970 + deadline
        var out: [Message] = []
        while let message = await next(until: end) {
            out.append(message)
            if done(message) { break }
        }
        return out
    }
}
