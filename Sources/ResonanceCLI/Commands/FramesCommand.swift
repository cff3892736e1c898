import ResonanceFormats
import ArgumentParser
import Dispatch
import Foundation
import JSONValue
import Resonance

/// `resonance frames`: per-frame statistics of a detector field, and export as files.
struct FramesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Per-frame statistics of a run's detector frames; export them as .npy, .tiff or .png files.",
        discussion: """
            For each frame: index, seq_num (of the event it belongs to), shape, dtype, min, \
            max, mean, sum and saturated. Integer frames: over every pixel, sum exact, \
            saturated = pixels at the dtype's maximum (65535 for uint16). Float frames: min, \
            max, mean and sum (in float64) over the finite pixels, saturated = the count of \
            non-finite pixels (NaN, inf); a frame with no finite pixel has NaN min, max and mean. \
            Frames are decoded and measured on all cores.

            --export DIR writes one file per frame, <field>-<index>.<format>, and adds \
            the path to each frame's line (the "path" key with --json):
              npy   the exact pixels; numpy.load gives the stored dtype and shape
              tiff  the exact pixels as a baseline uncompressed grayscale TIFF:
                    8/16/32 bits per sample (64 for 64-bit dtypes), unsigned,
                    signed or float sample format
              png   a quick look: 8-bit grayscale, log-scaled from the frame's
                    min to max (NaN black); frames over 2048 pixels on a side
                    are binned to fit

            Without --field the run's only image field is used; a run with several needs --field.

            Examples:
              resonance frames 2026-03-05.db 0193ab12cd
              resonance frames 2026-03-05.db 0193ab12cd --field ccd --json
              resonance frames 2026-03-05.db 0193ab12cd --export frames/ --format png
            """
    )

    @Argument(help: "The beamtime database (.db).")
    var db: String

    @Argument(help: "The run's uid, or a unique prefix of 8+ hex digits.")
    var uid: String

    @Option(help: ArgumentHelp("The detector field (needed when the run has several).", valueName: "field"))
    var field: String?

    @Flag(help: "Print JSON for programs instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("Write each frame as a file into this folder (created if needed).", valueName: "dir"))
    var export: String?

    @Option(help: "Export format: npy, tiff or png (with --export).")
    var format: FrameExportFormat?

    func validate() throws {
        if format != nil && export == nil { throw ValidationError("--format applies only with --export DIR") }
    }

    func run() throws {
        let (_, run) = try RunLookup.run(db: db, uid: uid)
        let field = try chooseField(run)
        let frames = try run.frames(field: field.name)
        guard let dtype = frames.dtype, frames.count > 0 else {
            throw CommandError("\(db): run \(run.uid) has no frames of field \(field.name.debugDescription)")
        }
        let seqNums = frames.seqNums
        var exporter: Exporter?
        if let export {
            exporter = try Exporter(folder: export, field: field.name, count: frames.count, format: format ?? .npy)
        }
        let results = try Self.measure(frames, dtype: dtype, exporter: exporter)

        let rows = results.enumerated().map { k, stats in
            Line(index: k, seqNum: seqNums[k], stats: stats,
                 path: exporter?.path(k))
        }
        if json {
            Output.printJSON(.array(rows.map { $0.json(rows: frames.rows, columns: frames.columns, dtype: dtype) }))
        } else {
            var table = TextTable(["index", "seq_num", "shape", "dtype", "min", "max", "mean", "sum", "saturated"]
                                  + (exporter == nil ? [] : ["path"]), rightAligned: [0, 1, 4, 5, 6, 7, 8])
            for row in rows { table.append(row.text(rows: frames.rows, columns: frames.columns, dtype: dtype)) }
            Output.print(table.render())
        }
    }

    /// The --field image field, or the run's only one.
    func chooseField(_ run: Run) throws -> FrameField {
        let names = run.frameFields.map(\.name).joined(separator: ", ")
        if let field {
            guard let found = run.frameField(field) else {
                throw CommandError("run \(run.uid) has no image field \(field.debugDescription) "
                    + (names.isEmpty ? "(it has no frames)" : "(its image fields: \(names))"))
            }
            return found
        }
        switch run.frameFields.count {
        case 0: throw CommandError("run \(run.uid) has no image fields (no frames)")
        case 1: return run.frameFields[0]
        default: throw CommandError("run \(run.uid) has several image fields (\(names)); choose one with --field")
        }
    }

    /// Decodes every frame once, on all cores, measuring it and writing its file.
    static func measure(_ frames: FrameSequence, dtype: FrameDType, exporter: Exporter?) throws -> [FrameStatistics] {
        let results = ResultSlots(count: frames.count)
        let bar = ProgressBar(total: frames.count, label: "frames", unit: "frames")
        let progress = SendableBox(bar)
        let done = Counter()
        let bytes = frames.frameByteCount
        let (rows, columns) = (frames.rows, frames.columns)
        // One frame per iteration: a worker holds one decoded frame at a time.
        DispatchQueue.concurrentPerform(iterations: frames.count) { k in
            guard !results.failed else { return }
            do {
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 16)
                defer { buffer.deallocate() }
                try frames.read(k..<(k + 1), into: buffer)
                let raw = UnsafeRawBufferPointer(buffer)
                results.set(k, FrameStatistics.of(raw, dtype: dtype))
                try exporter?.write(k, raw, dtype: dtype, rows: rows, columns: columns)
                progress.value.update(done.increment())
            } catch {
                results.fail(error)
            }
        }
        bar.finish()
        if let error = results.error { throw error }
        return results.values
    }

    /// One frame's line of output.
    struct Line {
        var index: Int
        var seqNum: Int64?
        var stats: FrameStatistics
        var path: String?

        func json(rows: Int, columns: Int, dtype: FrameDType) -> JSONValue {
            var object: JSONObject = [
                "index": .int(Int64(index)), "seq_num": seqNum.map(JSONValue.int) ?? .null,
                "shape": [.int(Int64(rows)), .int(Int64(columns))], "dtype": .string(dtype.rawValue),
                "min": stats.min, "max": stats.max, "mean": .double(stats.mean), "sum": stats.sum,
                "saturated": .int(Int64(stats.saturated)),
            ]
            if let path { object["path"] = .string(path) }
            return .object(object)
        }

        func text(rows: Int, columns: Int, dtype: FrameDType) -> [String] {
            [String(index), seqNum.map(String.init) ?? "-", "\(rows)x\(columns)", dtype.rawValue,
             stats.min.jsonText, stats.max.jsonText, String(format: "%.6g", stats.mean), stats.sum.jsonText,
             String(stats.saturated)] + (path.map { [$0] } ?? [])
        }
    }
}

