import ArgumentParser

/// `resonance-bench`: the developers' benchmarks, apart from the user's `resonance` tool.
/// Each prints its figures beside a baseline or peer measured in the same run.
@main
struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resonance-bench",
        abstract: "Measure Resonance against baselines measured on this machine, in the same run.",
        discussion: """
            Build it in release mode for figures that mean something:
              swift build -c release --product resonance-bench
              .build/release/resonance-bench                 # write: events, frames, reading
              .build/release/resonance-bench --quick --json  # the CI smoke version
              .build/release/resonance-bench ingest          # Bluesky ingest beside the writer alone
              .build/release/resonance-bench index --postgres URL   # master index, SQLite and PostgreSQL
              bash scripts/bench_serve.sh                     # resonance serve under wrk, beside serve's in-process reads
            """,
        subcommands: [WriteBenchCommand.self, IngestBenchCommand.self, IndexBenchCommand.self, ServeBenchCommand.self],
        defaultSubcommand: WriteBenchCommand.self
    )
}
