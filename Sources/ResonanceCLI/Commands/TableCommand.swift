import CommandLineSupport
import ResonanceFormats
import ArgumentParser
import Foundation
import Resonance

/// `resonance table`: a stream's events as CSV or JSON.
struct TableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "Export a run's event table (one stream) as CSV or JSON.",
        discussion: """
            CSV: the header seq_num,time,<fields...> (fields in the order they first appear), \
            one line per event. Floats keep full precision (they read back to the same \
            double); non-finite floats are NaN, inf and -inf; a missing value is an empty \
            field; bools are True/False; strings are quoted per RFC 4180 when needed. \
            pandas.read_csv reads it back with the right dtypes and NaN.

            JSON: an array of row objects, one per event, with the same keys in the same \
            order; null for a missing value; NaN, Infinity, -Infinity as Python's json writes them.

            Columns: one JSON object of arrays, {"seq_num": [...], "time": [...], ...}, \
            what pandas.DataFrame(json.load(f)) reads. Every format is written as the \
            events are read: memory stays flat however long the run.

            Examples:
              resonance table 2026-03-05.db 0193ab12cd > nexafs.csv
              resonance table 2026-03-05.db 0193ab12cd --stream baseline --format json
              resonance table 2026-03-05.db 0193ab12cd --output nexafs.csv
              python3 -c 'import pandas; print(pandas.read_csv("nexafs.csv").describe())'
            """
    )

    @OptionGroup var target: RunArguments

    @Option(help: ArgumentHelp("The stream to export.", valueName: "name"))
    var stream: String = "primary"

    @Option(help: "csv, json, or columns (one object of column arrays, for pandas.DataFrame).")
    var format: TableWriter.Format = .csv

    @Option(help: ArgumentHelp("Write to this file instead of stdout (prints the path written).", valueName: "file"))
    var output: String?

    /// Events read at a time (tests use small batches to cross batch boundaries).
    @Option(help: .hidden)
    var batchRows: Int = 65_536

    func run() throws {
        guard batchRows > 0 else { throw ValidationError("--batch-rows must be at least 1 (got \(batchRows))") }
        let (_, run) = try target.lookUp()
        _ = try RunLookup.stream(stream, of: run)
        let sink = try Output.sink(output)
        let bar = ProgressBar(total: run.stream(stream)?.eventCount ?? 0, label: "table", unit: "rows")
        try TableWriter.write(run, stream: stream, as: format, batchRows: batchRows, progress: { bar.update($0) }) { try sink.write(contentsOf: $0) }
        bar.finish()
        if let output {
            try sink.close()
            Output.print(output)
        }
    }
}

extension TableWriter.Format: ExpressibleByArgument {}
