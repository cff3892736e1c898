import Foundation
import HTTPTypes
import Logging
import Synchronization
import HummingbirdTesting
import JSONValue
import NIOCore
import Resonance
@testable import ResonanceServer
import Testing

/// Keys, path abuse and body limits.
@Suite struct SecurityTests {
    static let document = #"["start", {"uid": "0f0f0f0f-0000-4000-8000-000000000001", "time": 1700000000.0, "plan_name": "count", "sample": "PS"}]"#

    @Test func keysAreStoredAsHashesAndVerifiedByName() throws {
        let fixture = try Fixture()
        let store = KeyStore(root: fixture.root)
        let key = try store.add(name: "recorder")
        #expect(key.hasPrefix("rk_") && key.count == 3 + 64)
        let file = try String(contentsOfFile: fixture.root + "/.resonance-keys.json", encoding: .utf8)
        #expect(!file.contains(key.dropFirst(3)))
        #expect(file.contains("recorder"))
        var info = stat()
        stat(fixture.root + "/.resonance-keys.json", &info)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(store.verify(key) == "recorder")
        #expect(store.verify(key + "0") == nil)
        #expect(store.verify("") == nil)
        #expect(throws: KeyStore.KeyError.self) { try store.add(name: "recorder") }
        try store.remove(name: "recorder")
        #expect(KeyStore(root: fixture.root).verify(key) == nil)
        #expect(throws: KeyStore.KeyError.self) { try store.remove(name: "recorder") }
    }

