import Foundation
import GRDB
import Resonance
import Testing

/// One writer at full speed and four reader processes. CI runs 8 s;
/// `RESONANCE_CONCURRENCY_SECONDS=30 swift test --filter Concurrency` runs the full 30 s.
@Suite("Concurrency", .serialized)
struct ConcurrencyTests {
    static let seconds = Double(ProcessInfo.processInfo.environment["RESONANCE_CONCURRENCY_SECONDS"] ?? "") ?? 8

    @Test func fourReadersBesideAFullSpeedWriterSeeOnlyGrowthAndNoErrors() throws {
        let dir = TempDir()
        let db = dir.file("busy.db")
        let writer = try ChildWriter([db, "frames", "0.2"])
        writer.read(timeout: 10) { $0.count > 2 }
        let readers = try (0..<4).map { _ in
            try startCommand(builtExecutable("ResonanceFaultWriter"), [db, "read", "\(Self.seconds)"])
        }
        // Keep draining the writer's reports so it never blocks on a full pipe.
        writer.read(timeout: Self.seconds + 30) { _ in readers.allSatisfy { !$0.process.isRunning } }
        let outputs = readers.map { $0.wait() }
        writer.kill()
        var totalReads = 0
        for (n, out) in outputs.enumerated() {
            #expect(out.status == 0, "reader \(n): \(out.stdout) \(out.stderr)")
            #expect(!out.stdout.contains("ERR"), "reader \(n): \(out.stdout)")
            #expect(!(out.stdout + out.stderr).contains("locked"), "reader \(n)")
            let words = out.stdout.split(separator: " ")
            if words.first == "READS", let reads = Int(words[1]) { totalReads += reads }
        }
        let frames = writer.lines.filter { $0.line.hasPrefix("F ") }.count
        #expect(writer.process.terminationReason == .uncaughtSignal)  // it was still writing at the end
        print("concurrency: 4 readers, \(totalReads) table+frame reads in \(Self.seconds) s beside a writer that stored \(frames) frames; reader errors: \(outputs.filter { $0.status != 0 }.count)")
        #expect(totalReads > 4)
    }
}
