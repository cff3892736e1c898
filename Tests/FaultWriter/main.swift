// A writer that tests kill at random moments. It reports every call that returned, one
// line each, flushed at once, so the killing test knows what the writer had promised.
//
//   ResonanceFaultWriter DB events [INTERVAL]    events until killed: "E <seq> <uid>"
//   ResonanceFaultWriter DB closing [INTERVAL]   runs of 50 events, closed over and over: "C <uid>"
//   ResonanceFaultWriter DB frames [INTERVAL]    an event and a 256x256 uint16 frame each: "F <seq>"
//                                                 pixel i of frame seq = (seq * 31 + i) % 65536
//   ResonanceFaultWriter DB read SECONDS         a reader beside a "frames" writer: reads the newest
//                                                 run's table and last frame over and over, checks
//                                                 they only grow and hold the right pixels; prints
//                                                 "READS <n> EVENTS <max>" at the end, "ERR <why>" on failure
//   ResonanceFaultWriter DB mixed [INTERVAL]     runs of events and frames, closed over and over,
//                                                 reporting "E <seq> <uid>", "F <seq>", "C <uid>"
import Foundation
import Resonance



/// One unbuffered write per line: what was reported is what the writer had returned.
func report(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    FileHandle.standardOutput.write(Data((message + "\n").utf8))
    exit(2)
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    fail("usage: ResonanceFaultWriter DB events|closing|frames|mixed [INTERVAL]")
}
if args[2] == "read" {
    readWhileWriting(db: args[1], seconds: args.count > 3 ? Double(args[3]) ?? 5 : 5)
}
let interval = args.count > 3 ? Double(args[3]) ?? 1.0 : 1.0
// RESONANCE_FRAME_LAYOUT: chunk-per-frame, sharded-<N> or automatic (the default).
let layout = ProcessInfo.processInfo.environment["RESONANCE_FRAME_LAYOUT"].flatMap { FrameLayout(name: $0) } ?? .automatic
let writer = RunWriter(dbPath: args[1], sample: SampleMetadata(name: "fault-sample"),
                       options: .init(commitInterval: interval, frameLayout: layout))
do {
    try writer.open()
    switch args[2] {
    case "events":
        let run = try writer.openRun("fault_scan", metadata: ["purpose": "kill test"])
        try writer.openStream("primary", dataKeys: ["energy": ["dtype": "number"]])
        report("R \(run)")
        var seq = 0
        while true {
            seq += 1
            let uid = try writer.writeEvent(
                ["energy": .double(270 + Double(seq) * 0.01), "i0": .int(Int64(seq)), "sample_current": .double(.nan)],
                timestamps: ["energy": Date().timeIntervalSince1970])
            report("E \(seq) \(uid)")
            usleep(200)
        }
    case "frames":
        let run = try writer.openRun("fault_frames")
        try writer.openStream("primary")
        report("R \(run)")
        var seq = 0
        while true {
            seq += 1
            let event = try writer.writeEvent(["seq": .int(Int64(seq))])
            let frame = Frame<UInt16>(rows: 256, columns: 256) { pixels in
                for i in pixels.indices { pixels[i] = UInt16((seq * 31 + i) % 65536) }
            }
            try writer.writeFrame(eventUID: event, field: "ccd", frame: frame)
            report("F \(seq)")
        }
    case "mixed":
        while true {
            let run = try writer.openRun("fault_mixed")
            try writer.openStream("primary")
            try writer.openStream("baseline")
            for seq in 1...40 {
                let event = try writer.writeEvent(["seq": .int(Int64(seq))], stream: "primary")
                report("E \(seq) \(event)")
                if seq % 4 == 0 {
                    let frame = Frame<UInt16>(rows: 128, columns: 96) { pixels in
                        for i in pixels.indices { pixels[i] = UInt16((seq * 31 + i) % 65536) }
                    }
                    try writer.writeFrame(eventUID: event, field: "ccd", frame: frame)
                    report("F \(seq)")
                }
                if seq % 10 == 0 { try writer.writeEvent(["ring": 500.0], stream: "baseline") }
            }
            try writer.closeRun()
            report("C \(run)")
        }
    case "closing":
        while true {
            let run = try writer.openRun("fault_close")
            try writer.openStream("primary")
            for i in 0..<50 { try writer.writeEvent(["i": .int(Int64(i))]) }
            try writer.closeRun()
            report("C \(run)")
        }
    default:
        fail("unknown mode \(args[2])")
    }
} catch {
    fail("error: \(error)")
}

/// The reader side of the concurrency test. Exits 0 after `seconds` without an error, 1 otherwise.
func readWhileWriting(db: String, seconds: Double) -> Never {
    let deadline = Date().addingTimeInterval(seconds)
    var reads = 0
    var lastEvents = 0
    var lastFrames = 0
    do {
        // The writer may not have created the file yet.
        while !FileManager.default.fileExists(atPath: db) && Date() < deadline { usleep(20_000) }
        let catalog = try Catalog(dbPath: db)
        while Date() < deadline {
            guard let summary = try catalog.recent(1).first else { usleep(10_000); continue }
            let run = try catalog.run(summary.uid)
            let table = try run.table(stream: "primary")
            let frames = try run.frames(field: "ccd")
            guard table.count >= lastEvents, frames.count >= lastFrames else {
                fail("ERR run shrank: \(lastEvents) -> \(table.count) events, \(lastFrames) -> \(frames.count) frames")
            }
            lastEvents = table.count
            lastFrames = frames.count
            if frames.count > 0 {
                let k = frames.count - 1
                let frame = try frames.frame(k, as: UInt16.self)
                let seq = k + 1
                for i in stride(from: 0, to: frame.pixels.count, by: 997) where frame.pixels[i] != UInt16((seq * 31 + i) % 65536) {
                    fail("ERR frame \(k) pixel \(i) is \(frame.pixels[i])")
                }
            }
            reads += 1
        }
        report("READS \(reads) EVENTS \(lastEvents) FRAMES \(lastFrames)")
        exit(0)
    } catch {
        fail("ERR \(error)")
    }
}
