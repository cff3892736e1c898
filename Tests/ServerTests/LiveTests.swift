import Foundation
import HummingbirdTesting
import JSONValue
import Logging
import Resonance
import ResonanceServer
import TestSupport
import Testing

/// The live feed over a real socket, with writers in other processes.
@Suite(.serialized) struct LiveTests {
    /// A Python sqlite3 writer (as the beamline's Python software writes): a run, then one
    /// event per commit every `interval` seconds, printing "<seq> <unix time after commit>",
    /// then the stop.
    static let pythonWriter = """
        import sqlite3, sys, time, uuid, json
        db, count, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
        con = sqlite3.connect(db, isolation_level=None)
        con.execute("PRAGMA busy_timeout = 5000")
        run = uuid.uuid4().hex
        stream = uuid.uuid4().hex
        con.execute("BEGIN")
        con.execute("INSERT INTO runs (uid, sample_id, plan_name, time_start, num_events) VALUES (?, NULL, 'py_scan', ?, 0)", (run, time.time()))
        con.execute("INSERT INTO streams (uid, run_uid, name, data_keys, time_created) VALUES (?, ?, 'primary', '{}', ?)", (stream, run, time.time()))
        con.execute("COMMIT")
        print("R", run, time.time(), flush=True)
        for seq in range(1, count + 1):
            time.sleep(interval)
            con.execute("BEGIN")
            con.execute("INSERT INTO events (uid, stream_uid, seq_num, time, data) VALUES (?, ?, ?, ?, ?)",
                        (uuid.uuid4().hex, stream, seq, time.time(), json.dumps({"energy": 280 + seq})))
            con.execute("COMMIT")
            print(seq, time.time(), flush=True)
        time.sleep(interval)
        con.execute("UPDATE runs SET time_stop = ?, exit_status = 'success', num_events = ? WHERE uid = ?", (time.time(), count, run))
        print("S", time.time(), flush=True)
        """

    static func makeBeamtime(_ path: String) throws {
        let writer = RunWriter(dbPath: path, sample: SampleMetadata(name: "PS"))
        try writer.open()
        try writer.close()
    }

    static func liveConfiguration(_ fixture: Fixture) throws -> ServerConfiguration {
        var config = try fixture.configuration()
        config.rescanInterval = .milliseconds(200)
        return config
    }

