import ArgumentParser
import Foundation
import Resonance
import Synchronization

/// `resonance-bench serve`: the requests `scripts/bench_serve.sh` sends over HTTP, made
/// in-process through one shared Catalog by the same number of threads, for comparison.
struct ServeBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Time run metadata, a frame and an event table read in-process (the baseline of scripts/bench_serve.sh).",
        discussion: """
            Each of THREADS threads repeats one kind of read for SECONDS: catalog.run(uid) \
            (metadata), frames.frame(index) (one frame, decoded), run.table(stream:) (the \
            whole table). Prints requests per second, p50 and p99 in milliseconds.

            Example:
              resonance-bench serve bench.db --table-run 0193ab12 --frame-run 0193ac44 --field detector_image
            """
    )

    @Argument(help: "The beamtime database (.db).")
    var db: String

    @Option(help: "Run whose metadata and table are read.")
    var tableRun: String

    @Option(help: "Run whose frame is read.")
    var frameRun: String

    @Option(help: "Frame field.")
    var field: String = Run.defaultFrameField

    @Option(help: "Concurrent threads.")
    var threads: Int = 32

    @Option(help: "Seconds per kind of read.")
    var seconds: Double = 10

    func run() throws {
        let catalog = try Catalog(dbPath: db).open()
        let tableRun = self.tableRun, frameRun = self.frameRun, field = self.field
        let cases: [(String, @Sendable () throws -> Void)] = [
            ("metadata", { _ = try catalog.run(tableRun) }),
            ("frame", { _ = try catalog.run(frameRun).frames(field: field).frame(-1) }),
            ("table", { _ = try catalog.run(tableRun).table(stream: "primary") }),
        ]
        for (name, body) in cases {
            let samples = Mutex<[Double]>([])
            let failures = Mutex(0)
            let end = Date().addingTimeInterval(seconds)
            let group = DispatchGroup()
            for _ in 0..<threads {
                group.enter()
                Thread.detachNewThread {
                    var local: [Double] = []
                    while Date() < end {
                        let start = DispatchTime.now().uptimeNanoseconds
                        do { try body() } catch { failures.withLock { $0 += 1 } }
                        local.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                    }
                    samples.withLock { $0 += local }
                    group.leave()
                }
            }
            group.wait()
            let sorted = samples.withLock { $0.sorted() }
            guard !sorted.isEmpty else { continue }
            func q(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            print(String(format: "in-process %-8@ %7.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d",
                         name as NSString, Double(sorted.count) / seconds, q(0.5), q(0.99), failures.withLock { $0 }))
        }
    }
}
