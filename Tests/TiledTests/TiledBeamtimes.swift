import Foundation
import JSONValue
import Resonance
import TestSupport

/// The beamtimes TiledTests serve.
enum TiledBeamtimes {
    static let frameSize = 512
    static let frameCount = 8
    static let liveFirst = 4
    static let liveMore = 7

    /// `<label>.db`: "rsoxs_scan" (sample PS) with energy (a NaN among them), i0, a note
    /// string, a flag and 8 uint16 frames of 512 x 512; then 150 "count" runs of PS and 200 of
    /// PMMA, so listings take several pages.
    static func write(root: String, label: String) throws -> (mainUID: String, count: Int) {
        var main = ""
        let path = root + "/\(label).db"
        let ps = RunWriter(dbPath: path, sample: SampleMetadata(name: "PS", formula: "C8H8"), options: .init(commitInterval: 0.05))
        try ps.open { w in
            main = try w.openRun("rsoxs_scan", metadata: ["edge": "C K", "scan_id": 1], time: 1_700_000_000)
            try w.openStream("primary", dataKeys: ["energy": ["dtype": "number", "units": "eV", "source": "sim"]])
            var generator = SplitMix64(seed: 16)
            for k in 0..<frameCount {
                let event = try w.writeEvent(
                    ["energy": .double(k == 2 ? .nan : 280 + Double(k) * 0.1 + 1e-13), "i0": .int(Int64(k * 1000 - 3)),
                     "note": .string(k % 3 == 0 ? "π/2 ✓" : "n\(k)"), "flag": .bool(k % 2 == 0)],
                    time: 1_700_000_000 + Double(k) * 0.25)
                let pixels = (0..<(frameSize * frameSize)).map { _ in UInt16(truncatingIfNeeded: generator.next()) }
                try w.writeFrame(eventUID: event, field: "detector_image", frame: Frame<UInt16>(rows: frameSize, columns: frameSize, pixels: pixels))
            }
            try w.closeRun()
            for k in 0..<150 { try countRun(w, time: 1_700_000_100 + Double(k)) }
        }
        let pmma = RunWriter(dbPath: path, sample: SampleMetadata(name: "PMMA"), options: .init(commitInterval: 0.05))
        try pmma.open { w in
            for k in 0..<200 { try countRun(w, time: 1_700_010_000 + Double(k)) }
        }
        return (main, 351)
    }

    static func countRun(_ w: RunWriter, time: Double) throws {
        try w.openRun("count", time: time)
        try w.openStream("primary")
        _ = try w.writeEvent(["det": .double(time)], time: time)
        try w.closeRun(time: time + 1)
    }

    /// `scratch.db`: one run, which the client side deletes while browsing it.
    static func writeScratch(root: String) throws -> String {
        let w = RunWriter(dbPath: root + "/scratch.db", sample: SampleMetadata(name: "PS"), options: .init(commitInterval: 0.05))
        return try w.open { w in
            let uid = try w.openRun("count", time: 1_700_000_000)
            try w.openStream("primary")
            _ = try w.writeEvent(["energy": 1.0])
            return uid
        }
    }

    static func liveEnergy(_ k: Int) -> Double { 270 + Double(k) / 3 }

    /// `live.db`: a run still being written, with `liveFirst` events (and frames) committed.
    final class Live: @unchecked Sendable {
        let writer: RunWriter
        let uid: String
        var written = 0

        init(writer: RunWriter, uid: String) {
            self.writer = writer
            self.uid = uid
        }

        func write(_ n: Int) throws {
            for _ in 0..<n {
                let event = try writer.writeEvent(["energy": .double(liveEnergy(written))], time: 1_700_000_000 + Double(written))
                try writer.writeFrame(eventUID: event, field: "detector_image",
                                      frame: Frame<UInt16>(rows: 16, columns: 16, pixels: Array(repeating: UInt16(written), count: 256)))
                written += 1
            }
            try writer.flush()
        }

        func grow() throws { try write(liveMore) }
    }

    static func startLive(root: String) throws -> Live {
        let writer = RunWriter(dbPath: root + "/live.db", sample: SampleMetadata(name: "PS"), options: .init(commitInterval: 0.05))
        try writer.open()
        let uid = try writer.openRun("count", time: 1_700_000_000)
        try writer.openStream("primary")
        let live = Live(writer: writer, uid: uid)
        try live.write(liveFirst)
        return live
    }
}
