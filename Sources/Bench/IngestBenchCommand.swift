import CommandLineSupport
import ArgumentParser
import Foundation
import Resonance

/// `resonance-bench ingest`: `resonance ingest` against the RunWriter alone, same run.
struct IngestBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Measure `resonance ingest` against the RunWriter alone, in the same run.",
        discussion: """
            Events: start, descriptor, event_pages of 1,000 events (8 float fields with \
            timestamps, as `resonance-bench`'s events) and stop, as one JSON-lines file made \
            before timing; ingested by ingest's own code (file to beamtime, closed), beside \
            the RunWriter writing the same events from memory, and JSON parsing of the file alone.

            Frames: ophyd.sim's file-writing detector: a NPY_SEQ resource, then a datum and an \
            event per point, the frames SIZExSIZE uint16 .npy files; beside the RunWriter \
            writing the same frames from memory. Median of the repetitions, which alternate.

            Examples:
              resonance-bench ingest
              resonance-bench ingest --events 500000 --frames 1000 --size 2048 --json
            """
    )

    @Option(help: "Events in the event_page run (0 to skip).")
    var events = 200_000

    @Option(help: "Frames in the NPY_SEQ run (0 to skip).")
    var frames = 1_000

    @Option(help: "Frame size in pixels (SIZE x SIZE uint16).")
    var size = 512

    @Option(help: "Repetitions (the median is printed).")
    var repetitions = 3

    @Flag(help: "Print the results as JSON.")
    var json = false

    @Option(help: "Folder for the benchmark's files (default: a new folder in the temporary directory; removed afterwards).")
    var dir: String?

    func validate() throws {
        guard events >= 0, frames >= 0, repetitions >= 1, size >= 8 else {
            throw ValidationError("--events and --frames must not be negative, --repetitions at least 1, --size at least 8")
        }
    }

    func run() throws {
        let root = (dir ?? NSTemporaryDirectory()) + "/resonance-bench-ingest-\(getpid())"
        removeItem(root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { removeItem(root) }
        let r = try IngestBench(events: events, frames: frames, size: size, repetitions: repetitions, dir: root)
            .run(log: PhaseLog(enabled: !json))
        if json {
            var o: JSONObject = ["events": .int(Int64(events)), "frames": .int(Int64(frames)), "size": .int(Int64(size))]
            if events > 0 {
                o["ingest_events"] = r.ingestEvents.json(items: events, bytes: r.eventsFileBytes)
                o["writer_events"] = r.writerEvents.json(items: events)
                o["parse_only"] = r.parseOnly.json(items: events, bytes: r.eventsFileBytes)
            }
            if frames > 0 {
                o["ingest_frames"] = r.ingestFrames.json(items: frames)
                o["writer_frames"] = r.writerFrames.json(items: frames)
            }
            Output.printJSON(.object(o))
            return
        }
        var table = TextTable(["what", "per second", "median", "vs writer alone"], rightAligned: [1, 2, 3])
        if events > 0 {
            let writer = r.writerEvents.rate(events)
            table.append(["ingest, \(grouped(Double(events))) events in event_pages", grouped(r.ingestEvents.rate(events)) + " events",
                          Format.seconds(r.ingestEvents.medianSeconds), String(format: "%.0f%%", 100 * r.ingestEvents.rate(events) / writer)])
            table.append(["RunWriter alone, same events", grouped(writer) + " events", Format.seconds(r.writerEvents.medianSeconds), "100%"])
            table.append(["JSON parsing of the file alone", grouped(r.parseOnly.rate(events)) + " events",
                          Format.seconds(r.parseOnly.medianSeconds), "-"])
        }
        if frames > 0 {
            let writer = r.writerFrames.rate(frames)
            table.append(["ingest, \(frames) NPY_SEQ frames \(size)x\(size)", grouped(r.ingestFrames.rate(frames)) + " frames",
                          Format.seconds(r.ingestFrames.medianSeconds), String(format: "%.0f%%", 100 * r.ingestFrames.rate(frames) / writer)])
            table.append(["RunWriter alone, same frames", grouped(writer) + " frames", Format.seconds(r.writerFrames.medianSeconds), "100%"])
        }
        Output.print(table.render())
    }
}
