import Foundation
import JSONValue
import Resonance
import TestSupport
import Testing

/// Tiled's own Python client (tiled 0.2.20, scripts/setup.sh) against `resonance serve`:
/// the example of docs/tiled.md line by line, unknown keys, a run and a beamtime deleted
/// while browsed, a live run growing between two reads, a wrong key; every value compared
/// with what the Catalog reads, bit for bit (python/tiled_client_check.py does the client
/// side).
@Suite(.serialized)
struct TiledClientTests {
    static let label = "2026-03-05"

    @Test func tiledClientReadsWhatTheCatalogReads() throws {
        let dir = TempDir()
        let root = try dir.makeFolder("root")
        let markers = try dir.makeFolder("markers")
        let beamtime = try TiledBeamtimes.write(root: root, label: Self.label)
        let scratchUID = try TiledBeamtimes.writeScratch(root: root)
        let live = try TiledBeamtimes.startLive(root: root)
        defer { try? live.writer.close() }

        // The Catalog's values: what the client must get back.
        let catalog = try Catalog(dbPath: root + "/\(Self.label).db").open()
        let run = try catalog.run(beamtime.mainUID)
        let table = try run.table(stream: "primary")
        var columns = JSONObject()
        columns["time"] = ["dtype": "float64", "values": .array(table.times.map(JSONValue.double))]
        columns["energy"] = ["dtype": "float64", "values": .array(try table.doubles("energy").map { $0.map(JSONValue.double) ?? .null })]
        columns["i0"] = ["dtype": "int64", "values": .array(try table.int64s("i0").map { .int($0!) })]
        columns["flag"] = ["dtype": "bool", "values": .array(try table.bools("flag").map { .bool($0!) })]
        let notes = try table.strings("note").map { $0! }
        let longest = notes.map(\.unicodeScalars.count).max()!
        columns["note"] = ["dtype": .string("<U\(longest)"), "values": .array(notes.map(JSONValue.string))]
        let frames = try run.frames(field: "detector_image")
        let block = try frames.frames(0..<frames.count)
        let framesPath = dir.file("frames.bin")
        _ = block.withUnsafeBytes { FileManager.default.createFile(atPath: framesPath, contents: Data($0)) }
        let summaries = try catalog.allRuns()
        try catalog.close()

        let keyResult = try resonance("keys", "add", "tiled-test", "--root", root)
        #expect(keyResult.status == 0, "\(keyResult.stderr)")
        let key = keyResult.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let port = try freePort()
        let server = try startCommand(builtExecutable("resonance"), ["serve", root, "--port", String(port)])
        defer {
            server.process.terminate()
            _ = server.wait()
        }

        let config: JSONValue = [
            "url": .string("http://127.0.0.1:\(port)/api"), "api_key": .string(key), "label": .string(Self.label),
            "run_uid": .string(beamtime.mainUID), "plan_name": "rsoxs_scan", "columns": .object(columns),
            "frames_bin": .string(framesPath), "frames_dtype": .string(frames.dtype!.rawValue),
            "frames_shape": .array(frames.shape.map { .int(Int64($0)) }),
            "ps_uids": .array(summaries.filter { $0.sampleName == "PS" }.map { .string($0.uid) }),
            "pmma_count_uids": .array(summaries.filter { $0.sampleName == "PMMA" && $0.planName == "count" }.map { .string($0.uid) }),
            "count_runs": .int(Int64(summaries.filter { $0.planName == "count" }.count)),
            "run_count": .int(Int64(summaries.count)),
            "first_keys": .array(summaries.prefix(10).map { .string($0.uid) }),
            "last_keys": .array(summaries.suffix(3).map { .string($0.uid) }),
            "scratch_label": "scratch", "scratch_db": .string(root + "/scratch.db"), "scratch_uid": .string(scratchUID),
            "live_label": "live", "live_uid": .string(live.uid), "live_first": .int(Int64(TiledBeamtimes.liveFirst)),
            "live_total": .int(Int64(TiledBeamtimes.liveFirst + TiledBeamtimes.liveMore)),
            "live_values": .array((0..<(TiledBeamtimes.liveFirst + TiledBeamtimes.liveMore)).map { .double(TiledBeamtimes.liveEnergy($0)) }),
            "markers": .string(markers),
        ]
        let configPath = dir.file("config.json")
        _ = FileManager.default.createFile(atPath: configPath, contents: Data(config.jsonText.utf8))
        try waitForServer(port: port)

        let python = try startCommand("/usr/bin/env", ["python3", packageRoot + "/Tests/TiledTests/python/tiled_client_check.py", configPath])
        // The script asks for the live run to grow, then reads it again.
        let deadline = Date().addingTimeInterval(300)
        while python.process.isRunning, !FileManager.default.fileExists(atPath: markers + "/grow"), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        if FileManager.default.fileExists(atPath: markers + "/grow") {
            try live.grow()
            _ = FileManager.default.createFile(atPath: markers + "/grown", contents: nil)
        }
        let result = python.wait()
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("ALL OK"), "\(result.stdout)\n\(result.stderr)")
    }
}

/// A TCP port nothing listens on now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw CocoaError(.fileWriteUnknown) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Waits until the server answers `GET /api/v1/`.
func waitForServer(port: Int) throws {
    let script = """
        import sys, time, httpx
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{sys.argv[1]}/api/v1/").status_code == 200: sys.exit(0)
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        sys.exit("the server did not answer")
        """
    try runPython(script, [String(port)])
}