    @Test func aWriterInAnotherProcessIsSeenWithin250ms() async throws {
        let fixture = try Fixture()
        try Self.makeBeamtime(fixture.root + "/live.db")
        let app = ServerApplication(configuration: try Self.liveConfiguration(fixture)).makeApplication()
        try await app.test(.live) { client async throws in
            let port = try #require(client.port)
            let sse = try await SSEReader(port: port, query: "?beamtime=live")
            #expect(sse.status == 200)
            #expect(sse.headers["content-type"] == "text/event-stream")
            let count = 20
            let writer = try startCommand("/usr/bin/env", ["python3", "-c", Self.pythonWriter, fixture.root + "/live.db", String(count), "0.1"])
            let messages = await sse.read(for: 15) { $0.event == "run_closed" }
            let result = writer.wait()
            #expect(result.status == 0, "\(result.stderr)")
            var committed: [Int: Double] = [:]
            var stop = 0.0
            for line in result.stdout.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts[0] == "S" { stop = Double(parts[1])! }
                if let seq = Int(parts[0]) { committed[seq] = Double(parts[1])! }
            }
            #expect(messages.first?.event == "run_opened")
            let events = messages.filter { $0.event == "events" }
            // Every event is announced exactly once, in order.
            let seqs = events.flatMap { m in (Int(m.data["first_seq"]!.intValue!)...Int(m.data["last_seq"]!.intValue!)) }
            #expect(seqs == Array(1...count))
            var latencies: [Double] = []
            for message in events {
                let last = Int(message.data["last_seq"]!.intValue!)
                latencies.append(message.received - committed[last]!)
            }
            let closed = try #require(messages.last)
            #expect(closed.event == "run_closed")
            latencies.append(closed.received - stop)
            let ids = messages.compactMap(\.id)
            #expect(ids == ids.sorted() && Set(ids).count == ids.count)
            latencies.sort()
            let report = "live feed latency over \(latencies.count) commits: median \(Int(latencies[latencies.count / 2] * 1000)) ms, max \(Int(latencies.last! * 1000)) ms"
            print(report)
            #expect(latencies.last! < 0.25, "\(report)")
        }
    }

    @Test func lastEventIDReplaysWhatWasMissedAndNothingTwice() async throws {
        let fixture = try Fixture()
        try Self.makeBeamtime(fixture.root + "/live.db")
        let app = ServerApplication(configuration: try Self.liveConfiguration(fixture)).makeApplication()
        try await app.test(.live) { client async throws in
            let port = try #require(client.port)
            var first: SSEReader? = try await SSEReader(port: port)
            let writer = try startCommand("/usr/bin/env", ["python3", "-c", Self.pythonWriter, fixture.root + "/live.db", "30", "0.05"])
            let before = await first!.read(for: 10) { $0.event == "events" && $0.data["last_seq"]!.intValue! >= 5 }
            first = nil   // disconnect mid-run
            let lastID = try #require(before.last?.id)
            let lastSeq = try #require(before.last?.data["last_seq"]?.intValue)
            _ = writer.wait()
            try await Task.sleep(for: .milliseconds(300))
            let again = try await SSEReader(port: port, lastEventID: lastID)
            let replayed = await again.read(for: 5) { $0.event == "run_closed" }
            #expect(replayed.first?.id == lastID + 1)
            let seqs = replayed.filter { $0.event == "events" }.flatMap { m in (Int(m.data["first_seq"]!.intValue!)...Int(m.data["last_seq"]!.intValue!)) }
            #expect(seqs == Array(Int(lastSeq + 1)...30))
            #expect(replayed.last?.event == "run_closed")

            // An id from before this server's history: told to reload.
            let stale = try await SSEReader(port: port, lastEventID: 5)
            let reset = try #require(await stale.next())
            #expect(reset.event == "reset")
            let bad = try await RawHTTP.request(port: port, "GET", "/api/live", headers: ["Last-Event-ID": "abc"])
            #expect(bad.status == 400)
        }
    }

    /// A scan can meet a new beamtime between its creation and its schema's commit: a WAL
    /// file of one 4 KiB header and no tables, refused. Its writer then commits only to the
    /// `-wal`, leaving the `.db` as it was until a checkpoint: the next scans must still see it.
    @Test func aBeamtimeRefusedWhileBeingCreatedIsServedOnceItsWriterCommits() throws {
        let dir = TempDir()
        let path = dir.file("fresh.db")
        // What a writer's first moment leaves: WAL mode set (the header written), no tables yet.
        try runPython("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL'); c.close()", [path])
        let registry = BeamtimeRegistry(root: dir.path, logger: Logger(label: "registry-test"))
        #expect(registry.scan() == [])
        let before = try FileManager.default.attributesOfItem(atPath: path)
        let writer = RunWriter(dbPath: path, sample: SampleMetadata(name: "PS"))
        try writer.open()
        defer { try? writer.close() }
        _ = try writer.openRun("scan")
        try writer.flush()
        // The scenario is real: the schema and the run went to the -wal, the .db is untouched.
        let after = try FileManager.default.attributesOfItem(atPath: path)
        #expect(after[.size] as? NSNumber == before[.size] as? NSNumber)
        #expect(after[.modificationDate] as? Date == before[.modificationDate] as? Date)
        #expect(registry.scan() == ["fresh"])
    }

    @Test func aNewBeamtimeIsFoundAndAnnounced() async throws {
        let fixture = try Fixture()
        let app = ServerApplication(configuration: try Self.liveConfiguration(fixture)).makeApplication()
        try await app.test(.live) { client async throws in
            let port = try #require(client.port)
            let sse = try await SSEReader(port: port)
            let writer = try startCommand(builtExecutable("ResonanceFaultWriter"), [fixture.root + "/fresh.db", "events", "0.02"])
            defer { writer.stop() }
            let messages = await sse.read(for: 10) { $0.event == "events" }
            #expect(messages.first?.event == "beamtime_added")
            #expect(messages.first?.data["beamtime"]?.stringValue == "fresh")
            #expect(messages.contains { $0.event == "run_opened" && $0.data["plan_name"]?.stringValue == "fault_scan" })
            let list = try JSONValue(parsing: try await RawHTTP.request(port: port, "GET", "/api/beamtimes").text)
            #expect(list.arrayValue?.contains { $0["label"]?.stringValue == "fresh" } == true)
        }
    }
}
