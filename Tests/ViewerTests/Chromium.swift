// A headless Chromium driven over the DevTools protocol, for the viewer's browser test.
//
// The protocol goes through `--remote-debugging-pipe` (the browser reads commands on fd 3
// and writes answers on fd 4, each a JSON message ended by a NUL), not a WebSocket: no
// port is opened and nothing but Foundation and posix_spawn is needed. Every wait is
// bounded; `close()` ends the browser's whole process group.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct BrowserError: Error, CustomStringConvertible {
    var description: String
}

final class Chromium {
    let pid: pid_t
    private let commands: Int32   // our end of the browser's fd 3
    private let answers: Int32    // our end of the browser's fd 4
    private var buffer: [UInt8] = []
    private var nextID = 0
    private var sessionID: String?
    private let profile: String
    let logPath: String
    private var closed = false

    /// The Chromium to use: $RESONANCE_CHROMIUM, else `chromium` (Debian) or
    /// `chromium-browser` on the PATH.
    static func executable() -> String? {
        if let path = ProcessInfo.processInfo.environment["RESONANCE_CHROMIUM"], !path.isEmpty { return path }
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser"] {
            for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
                return "\(folder)/\(name)"
            }
        }
        return nil
    }

    /// Starts the browser headless, in a process group of its own, with a fresh profile in
    /// `profile`. Host names other than 127.0.0.1 do not resolve: the page may load nothing
    /// from outside the server (no CDN, no fonts), and a test would see it fail if it tried.
    init(executable: String, profile: String, width: Int = 1440, height: Int = 900) throws {
        self.profile = profile
        logPath = profile + "/chromium.log"
        var toBrowser: [Int32] = [-1, -1], fromBrowser: [Int32] = [-1, -1]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw BrowserError(description: "pipe: \(String(cString: strerror(errno)))") }
        // Above fd 10 first, so the dup2 onto 3 and 4 below cannot overwrite one another.
        func high(_ fd: Int32) -> Int32 {
            let moved = fcntl(fd, F_DUPFD_CLOEXEC, 10)
            Glibc.close(fd)
            return moved
        }
        let childReads = high(toBrowser[0]), childWrites = high(fromBrowser[1])
        commands = high(toBrowser[1])
        answers = high(fromBrowser[0])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, childReads, 3)
        posix_spawn_file_actions_adddup2(&actions, childWrites, 4)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let arguments = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
            "--user-data-dir=\(profile)/profile", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--disable-component-update", "--disable-default-apps", "--disable-dev-shm-usage",
            "--mute-audio", "--hide-scrollbars", "--password-store=basic",
            "--window-size=\(width),\(height)", "--force-device-scale-factor=1",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            "about:blank",
        ]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        Glibc.close(childReads)
        Glibc.close(childWrites)
        guard status == 0 else {
            Glibc.close(commands)
            Glibc.close(answers)
            throw BrowserError(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
        // A browser that dies must not kill the test with SIGPIPE when we write.
        signal(SIGPIPE, SIG_IGN)
    }

    deinit { close() }

    // MARK: the protocol

    /// Sends one command and waits (at most `timeout` seconds) for its answer; events that
    /// arrive meanwhile are dropped.
    @discardableResult
    func send(_ method: String, _ params: [String: Any] = [:], session: Bool = true, timeout: Double = 15) throws -> [String: Any] {
        nextID += 1
        let id = nextID
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if session, let sessionID { message["sessionId"] = sessionID }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(commands, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw BrowserError(description: "chromium stopped reading commands (\(method)); its log:\n\(log())") }
                offset += n
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let answer = try readMessage(until: deadline, waitingFor: method)
            guard answer["id"] as? Int == id else { continue }
            if let error = answer["error"] as? [String: Any] {
                throw BrowserError(description: "\(method): \(error["message"] ?? error)")
            }
            return answer["result"] as? [String: Any] ?? [:]
        }
    }

    private func readMessage(until deadline: Date, waitingFor method: String) throws -> [String: Any] {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let data = Data(buffer[..<end])
                buffer.removeSubrange(...end)
                return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw BrowserError(description: "no answer from chromium to \(method) in time") }
            var poller = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left, 1) * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = read(answers, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BrowserError(description: "chromium closed the protocol pipe (waiting for \(method)); its log:\n\(log())") }
            buffer += chunk[..<n]
        }
    }

    // MARK: pages

    /// Opens a tab on `url`, attaches to it, and sizes its viewport.
    func open(_ url: String, width: Int = 1440, height: Int = 900, colorScheme: String = "dark") throws {
        let target = try send("Target.createTarget", ["url": "about:blank"], session: false)
        guard let targetID = target["targetId"] as? String else { throw BrowserError(description: "Target.createTarget gave no targetId") }
        let attached = try send("Target.attachToTarget", ["targetId": targetID, "flatten": true], session: false)
        sessionID = attached["sessionId"] as? String
        try send("Page.enable")
        try send("Emulation.setDeviceMetricsOverride", ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": false])
        try setColorScheme(colorScheme)
        try send("Page.navigate", ["url": url])
    }

    func setColorScheme(_ scheme: String) throws {
        try send("Emulation.setEmulatedMedia", ["features": [["name": "prefers-color-scheme", "value": scheme]]])
    }

    /// The value of a JavaScript expression (awaited when it is a promise), as JSON gives it.
    func evaluate(_ expression: String) throws -> Any? {
        let result = try send("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
        if let exception = result["exceptionDetails"] as? [String: Any] {
            let text = ((exception["exception"] as? [String: Any])?["description"] as? String) ?? (exception["text"] as? String) ?? "\(exception)"
            throw BrowserError(description: "JavaScript threw: \(text)\n  in: \(expression)")
        }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Waits until `expression` is truthy; returns the seconds it took. Throws, naming
    /// `what`, after `timeout` seconds.
    @discardableResult
    func waitFor(_ expression: String, timeout: Double, _ what: String) throws -> Double {
        let started = Date()
        while true {
            if try evaluate("!!(\(expression))") as? Bool == true { return Date().timeIntervalSince(started) }
            guard Date().timeIntervalSince(started) < timeout else {
                throw BrowserError(description: "timed out after \(timeout) s waiting for \(what)  [\(expression)]")
            }
            usleep(100_000)
        }
    }

    /// Types one key (keydown and keyup) into the focused element.
    func press(_ key: String, code: String? = nil, keyCode: Int? = nil) throws {
        var params: [String: Any] = ["type": "keyDown", "key": key]
        if key.count == 1 { params["text"] = key }
        if let code { params["code"] = code }
        if let keyCode { params["windowsVirtualKeyCode"] = keyCode }
        try send("Input.dispatchKeyEvent", params)
        params["type"] = "keyUp"
        params["text"] = nil
        try send("Input.dispatchKeyEvent", params)
    }

    /// A PNG of the viewport, written to `path`.
    func screenshot(_ path: String) throws {
        let shot = try send("Page.captureScreenshot", ["format": "png"], timeout: 30)
        guard let base64 = shot["data"] as? String, let png = Data(base64Encoded: base64) else {
            throw BrowserError(description: "Page.captureScreenshot gave no image")
        }
        try png.write(to: URL(fileURLWithPath: path))
    }

    func log() -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(30).joined(separator: "\n")
    }

    // MARK: the end

    /// Asks the browser to quit, waits up to 5 s, then kills its process group.
    func close() {
        guard !closed else { return }
        closed = true
        _ = try? send("Browser.close", session: false, timeout: 3)
        let deadline = Date().addingTimeInterval(5)
        var status: Int32 = 0
        var reaped = false
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { reaped = true; break }
            usleep(50_000)
        }
        kill(-pid, SIGKILL)   // the renderers, the zygote, the crash handler
        if !reaped {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
        }
        Glibc.close(commands)
        Glibc.close(answers)
    }
}

// MARK: sockets

/// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick for port 0).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BrowserError(description: "socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = loopback(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw BrowserError(description: "bind: \(String(cString: strerror(errno)))") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts connections on 127.0.0.1:`port`.
func loopbackAccepts(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}
