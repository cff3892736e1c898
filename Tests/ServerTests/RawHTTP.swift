import Foundation

/// A plain HTTP/1.1 client on a loopback socket, for what higher-level clients refuse to
/// send (`..`, NUL, a half-sent request) and for reading a never-ending SSE stream line by
/// line. Reads never block a thread: the socket is polled (MSG_DONTWAIT, 1 ms sleeps),
/// since an in-process server and these tests share Swift's small cooperative pool.
final class RawHTTP {
    let fd: Int32
    private var buffer: [UInt8] = []

    struct Failure: Error, CustomStringConvertible { var description: String }

    init(port: Int, timeout: Double = 30) throws {
        self.timeout = timeout
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): \(message)")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    private var timeout: Double = 30

    /// Reads more bytes; false at the end of the stream, or when nothing came by `end`
    /// (Unix seconds; the client's timeout from now when nil).
    private func fill(until end: Double? = nil) async -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let end = end ?? Date().timeIntervalSince1970 + timeout
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 {
                buffer += chunk[0..<n]
                return true
            }
            if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { return false }
            if Date().timeIntervalSince1970 > end { return false }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// One line without its CRLF / LF, or nil at the end, or when no whole line came by
    /// `end` (Unix seconds; with nil, each read waits up to the client's timeout).
    func readLine(until end: Double? = nil) async -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard await fill(until: end) else { return nil }
        }
    }

    /// Exactly `count` bytes, or nil at the end or when they did not all come by `end`
    /// (then nothing is consumed, so a later call can still read them).
    func read(count: Int, until end: Double? = nil) async -> [UInt8]? {
        while buffer.count < count {
            guard await fill(until: end) else { return nil }
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Reads the status line and headers.
    func readHead() async throws -> (Int, [String: String]) {
        guard let statusLine = await readLine() else { throw Failure(description: "no response (connection closed or timed out)") }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "bad status line \(statusLine.debugDescription)") }
        var headers: [String: String] = [:]
        while let line = await readLine(), !line.isEmpty {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return (status, headers)
    }

    /// Reads one whole response (Content-Length or chunked).
    func readResponse() async throws -> Response {
        let (status, headers) = try await readHead()
        var body: [UInt8] = []
        if let length = headers["content-length"].flatMap({ Int($0) }) {
            while buffer.count < length { guard await fill() else { throw Failure(description: "body cut short") } }
            body = Array(buffer[..<length])
            buffer.removeFirst(length)
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                guard let sizeLine = await readLine(), let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
                    throw Failure(description: "bad chunk")
                }
                if size == 0 { _ = await readLine(); break }
                while buffer.count < size + 2 { guard await fill() else { throw Failure(description: "chunk cut short") } }
                body += buffer[..<size]
                buffer.removeFirst(size + 2)
            }
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// Sends a GET (or other) request and reads the response, waiting up to `timeout`
    /// seconds for each read.
    static func request(port: Int, _ method: String = "GET", _ target: String, headers: [String: String] = [:], body: [UInt8] = [],
                        timeout: Double = 30) async throws -> Response {
        let client = try RawHTTP(port: port, timeout: timeout)
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        try client.send(Array((head + "\r\n").utf8) + body)
        return try await client.readResponse()
    }

    /// True when the server closed the connection (a read returns 0) within the timeout.
    func waitClosed() async -> Bool {
        var byte: UInt8 = 0
        let end = Date().timeIntervalSince1970 + timeout
        while Date().timeIntervalSince1970 < end {
            let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
            if n == 0 { return true }
            if n < 0, errno != EAGAIN, errno != EWOULDBLOCK { return errno == ECONNRESET }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }
}
