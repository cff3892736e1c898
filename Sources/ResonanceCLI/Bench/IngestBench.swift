import ResonanceFormats
import Foundation
import Resonance
import ResonanceBluesky

/// `resonance bench-ingest`'s measurements: `resonance ingest`'s own code path
/// (JSONLinesReader + DocumentIngestor) on JSON-lines files made before timing, beside the
/// RunWriter alone writing the same events and frames, alternating, in the same run.
struct IngestBench {
    let events: Int
    let frames: Int
    let size: Int
    let repetitions: Int
    let dir: String

    struct Result {
        var writerEvents = Timing(), ingestEvents = Timing(), parseOnly = Timing()
        var writerFrames = Timing(), ingestFrames = Timing()
        var eventsFileBytes = 0, framesFileBytes = 0
    }

    func run(log: PhaseLog) throws -> Result {
        var result = Result()
        if events > 0 {
            log.say("ingest bench: preparing \(grouped(Double(events))) events as event_pages")
            let bench = EventsBench(count: events, repetitions: 1, dir: dir)
            let file = dir + "/events.jsonl"
            result.eventsFileBytes = try writeEventPages(bench, to: file)
            for _ in 0..<repetitions {
                log.say("ingest bench: events, writer alone")
                let (writer, path) = try bench.runWriter(repetitions: 1)
                EventsBench.removeDatabase(path)
                result.writerEvents.append(writer)
                log.say("ingest bench: events, resonance ingest")
                result.ingestEvents.append(try timeIngest(file, expectEvents: events))
                log.say("ingest bench: events, JSON parsing alone")
                result.parseOnly.append(try timeParse(file))
            }
        }
        if frames > 0 {
            log.say("ingest bench: preparing \(frames) frames of \(size)x\(size) uint16 as NPY_SEQ files")
            let set = FrameSet.generate(size: size, count: min(frames, 100))
            let file = dir + "/frames.jsonl"
            result.framesFileBytes = try writeNPYRun(set, to: file)
            for _ in 0..<repetitions {
                log.say("ingest bench: frames, writer alone")
                result.writerFrames.append(try timeWriterFrames(set))
                log.say("ingest bench: frames, resonance ingest")
                result.ingestFrames.append(try timeIngest(file, expectEvents: frames))
            }
        }
        return result
    }

    // MARK: Inputs

    private func uuid() -> String { UUID().uuidString.lowercased() }

    /// start, descriptor, event_pages of 1,000 events, stop: EventsBench's events.
    private func writeEventPages(_ bench: EventsBench, to path: String) throws -> Int {
        var out: [UInt8] = []
        let start = uuid(), descriptor = uuid()
        func line(_ name: String, _ doc: JSONObject) {
            JSONValue.array([.string(name), .object(doc)]).write(into: &out)
            out.append(0x0A)
        }
        var keys = JSONObject()
        for name in EventsBench.fields { keys[name] = ["dtype": "number", "shape": [], "source": .string("bench:" + name)] }
        line("start", ["uid": .string(start), "time": .double(bench.times[0]), "plan_name": "bench", "scan_id": 1])
        line("descriptor", ["uid": .string(descriptor), "run_start": .string(start), "time": .double(bench.times[0]),
                            "name": "primary", "data_keys": .object(keys)])
        var k = 0
        while k < bench.data.count {
            let range = k..<min(k + 1000, bench.data.count)
            var data = JSONObject(), timestamps = JSONObject()
            for name in EventsBench.fields {
                data[name] = .array(range.map { bench.data[$0][name]! })
                timestamps[name] = .array(range.map { .double(bench.timestamps[$0][name]!) })
            }
            line("event_page", ["descriptor": .string(descriptor), "uid": .array(range.map { _ in .string(uuid()) }),
                                "time": .array(range.map { .double(bench.times[$0]) }),
                                "seq_num": .array(range.map { .int(Int64($0 + 1)) }),
                                "data": .object(data), "timestamps": .object(timestamps), "filled": [:]])
            k = range.upperBound
        }
        line("stop", ["uid": .string(uuid()), "run_start": .string(start), "time": .double(bench.times.last! + 1), "exit_status": "success"])
        try Data(out).write(to: URL(fileURLWithPath: path))
        return out.count
    }