    @Test func writesAlwaysNeedAKeyAndEveryRefusalIsTheSame() async throws {
        let fixture = try Fixture()
        let key = try KeyStore(root: fixture.root).add(name: "recorder")
        let app = try fixture.server().makeApplication()
        try await app.test(.router) { client async throws in
            let body = ByteBuffer(string: Self.document + "\n")
            var refusals: [String] = []
            for header in [nil, "Bearer wrong", "Bearer " + key + "x", "Basic abc", "Bearer"] as [String?] {
                var headers: HTTPFields = [:]
                if let header { headers[.authorization] = header }
                let response = try await client.execute(uri: "/api/beamtimes/bt1/documents", method: .post, headers: headers, body: body)
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] != nil)
                refusals.append(String(buffer: response.body))
            }
            #expect(Set(refusals).count == 1)   // nothing says which part was wrong
            let ok = try await client.execute(uri: "/api/beamtimes/bt1/documents", method: .post, headers: [.authorization: "Bearer " + key], body: body)
            #expect(ok.status == .ok)
            #expect(try json(ok)["runs"]?.intValue == 1)
            #expect(try json(ok)["open_runs"]?.arrayValue?.count == 1)
            // Reads need no key without --require-key; a wrong key is still refused.
            #expect(try await client.execute(uri: "/api/beamtimes", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/api/beamtimes", method: .get, headers: [.authorization: "Bearer nope"]).status == .unauthorized)
        }
    }

    @Test func requireKeyGuardsReadsToo() async throws {
        let fixture = try Fixture()
        let key = try KeyStore(root: fixture.root).add(name: "viewer")
        let app = try fixture.server(requireKey: true).makeApplication()
        try await app.test(.router) { client async throws in
            #expect(try await client.execute(uri: "/api/beamtimes", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/api/runs/aaaa1111", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/api/beamtimes", method: .get, headers: [.authorization: "Bearer " + key]).status == .ok)
            #expect(try await client.execute(uri: "/api/beamtimes", method: .get, headers: [.authorization: "Apikey " + key]).status == .ok)
            #expect(try await client.execute(uri: "/api/beamtimes?api_key=" + key, method: .get).status == .ok)
        }
    }

    /// The Tiled client reads `/api/v1/` before it sends its key: that one read is open
    /// under `--require-key`, and it holds no data; Tiled's data and the API's are not.
    @Test func underRequireKeyOnlyTiledsAPIDescriptionIsOpen() async throws {
        let fixture = try Fixture()
        let key = try KeyStore(root: fixture.root).add(name: "tiled")
        let app = ServerApplication(configuration: try fixture.configuration(requireKey: true), routeGroups: [TiledRoutes()]).makeApplication()
        try await app.test(.router) { client async throws in
            let about = try await client.execute(uri: "/api/v1/", method: .get)
            #expect(about.status == .ok)
            #expect(try json(about)["authentication"]?["required"] == true)
            for uri in ["/api/v1/search/", "/api/v1/search/bt1", "/api/v1/metadata/bt1", "/api/beamtimes"] {
                let refused = try await client.execute(uri: uri, method: .get)
                #expect(refused.status == .unauthorized, "\(uri)")
            }
            for uri in ["/api/v1/search/", "/api/v1/search/bt1", "/api/v1/metadata/bt1"] {
                let answered = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Apikey " + key])
                #expect(answered.status == .ok, "\(uri): \(String(buffer: answered.body))")
            }
            #expect(try await client.execute(uri: "/api/beamtimes", method: .get, headers: [.authorization: "Bearer " + key]).status == .ok)
        }
    }

    /// The viewer sends its key in the URL (`api_key=`): the request log shows the query with
    /// that value replaced, whether the key is right, wrong, or its name percent-encoded.
    @Test func theRequestLogNeverPrintsAKey() async throws {
        let fixture = try Fixture()
        let key = try KeyStore(root: fixture.root).add(name: "viewer")
        let wrong = "rk_" + String(repeating: "7", count: 64)
        let log = CapturedLog()
        let logger = Logger(label: "request-log-test") { _ in log.handler }
        let app = ServerApplication(configuration: try fixture.configuration(), logger: logger).makeApplication()
        try await app.test(.router) { client async throws in
            #expect(try await client.execute(uri: "/api/beamtimes?api_key=\(key)&sample=PS", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/api/beamtimes?api_key=\(wrong)", method: .get).status == .unauthorized)
            _ = try await client.execute(uri: "/api/beamtimes?x=1&API%5Fkey=\(key)", method: .get)
        }
        let lines = log.lines.withLock { $0 }
        let requests = lines.filter { $0.hasPrefix("GET /api/beamtimes") }
        #expect(requests.count == 3, "\(lines)")
        #expect(requests.first?.hasPrefix("GET /api/beamtimes?api_key=REDACTED&sample=PS 200 ") == true, "\(requests)")
        #expect(requests.first?.hasSuffix("ms key=viewer") == true, "the name, not the key: \(requests)")
        #expect(requests.dropFirst().first?.hasPrefix("GET /api/beamtimes?api_key=REDACTED 401 ") == true, "\(requests)")
        #expect(requests.last?.hasPrefix("GET /api/beamtimes?x=1&API%5Fkey=REDACTED ") == true, "\(requests)")
        for secret in [String(key.dropFirst(3)), String(wrong.dropFirst(3))] {
            #expect(!lines.contains { $0.contains(secret) }, "\(lines)")
        }
    }

    @Test func keyTimingDoesNotDependOnHowMuchOfTheKeyIsRight() throws {
        let fixture = try Fixture()
        let store = KeyStore(root: fixture.root)
        let key = try store.add(name: "k")
        _ = store.verify(key)
        let wrongEarly = "x" + key.dropFirst()
        let wrongLate = key.dropLast() + "x"
        func time(_ candidate: String) -> Double {
            var best = Double.infinity
            for _ in 0..<15 {
                let start = ContinuousClock.now
                for _ in 0..<2000 { _ = store.verify(candidate) }
                let elapsed = ContinuousClock.now - start
                best = min(best, Double(elapsed.components.attoseconds) * 1e-18 + Double(elapsed.components.seconds))
            }
            return best
        }
        let early = time(String(wrongEarly)), late = time(String(wrongLate)), right = time(key)
        // The presented key is hashed first: the comparison sees digests, so how many leading
        // characters are right cannot show. Allow generous noise on a shared machine.
        #expect(abs(early - late) / max(early, late) < 0.5, "early \(early) late \(late)")
        #expect(abs(early - right) / max(early, right) < 0.5, "early \(early) right \(right)")
    }

    @Test func pathAbuseIsRefusedBeforeRouting() {
        #expect(PathGuardProbe.status("/api/beamtimes/../../etc/passwd/runs") == 400)
        #expect(PathGuardProbe.status("/api/beamtimes/%2e%2e/runs") == 400)
        #expect(PathGuardProbe.status("/api/beamtimes/%2E./runs") == 400)
        #expect(PathGuardProbe.status("/api/beamtimes/bt1%00/runs") == 400)
        #expect(PathGuardProbe.status("/api/beamtimes/a%2fb/runs") == 400)
        #expect(PathGuardProbe.status("/api/beamtimes/" + String(repeating: "a", count: 600) + "/runs") == 414)
        #expect(PathGuardProbe.status("/api/x?" + String(repeating: "a", count: 5000)) == 414)
        #expect(PathGuardProbe.status("/api/beamtimes/bt1/runs?sample=..") == nil)   // a value, not a path
        #expect(PathGuardProbe.status("/api/beamtimes/bt1/runs") == nil)
    }

    @Test func pathAbuseOverASocketGetsAClearStatus() async throws {
        let fixture = try Fixture()
        let app = try fixture.server().makeApplication()
        try await app.test(.live) { client async throws in
            let port = try #require(client.port)
            for target in ["/api/beamtimes/../bt1/runs", "/api/beamtimes/%2e%2e/runs", "/api/runs/%00aaaa1111",
                           "/api/runs/aaaa1111/frames/..%2f..%2fetc/0"] {
                let response = try await RawHTTP.request(port: port, "GET", target)
                #expect(response.status == 400, "\(target)")
                #expect(response.headers["content-type"] == "application/problem+json")
            }
            let long = try await RawHTTP.request(port: port, "GET", "/api/runs/" + String(repeating: "a", count: 5000))
            #expect(long.status == 414)
            // Labels are looked up, never joined into paths: a label that names a file elsewhere is just unknown.
            #expect(try await RawHTTP.request(port: port, "GET", "/api/beamtimes/index/runs").status == 404)
            #expect(try await RawHTTP.request(port: port, "GET", "/api/beamtimes/bt1/runs").status == 200)
        }
    }

    @Test func bodiesOverTheLimitGet413AndNothingIsRecorded() async throws {
        let fixture = try Fixture()
        let key = try KeyStore(root: fixture.root).add(name: "recorder")
        let app = try fixture.server(maxBody: 4096).makeApplication()
        try await app.test(.live) { client async throws in
            let port = try #require(client.port)
            let big = Array((String(repeating: Self.document + "\n", count: 100)).utf8)
            let response = try await RawHTTP.request(port: port, "POST", "/api/beamtimes/bt1/documents", headers: ["Authorization": "Bearer " + key], body: big)
            #expect(response.status == 413)
            #expect(response.text.contains("4096"))
            // Chunked, so the length is not known up front: refused while reading.
            let chunked = try RawHTTP(port: port)
            var request = "POST /api/beamtimes/bt1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            for _ in 0..<10 { request += String(1000, radix: 16) + "\r\n" + String(repeating: " ", count: 1000) + "\r\n" }
            request += "0\r\n\r\n"
            try chunked.send(request)
            #expect(try await chunked.readResponse().status == 413)
            let runs = try JSONValue(parsing: try await RawHTTP.request(port: port, "GET", "/api/beamtimes/bt1/runs").text)
            #expect(runs.arrayValue?.count == 2)
        }
    }

    @Test func malformedLinesAreRefusedByNumberAndTheRestRecorded() async throws {
        let fixture = try Fixture()
        let key = try KeyStore(root: fixture.root).add(name: "recorder")
        let app = try fixture.server().makeApplication()
        try await app.test(.router) { client async throws in
            let stop = #"["stop", {"uid": "0f0f0f0f-0000-4000-8000-0000000000ff", "run_start": "0f0f0f0f-0000-4000-8000-000000000001", "time": 1700000001.0, "exit_status": "success"}]"#
            let resource = #"["resource", {"uid": "r1", "spec": "NPY_SEQ", "root": "/etc", "resource_path": "passwd", "resource_kwargs": {}, "run_start": "0f0f0f0f-0000-4000-8000-000000000001"}]"#
            let body = [Self.document, "{not json", resource, #"["nonsense", {}]"#, stop].joined(separator: "\n")
            let response = try await client.execute(uri: "/api/beamtimes/bt1/documents", method: .post,
                                                    headers: [.authorization: "Bearer " + key], body: ByteBuffer(string: body))
            #expect(response.status == .unprocessableContent)
            #expect(response.headers[.contentType] == "application/problem+json")
            let result = try json(response)
            #expect(result["error_count"]?.intValue == 3)
            #expect(result["errors"]?.arrayValue?.compactMap { $0["line"]?.intValue } == [2, 3, 4])
            #expect(result["errors"]?.arrayValue?[1]["detail"]?.stringValue?.contains("--allow-external-files") == true)
            #expect(result["runs"]?.intValue == 1)
            #expect(result["open_runs"] == [])
            let run = try json(try await client.execute(uri: "/api/runs/0f0f0f0f", method: .get))
            #expect(run["exit_status"]?.stringValue == "success")
            // The same documents again: recorded already, nothing refused but the bad lines.
            let again = try json(try await client.execute(uri: "/api/beamtimes/bt1/documents", method: .post,
                                                          headers: [.authorization: "Bearer " + key], body: ByteBuffer(string: Self.document + "\n" + stop)))
            #expect(again["error_count"]?.intValue == 0)
            #expect((again["skipped"]?.intValue ?? 0) >= 1)
        }
    }
}

/// The path guard's verdict on a request target: its status, or nil when it passes.
enum PathGuardProbe {
    static func status(_ target: String) -> Int? {
        PathGuardMiddleware.check(target).map { Int($0.status.code) }
    }
}

/// Keeps every message a logger logs (with its metadata) for a test to read.
final class CapturedLog: Sendable {
    let lines = Mutex<[String]>([])

    /// A handler for `Logger(label:factory:)`; its copies all write here.
    var handler: Handler { Handler(capture: self) }

    struct Handler: LogHandler {
        let capture: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.lines.withLock { $0.append(all.isEmpty ? "\(event.message)" : "\(event.message) \(all)") }
        }
    }
}
