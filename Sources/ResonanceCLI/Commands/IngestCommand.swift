import CommandLineSupport
import ArgumentParser
import Foundation
import Resonance
import ResonanceBluesky
import Synchronization

/// `resonance ingest`: records Bluesky event-model documents (JSON lines) in a beamtime.
struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Record Bluesky documents (JSON lines) in a beamtime.",
        discussion: """
            Each line is one event-model document, [name, doc] as suitcase-jsonl and \
            Bluesky's JSON serializers write it, or {"name": ..., "doc": ...}. A start \
            becomes a run (its uid without dashes), descriptors its streams, events and \
            event_pages its events, 2-D arrays and the files of resource/datum and \
            stream_resource/stream_datum documents (NPY_SEQ, AD_TIFF, Zarr, TIFF and .npy \
            sequences) its frames, the stop closes it. Every document is kept verbatim in \
            the beamtime's bluesky_documents table.

            Ingesting the same documents again skips what is recorded (by uid) and finishes \
            runs a killed ingest left open. A refused line is reported with its number and \
            the rest goes on; the exit status is 1 when any line was refused.

            Examples:
              resonance ingest beamtime/ scan.jsonl                 # into beamtime/<today>.db
              resonance ingest 2026-03-05.db a.jsonl b.jsonl --sample PS
              python3 my_plan.py | resonance ingest beamtime/ --label 2026-03-05
              resonance ingest beamtime/ live.jsonl --follow        # until Ctrl-C
            """
    )

    @Argument(help: "A beamtime .db (created if missing), or a folder for <label>.db.")
    var dest: String

    @Argument(help: "JSON-lines files to read in order; none or - reads standard input.")
    var files: [String] = []

    @Option(help: "Beamtime label when DEST is a folder (default: today's date).")
    var label: String?

    @Option(help: ArgumentHelp("Sample of runs whose start document names none.", valueName: "name"))
    var sample: String = "unknown"

    @Flag(help: "Keep reading the (last) input as it grows, until Ctrl-C or SIGTERM.")
    var follow = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func run() throws {
        let dbPath: String
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: dest, isDirectory: &isFolder)
        if dest.hasSuffix(".db") || (exists && !isFolder.boolValue) {
            dbPath = dest
        } else {
            try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
            dbPath = (dest as NSString).appendingPathComponent((label ?? Format.today()) + ".db")
        }
        let inputs = files.isEmpty ? ["-"] : files
        var fds: [Int32] = []
        for input in inputs {
            if input == "-" { fds.append(0); continue }
            let fd = open(input, O_RDONLY)
            guard fd >= 0 else { throw CommandError("\(input): cannot open (\(String(cString: strerror(errno))))") }
            fds.append(fd)
        }
        StopSignal.install()
        let ingestor = DocumentIngestor(dbPath: dbPath, defaultSample: sample)
        ingestor.onWarning = { Output.message("Warning: \($0)") }
        for (k, fd) in fds.enumerated() {
            let name = inputs[k] == "-" ? "<stdin>" : inputs[k]
            let reader = JSONLinesReader(fd: fd, follow: follow && k == fds.count - 1, shouldStop: { StopSignal.requested })
            try reader.forEachLine { bytes, number in
                do {
                    try ingestor.ingest(jsonLine: bytes, number: number)
                } catch {
                    Output.message("Error: \(fds.count > 1 ? name + ": " : "")\(error)")
                }
            }
            if fd != 0 { close(fd) }
        }
        let summary = try ingestor.finish()
        if json {
            Output.printJSON([
                "db": .string(dbPath), "runs": .int(Int64(summary.runs)), "events": .int(Int64(summary.events)),
                "frames": .int(Int64(summary.frames)), "skipped": .int(Int64(summary.skipped)),
                "errors": .int(Int64(summary.errors)), "warnings": .int(Int64(summary.warnings)),
                "open_runs": JSONValue(summary.openRuns),
            ])
        } else {
            Output.print("\(dbPath): runs \(summary.runs), events \(summary.events), frames \(summary.frames), skipped \(summary.skipped), errors \(summary.errors)")
            for uid in summary.openRuns {
                Output.message("Note: run \(uid) has no stop yet; it stays open (ingest the rest of its documents to finish it)")
            }
        }
        if summary.errors > 0 { throw ExitCode(1) }
    }
}

/// SIGINT and SIGTERM end `ingest --follow` cleanly: what was read is committed.
enum StopSignal {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    private static let flag = Mutex(false)

    static var requested: Bool { flag.withLock { $0 } }

    static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { flag.withLock { $0 = true } }
            source.resume()
            sources.append(source)
        }
    }
}
