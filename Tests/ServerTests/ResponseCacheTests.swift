import Foundation
import HummingbirdTesting
import JSONValue
import Logging
import NIOCore
import Resonance
import ResonanceServer
import TestSupport
import Testing

/// The response cache keeps what cannot change and nothing else: a live run's metadata
/// and its last frame are read afresh, a frame named by its index and a finished run are
/// served again without the core.
@Suite struct ResponseCacheTests {
    static func frame(_ k: Int) -> Frame<Int32> {
        Frame(rows: 2, columns: 3, pixels: (0..<6).map { Int32(k * 10 + $0) })
    }

    static func pixels(_ k: Int) -> [UInt8] {
        frame(k).pixels.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }

    @Test func keepsWhatCannotChangeAndRereadsALiveRun() async throws {
        let dir = TempDir()
        let writer = RunWriter(dbPath: dir.file("live.db"), sample: SampleMetadata(name: "PS"), options: .init(commitInterval: 0.05))
        try writer.open()
        defer { try? writer.close() }
        let uid = try writer.openRun("count")
        try writer.openStream("primary")
        try writer.writeFrame(eventUID: try writer.writeEvent(["k": 0]), field: "ccd", frame: Self.frame(0))
        try writer.flush()

        var config = ServerConfiguration(root: dir.path)
        config.port = 0
        var logger = Logger(label: "cache-test")
        logger.logLevel = .warning
        let server = ServerApplication(configuration: config, logger: logger)
        let cache = server.environment.responses
        try await server.makeApplication().test(.router) { client async throws in
            func get(_ path: String) async throws -> TestResponse {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .ok, "\(path): \(String(buffer: response.body))")
                return response
            }
            let last = "/api/runs/\(uid)/frames/ccd/-1"
            #expect(Array(buffer: try await get(last).body) == Self.pixels(0))
            #expect(try json(try await get("/api/runs/\(uid)")).objectValue?["num_events"]?.intValue == 1)
            let table = "/api/runs/\(uid)/streams/primary/table"
            #expect(try json(try await get(table))["seq_num"]?.arrayValue?.count == 1)

            // The run goes on: its last frame and its metadata are new, not the kept ones.
            try writer.writeFrame(eventUID: try writer.writeEvent(["k": 1]), field: "ccd", frame: Self.frame(1))
            try writer.flush()
            #expect(Array(buffer: try await get(last).body) == Self.pixels(1))
            #expect(try json(try await get("/api/runs/\(uid)")).objectValue?["num_events"]?.intValue == 2)
            #expect(try json(try await get(table))["seq_num"]?.arrayValue?.count == 2)
            #expect(cache.statistics.entries == 0)

            // A frame by its index is kept from the first answer on, with its headers.
            let first = try await get("/api/runs/\(uid)/frames/ccd/0")
            let again = try await get("/api/runs/\(uid)/frames/ccd/0")
            #expect(Array(buffer: again.body) == Self.pixels(0))
            #expect(again.headers[.init("X-Shape")!] == "2,3")
            #expect(again.headers[.contentType] == first.headers[.contentType])
            #expect(cache.statistics.hits == 1)

            // Finished: the metadata says so (nothing stale was kept), and is kept from now on.
            try writer.closeRun(exitStatus: .success)
            let closed = try json(try await get("/api/runs/\(uid)"))
            #expect(closed["exit_status"]?.stringValue == "success")
            let hitsBefore = cache.statistics.hits
            #expect(try json(try await get("/api/runs/\(uid)")) == closed)
            #expect(cache.statistics.hits == hitsBefore + 1)
            let finalTable = try await get(table + "?format=csv")
            #expect(String(buffer: try await get(table + "?format=csv").body) == String(buffer: finalTable.body))
            #expect(String(buffer: finalTable.body).hasPrefix("seq_num,time,k"))
            #expect(cache.statistics.hits == hitsBefore + 2)
            // A uid prefix is looked up every time (it could come to match a second run).
            _ = try await get("/api/runs/\(uid.prefix(12))")
            _ = try await get("/api/runs/\(uid.prefix(12))")
            #expect(cache.statistics.hits == hitsBefore + 2)
        }
    }

    @Test func identicalRequestsAtOnceBuildTheResponseOnce() async throws {
        let server = try sharedFixture.server()
        let cache = server.environment.responses
        let uri = "/api/runs/\(sharedFixture.nexafsUID)/streams/primary/table?format=csv"
        try await server.makeApplication().test(.router) { client async throws in
            let bodies = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let response = try await client.execute(uri: uri, method: .get)
                        #expect(response.status == .ok)
                        return String(buffer: response.body)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(bodies).count == 1)
            #expect(bodies[0].hasPrefix("seq_num,time,"))
        }
        // One request built it; the seven others got what it kept.
        #expect(cache.statistics.built == 1)
        #expect(cache.statistics.hits == 7)
    }

    @Test func aFullCacheDropsTheLeastRecentlyUsed() async throws {
        var config = try sharedFixture.configuration()
        config.responseCacheBytes = 8192   // room for ~20 regions of a 4x5 frame (80 bytes + 256 each)
        let server = ServerApplication(configuration: config)
        let cache = server.environment.responses
        let frame = "/api/runs/\(sharedFixture.nexafsUID)/frames/ccd/0"
        try await server.makeApplication().test(.router) { client async throws in
            func get(_ query: String) async throws {
                #expect(try await client.execute(uri: frame + query, method: .get).status == .ok)
            }
            try await get("?cols=0:1")
            for k in 0..<40 {
                try await get("?rows=0:1&cols=\(k % 5):\(k % 5 + 1)&k=\(k)")
                try await get("?cols=0:1")   // kept in use: never the least recently used
            }
            #expect(cache.statistics.bytes <= 8192)
            #expect(cache.statistics.entries < 41)
            let built = cache.statistics.built
            try await get("?cols=0:1")
            #expect(cache.statistics.built == built)        // still kept
            try await get("?rows=0:1&cols=0:1&k=0")
            #expect(cache.statistics.built == built + 1)    // the oldest went first
        }
    }

    @Test func aZeroCapacityKeepsNothing() async throws {
        var config = try sharedFixture.configuration()
        config.responseCacheBytes = 0
        let server = ServerApplication(configuration: config)
        try await server.makeApplication().test(.router) { client async throws in
            for _ in 0..<2 {
                let response = try await client.execute(uri: "/api/runs/\(sharedFixture.nexafsUID)/frames/ccd/0", method: .get)
                #expect(response.status == .ok)
            }
        }
        #expect(server.environment.responses.statistics.entries == 0)
        #expect(server.environment.responses.statistics.hits == 0)
    }
}
