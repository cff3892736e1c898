import CommandLineSupport
import ArgumentParser
import Foundation
import Resonance

/// `resonance index`: the master index of many beamtimes.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Catalog many beamtimes in one master index file, and search their runs.",
        discussion: """
            The master index is one SQLite file that lists researchers, their beamtimes and a
            summary of every run (plan, sample, start time, sample tags), so runs can be
            found without opening each beamtime. For a facility, the same index lives in a
            PostgreSQL database: give postgres://user@host:port/database instead of the
            file (the password comes from PGPASSWORD or ~/.pgpass, never from the output).

            Examples:
              resonance index add index.db --researcher "Ada" --root /data/ada /data/ada
              resonance index search index.db --sample PS --since 2026-03-01
              resonance index search postgres://ada@db.example.org:5432/resonance --tag polymer
            """,
        subcommands: [IndexAddCommand.self, IndexSearchCommand.self]
    )
}

/// Opening an index file, with a hint when the file is a beamtime (arguments swapped).
func describeIndexError(_ error: Error, indexPath: String) -> Error {
    if let error = error as? DatabaseFileError, case .foreignDatabase(let tables) = error.problem,
        Set(tables).isSuperset(of: ["samples", "runs", "events"])
    {
        return CommandError("\(error.path): a beamtime database, not a master index (the index file comes first: resonance index add INDEX.db --researcher NAME BEAMTIME.db)")
    }
    return error
}
