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

            Examples:
              resonance table 2026-03-05.db 0193ab12cd > nexafs.csv
              resonance table 2026-03-05.db 0193ab12cd --stream baseline --format json
              resonance table 2026-03-05.db 0193ab12cd --output nexafs.csv
              python3 -c 'import pandas; print(pandas.read_csv("nexafs.csv").describe())'
            """
    )

    @Argument(help: "The beamtime database (.db).")
    var db: String

    @Argument(help: "The run's uid, or a unique prefix of 8+ hex digits.")
    var uid: String

    @Option(help: ArgumentHelp("The stream to export.", valueName: "name"))
    var stream: String = "primary"

    @Option(help: "csv or json.")
    var format: TableWriter.Format = .csv

    @Option(help: ArgumentHelp("Write to this file instead of stdout (prints the path written).", valueName: "file"))
    var output: String?

    func run() throws {
        let (_, run) = try RunLookup.run(db: db, uid: uid)
        _ = try RunLookup.stream(stream, of: run)
        let table = try run.table(stream: stream)
        let sink = try Output.sink(output)
        let bar = ProgressBar(total: table.count, label: "table", unit: "rows")
        try TableWriter.write(table, as: format, to: sink) { bar.update($0) }
        bar.finish()
        if let output {
            try sink.close()
            Output.print(output)
        }
    }
}

extension TableWriter.Format: ExpressibleByArgument {}
