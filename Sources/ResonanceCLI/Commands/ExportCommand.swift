import CommandLineSupport
import ArgumentParser
import Foundation
import Resonance
import ResonanceBluesky

/// `resonance export`: a run as Bluesky event-model documents.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a run as Bluesky event-model documents (JSON lines).",
        discussion: """
            Writes start, one descriptor per stream, a stream_resource per frame field \
            pointing at its Zarr array (mimetype application/x-zarr), event_pages, \
            stream_datums and stop, one [name, doc] per line. A run recorded by \
            `resonance ingest` gives back its original start, descriptors and stop. \
            `resonance ingest` reads the result back into the same tables and frames.

            Examples:
              resonance export 2026-03-05.db 0193ab12 --documents > run.jsonl
              resonance export 2026-03-05.db 0193ab12 --documents --output run.jsonl
              resonance export 2026-03-05.db 0193ab12 --documents | resonance ingest copy.db
            """
    )

    @OptionGroup var target: RunArguments

    @Flag(help: "Export event-model documents (the one export this command makes).")
    var documents = false

    @Option(help: ArgumentHelp("Write to this file instead of stdout (prints the path written).", valueName: "file"))
    var output: String?

    func validate() throws {
        guard documents else { throw ValidationError("say what to export: --documents (for tables see `resonance table`, frames `resonance frames --export`)") }
    }

    func run() throws {
        _ = try target.lookUp()  // the error messages of the other commands
        let sink = try Output.sink(output)
        var buffer = Data()
        let summary = try DocumentExporter.export(dbPath: target.db, uid: target.uid) { line in
            buffer.append(contentsOf: line.utf8)
            buffer.append(0x0A)
            if buffer.count >= 1 << 20 {
                sink.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        sink.write(buffer)
        if let output {
            try sink.close()
            Output.print(output)
        }
        if !summary.stopped {
            Output.message("Note: run \(summary.runUID) is still open: no stop document was written")
        }
    }
}