    /// ophyd.sim's shape of a file-writing detector: a NPY_SEQ resource, then a datum and
    /// an event per point; the frames cycle through `set`.
    private func writeNPYRun(_ set: FrameSet, to path: String) throws -> Int {
        let folder = dir + "/npy"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (k, frame) in set.frames.enumerated() {
            let bytes = frame.pixels.withUnsafeBytes { NPYWriter.encode(dtype: .uint16, shape: [size, size], data: $0) }
            try Data(bytes).write(to: URL(fileURLWithPath: "\(folder)/img_\(k).npy"))
        }
        var out: [UInt8] = []
        func line(_ name: String, _ doc: JSONObject) {
            JSONValue.array([.string(name), .object(doc)]).write(into: &out)
            out.append(0x0A)
        }
        let start = uuid(), descriptor = uuid(), resource = uuid()
        line("start", ["uid": .string(start), "time": 1.0e9, "plan_name": "bench_frames"])
        line("descriptor", ["uid": .string(descriptor), "run_start": .string(start), "time": 1.0e9, "name": "primary",
                            "data_keys": ["img": ["dtype": "array", "shape": [.int(Int64(size)), .int(Int64(size))], "source": "bench", "external": "FILESTORE:"],
                                          "energy": ["dtype": "number", "shape": [], "source": "bench"]]])
        line("resource", ["uid": .string(resource), "run_start": .string(start), "spec": "NPY_SEQ",
                          "root": .string(folder), "resource_path": "img", "resource_kwargs": [:], "path_semantics": "posix"])
        for k in 0..<frames {
            let datum = "\(resource)/\(k)"
            line("datum", ["resource": .string(resource), "datum_id": .string(datum), "datum_kwargs": ["index": .int(Int64(k % set.count))]])
            line("event", ["uid": .string(uuid()), "descriptor": .string(descriptor), "time": .double(1.0e9 + Double(k)),
                           "seq_num": .int(Int64(k + 1)), "data": ["img": .string(datum), "energy": .double(set.energies[k % set.count])],
                           "timestamps": ["img": .double(1.0e9 + Double(k)), "energy": .double(1.0e9 + Double(k))], "filled": ["img": false]])
        }
        line("stop", ["uid": .string(uuid()), "run_start": .string(start), "time": .double(1.0e9 + Double(frames)), "exit_status": "success"])
        try Data(out).write(to: URL(fileURLWithPath: path))
        return out.count
    }

    // MARK: Timed parts

    private func timeIngest(_ file: String, expectEvents: Int) throws -> Timing {
        let db = freshPath(dir, "ingest", ext: ".db")
        defer { EventsBench.removeDatabase(db) }
        let fd = open(file, O_RDONLY)
        guard fd >= 0 else { throw CommandError("\(file): cannot open") }
        defer { close(fd) }
        var timing = Timing()
        let t0 = now()
        let ingestor = DocumentIngestor(dbPath: db)
        try JSONLinesReader(fd: fd).forEachLine { bytes, number in try ingestor.ingest(jsonLine: bytes, number: number) }
        let summary = try ingestor.finish()
        timing.seconds.append(now() - t0)
        guard summary.events == expectEvents, summary.errors == 0 else {
            throw CommandError("ingest bench: \(summary.events) events recorded, \(expectEvents) expected")
        }
        return timing
    }

    private func timeParse(_ file: String) throws -> Timing {
        let fd = open(file, O_RDONLY)
        guard fd >= 0 else { throw CommandError("\(file): cannot open") }
        defer { close(fd) }
        var timing = Timing()
        let t0 = now()
        var count = 0
        try JSONLinesReader(fd: fd).forEachLine { bytes, number in
            count += try BlueskyDocument(jsonLine: bytes, line: number).body.count
        }
        timing.seconds.append(now() - t0)
        return timing
    }

    private func timeWriterFrames(_ set: FrameSet) throws -> Timing {
        let db = freshPath(dir, "frames-writer", ext: ".db")
        defer { EventsBench.removeDatabase(db) }
        var timing = Timing()
        let t0 = now()
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "bench"))
        try writer.open()
        try writer.openRun("bench_frames")
        try writer.openStream("primary", dataKeys: ["energy": ["dtype": "number"]])
        for k in 0..<frames {
            let event = try writer.writeEvent(["energy": .double(set.energies[k % set.count])])
            try writer.writeFrame(eventUID: event, field: "img", frame: set.frames[k % set.count])
        }
        try writer.closeRun()
        try writer.close()
        timing.seconds.append(now() - t0)
        return timing
    }
}
