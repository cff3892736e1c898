import Foundation
import JSONValue
import Logging
import Resonance
import ResonanceServer
import TestSupport

/// A served folder for tests: `bt1.db` (runs "nexafs" with a table and int32 frames,
/// and "rsoxs", failed), `sub/bt2.db` (one run), and a master index `index.db` that the
/// server must pass over as not a beamtime.
final class Fixture: Sendable {
    let dir = TempDir()
    var root: String { dir.path }
    let nexafsUID: String
    let rsoxsUID: String
    let otherUID: String
    static let frameRows = 4, frameColumns = 5, frameCount = 3, eventCount = 25

    init() throws {
        var nexafs = "", rsoxs = "", other = ""
        let bt1 = RunWriter(dbPath: dir.file("bt1.db"), sample: SampleMetadata(name: "PS", formula: "C8H8"),
                            options: .init(commitInterval: 0.05))
        try bt1.open { w in
            nexafs = try w.openRun("nexafs", metadata: ["edge": "C K"], uid: "aaaa1111" + String(repeating: "0", count: 24), time: 1_700_000_000)
            try w.openStream("primary", dataKeys: ["energy": ["dtype": "number", "units": "eV"]])
            for k in 0..<Self.eventCount {
                let event = try w.writeEvent(
                    ["energy": .double(k == 3 ? .nan : 280 + Double(k) * 0.5), "i0": .int(Int64(k * 10)), "note": .string(k % 2 == 0 ? "even" : "odd, \"quoted\"")],
                    time: 1_700_000_000 + Double(k))
                if k < Self.frameCount {
                    let frame = Frame<Int32>(rows: Self.frameRows, columns: Self.frameColumns,
                                             pixels: (0..<(Self.frameRows * Self.frameColumns)).map { Int32(k * 100 + $0) })
                    try w.writeFrame(eventUID: event, field: "ccd", frame: frame)
                }
            }
        }
        let bt1b = RunWriter(dbPath: dir.file("bt1.db"), sample: SampleMetadata(name: "PMMA"), options: .init(commitInterval: 0.05))
        try bt1b.open()
        rsoxs = try bt1b.openRun("rsoxs", uid: "bbbb2222" + String(repeating: "0", count: 24), time: 1_700_100_000)
        try bt1b.openStream("primary")
        for k in 0..<5 { _ = try bt1b.writeEvent(["energy": .double(Double(k))], time: 1_700_100_000 + Double(k)) }
        try bt1b.closeRun(exitStatus: .failed)
        try bt1b.close()

        try FileManager.default.createDirectory(atPath: dir.file("sub"), withIntermediateDirectories: true)
        let bt2 = RunWriter(dbPath: dir.file("sub/bt2.db"), sample: SampleMetadata(name: "PS"), options: .init(commitInterval: 0.05))
        try bt2.open { w in
            other = try w.openRun("nexafs", uid: "cccc3333" + String(repeating: "0", count: 24), time: 1_700_200_000)
            try w.openStream("primary")
            _ = try w.writeEvent(["energy": 1.0])
        }
        nexafsUID = nexafs
        rsoxsUID = rsoxs
        otherUID = other

        let index = IndexWriter(indexDBPath: dir.file("index.db"))
        let researcher = try index.registerResearcher(name: "Ada")
        _ = try index.indexBeamtime(dbPath: dir.file("bt1.db"), researcherID: researcher)
        try index.close()
    }

    /// A server on 127.0.0.1 with an ephemeral port (0), short timeouts for tests.
    func configuration(requireKey: Bool = false, maxBody: Int = 1 << 20) throws -> ServerConfiguration {
        var config = ServerConfiguration(root: root)
        config.port = 0
        config.requireKey = requireKey
        config.maxBodyBytes = maxBody
        config.idleTimeout = .seconds(2)
        config.index = try Index(path: dir.file("index.db"))
        return config
    }

    func server(requireKey: Bool = false, maxBody: Int = 1 << 20) throws -> ServerApplication {
        var logger = Logger(label: "server-test")
        logger.logLevel = .warning
        return ServerApplication(configuration: try configuration(requireKey: requireKey, maxBody: maxBody), logger: logger)
    }
}
