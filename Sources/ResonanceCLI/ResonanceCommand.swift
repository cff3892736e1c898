import ArgumentParser

/// `resonance`: write, browse, export, check and index beamline data.
struct ResonanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resonance",
        abstract: "Record and read X-ray beamline data (SQLite + Zarr v3 beamtimes).",
        discussion: """
            A beamtime is one SQLite file (<label>.db) and a Zarr v3 store beside it
            (<label>.zarr) holding the detector frames.

            Examples:
              resonance demo                                  # write a simulated beamtime
              resonance runs beamtime-demo/2026-03-05.db      # newest runs first
              resonance show beamtime-demo/2026-03-05.db 01a2183a
              resonance table beamtime-demo/2026-03-05.db 01a2183a --format csv
              resonance frames bt.db 01a2183a --export frames/ --format png
              resonance check beamtime-demo/2026-03-05.db --repair
              resonance index search index.db --sample PS --since 2026-01-01
            """,
        version: "0.1.0",
        subcommands: [
            DemoCommand.self, RunsCommand.self, ShowCommand.self, TableCommand.self, FramesCommand.self,
            PlotCommand.self, CheckCommand.self, IndexCommand.self, BenchCommand.self, BenchIngestCommand.self, IngestCommand.self, ExportCommand.self,
            ServeCommand.self, KeysCommand.self, ServeBenchCommand.self,
        ]
    )
}
