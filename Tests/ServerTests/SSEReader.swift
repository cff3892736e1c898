import Foundation
import JSONValue

/// Reads `GET /api/live` over a raw socket: each message with its id, event name, data and
/// the wall-clock time it arrived.
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

    init(port: Int, query: String = "", lastEventID: UInt64? = nil, timeout: Double = 5) throws {
        client = try RawHTTP(port: port, timeout: timeout)
        var request = "GET /api/live\(query) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if let lastEventID { request += "Last-Event-ID: \(lastEventID)\r\n" }
        try client.send(request + "\r\n")
        (status, headers) = try client.readHead()
        chunked = headers["transfer-encoding"]?.lowercased() == "chunked"
    }

    private let chunked: Bool
    private var pending: [String] = []

    /// Lines of the event stream, undoing chunked framing.
    private func nextLine() -> String? {
        if !pending.isEmpty { return pending.removeFirst() }
        guard chunked else { return client.readLine() }
        while true {
            guard let sizeLine = client.readLine() else { return nil }
            if sizeLine.isEmpty { continue }
            guard let size = Int(sizeLine, radix: 16) else { return nil }
            if size == 0 { return nil }
            var text = ""
            while text.utf8.count < size {
                guard let line = client.readLine() else { return nil }
                text += line + "\n"
            }
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            pending += lines
            if !pending.isEmpty { return pending.removeFirst() }
        }
    }

    /// The next message (comments skipped), or nil when the stream ends or times out.
    func next() -> Message? {
        var id: UInt64?, event = "message", data = ""
        var sawField = false
        while let line = nextLine() {
            if line.isEmpty {
                if sawField, !data.isEmpty {
                    return Message(id: id, event: event, data: (try? JSONValue(parsing: data)) ?? .string(data), received: Date().timeIntervalSince1970)
                }
                id = nil; event = "message"; data = ""; sawField = false
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

    /// Messages until `done` says stop (or `deadline` seconds pass).
    func read(for deadline: Double, until done: (Message) -> Bool) -> [Message] {
        let end = Date().timeIntervalSince1970 + deadline
        var out: [Message] = []
        while Date().timeIntervalSince1970 < end, let message = next() {
            out.append(message)
            if done(message) { break }
        }
        return out
    }
}
