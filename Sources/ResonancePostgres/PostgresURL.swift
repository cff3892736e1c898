import Foundation
import PostgresNIO
import Resonance

/// A parsed `postgres://user[:password]@host[:port]/database[?host=/socket/dir]` URL, with
/// what the URL leaves out filled in as libpq does: `PGUSER`, `PGHOST`, `PGPORT`,
/// `PGDATABASE`, and the password from the URL, else `PGPASSWORD`, else the password
/// file (`PGPASSFILE`, default `~/.pgpass`). The password is never part of ``redacted``.
public struct PostgresURL: Sendable {
    /// The URL as given (may hold a password: never print it).
    public private(set) var text: String
    /// The URL for messages: ``IndexLocation/redacted(_:)``.
    public var redacted: String { IndexLocation.redacted(text) }
    public var user: String
    /// A TCP host, or nil when ``socketDirectory`` is set.
    public var host: String?
    /// The folder of a Unix-domain socket (`?host=/run/postgresql`, or a host starting with `/`).
    public var socketDirectory: String?
    public var port: Int
    public var database: String
    var password: String?

    /// Parses `text`, reading the environment for what it leaves out.
    ///
    /// Throws ``PostgresIndexError`` (`.invalidURL`) naming the redacted URL.
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.text = text
        let redactedText = IndexLocation.redacted(text)
        func invalid(_ reason: String) -> PostgresIndexError {
            PostgresIndexError(location: redactedText, problem: .invalidURL(reason: reason))
        }
        guard IndexLocation.isPostgresURL(text), let schemeEnd = text.range(of: "://") else {
            throw invalid("not a postgres:// or postgresql:// URL")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var parameters: [String: String] = [:]
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
                let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
                parameters[key] = value
            }
            rest = rest[..<q]
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let pathPart = rest[authorityEnd...].drop(while: { $0 == "/" })
        var user: String?
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                user = String(userInfo[..<colon]).removingPercentEncoding
                password = String(userInfo[userInfo.index(after: colon)...]).removingPercentEncoding
            } else {
                user = String(userInfo).removingPercentEncoding
            }
            authority = authority[authority.index(after: at)...]
        }
        var host: String?
        var port: Int?
        if authority.hasPrefix("[") {  // [::1]:5432
            guard let close = authority.firstIndex(of: "]") else { throw invalid("an IPv6 host needs its closing ]") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = Int(after.dropFirst()) ?? -1 }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon]).removingPercentEncoding
            port = Int(authority[authority.index(after: colon)...]) ?? -1
        } else if !authority.isEmpty {
            host = String(authority).removingPercentEncoding
        }
        if let p = parameters["port"] { port = Int(p) ?? -1 }
        if let h = parameters["host"] { host = h }
        if let u = parameters["user"] { user = u }
        if let p = parameters["password"] { password = p }
        if port == -1 { throw invalid("the port is not a number") }

        self.user = (user?.isEmpty == false ? user : nil) ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        self.port = port ?? environment["PGPORT"].flatMap { Int($0) } ?? 5432
        guard (1...65535).contains(self.port) else { throw invalid("port \(self.port) is out of range") }
        let resolvedHost = (host?.isEmpty == false ? host : nil) ?? environment["PGHOST"] ?? "localhost"
        if resolvedHost.hasPrefix("/") {
            socketDirectory = resolvedHost
            self.host = nil
        } else {
            socketDirectory = nil
            self.host = resolvedHost
        }
        let path = String(pathPart).removingPercentEncoding ?? String(pathPart)
        database = path.isEmpty ? (environment["PGDATABASE"] ?? self.user) : path
        self.password = password ?? environment["PGPASSWORD"]
            ?? Self.passwordFromFile(environment: environment, host: resolvedHost, port: self.port, database: database, user: self.user)
    }

    /// The password file's entry for this connection (libpq's rules: `host:port:db:user:password`,
    /// `*` matches anything, `\:` and `\\` escape; the first matching line wins; a socket
    /// connection matches `localhost`).
    static func passwordFromFile(environment: [String: String], host: String, port: Int, database: String, user: String) -> String? {
        let path = environment["PGPASSFILE"] ?? (environment["HOME"].map { $0 + "/.pgpass" } ?? "")
        guard !path.isEmpty, let contents = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let hostName = host.hasPrefix("/") ? "localhost" : host
        for line in contents.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            var fields: [String] = []
            var field = ""
            var escaped = false
            for c in line {
                if escaped {
                    field.append(c)
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == ":" && fields.count < 4 {
                    fields.append(field)
                    field = ""
                } else {
                    field.append(c)
                }
            }
            fields.append(field)
            guard fields.count == 5 else { continue }
            let wanted = [hostName, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    /// The same server and credentials, another database (tests create their own).
    public func withDatabase(_ name: String) -> PostgresURL {
        var copy = self
        copy.database = name
        let server = socketDirectory.map { "/\(name)?host=\($0)&port=\(port)" } ?? "\(host ?? "localhost"):\(port)/\(name)"
        copy.text = "postgres://\(user)@" + server  // the password stays in `password` only
        return copy
    }

    var configuration: PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketDirectory {
            configuration = .init(
                unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            configuration = .init(host: host ?? "localhost", port: port, username: user, password: password, database: database, tls: .disable)
        }
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }
}