extension FrameExportFormat: ExpressibleByArgument {}

/// Writes exported frames into a folder.
struct Exporter: Sendable {
    let folder: String
    let field: String
    let width: Int
    let format: FrameExportFormat

    init(folder: String, field: String, count: Int, format: FrameExportFormat) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw CommandError("\(folder): exists and is not a folder")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw CommandError("\(folder): cannot create the folder (\(error.localizedDescription))")
        }
        self.folder = folder
        self.field = field
        self.width = max(4, String(max(count - 1, 0)).count)
        self.format = format
    }

    func path(_ index: Int) -> String {
        (folder as NSString).appendingPathComponent(FrameExportFormat.fileName(field: field, index: index, width: width, format: format))
    }

    func write(_ index: Int, _ raw: UnsafeRawBufferPointer, dtype: FrameDType, rows: Int, columns: Int) throws {
        let bytes = try format.encode(raw, dtype: dtype, rows: rows, columns: columns)
        let path = path(index)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw CommandError("\(path): cannot write the file (\(String(cString: strerror(errno))))")
        }
    }
}

/// Per-frame results filled in by concurrent workers, and the first failure.
final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [FrameStatistics?]
    private var firstError: (any Error)?

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ k: Int, _ value: FrameStatistics) { lock.withLock { slots[k] = value } }
    func fail(_ error: any Error) { lock.withLock { if firstError == nil { firstError = error } } }
    var failed: Bool { lock.withLock { firstError != nil } }
    var error: (any Error)? { lock.withLock { firstError } }
    var values: [FrameStatistics] { lock.withLock { slots.map { $0! } } }
}

/// A thread-safe count of finished items.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func increment() -> Int { lock.withLock { value += 1; return value } }
}
