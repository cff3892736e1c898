import ArgumentParser

/// `resonance`: write, browse, export, check and index beamline data.
struct ResonanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resonance",
        abstract: "Record and read X-ray beamline data (SQLite + Zarr v3 beamtimes).",
        discussion: """
            A beamtime is one SQLite file (<label>.db) and a Zarr v3 store beside it             (<label>.zarr) holding the detector frames.

            Examples:
              resonance demo                         # write a simulated beamtime
              resonance runs beamtime-demo/2026-03-05.db
              resonance show beamtime-demo/2026-03-05.db 0193ab12
            """,
        version: "0.1.0",
        subcommands: [DemoCommand.self, CheckCommand.self, BenchCommand.self]
    )
}
