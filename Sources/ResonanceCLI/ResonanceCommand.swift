import ArgumentParser

/// `resonance`: write, browse, export, check and index beamline data.
struct ResonanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resonance",
        abstract: "Record and read X-ray beamline data (SQLite + Zarr v3 beamtimes).",
        version: "0.1.0",
        subcommands: [IndexCommand.self]
    )
}
