import Foundation
import GRDB
import Resonance
import Testing

/// The durability promise at full speed: an event is committed (visible to any SQLite
/// reader) no later than the commit interval after writeEvent returned, also when the
/// caller writes as fast as it can and the committer is busy with large batches, and
/// also while frames stream in (their commits sync the file system first).
@Suite("Durability under load", .serialized)
struct DurabilityTests {
    let dir = TempDir()

    /// Writes for `seconds` as fast as possible; a reader polls MAX(seq_num). Returns the
    /// worst delay between writeEvent returning and the event being readable.
    func worstCommitDelay(frames: Bool, interval: Double, seconds: Double) throws -> (delay: Double, events: Int) {
        let db = dir.file(frames ? "frames.db" : "events.db")
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"), options: .init(commitInterval: interval))
        try writer.open()
        try writer.openRun("load")
        try writer.openStream("primary")
        try writer.flush()

        // The reader: (time, highest committed seq_num), every 20 ms.
        final class Polls: @unchecked Sendable {
            let lock = NSLock()
            var samples: [(Date, Int)] = []
            var stop = false
        }
        let polls = Polls()
        let reader = Thread {
            var config = Configuration()
            config.readonly = true
            guard let queue = try? DatabaseQueue(path: db, configuration: config) else { return }
            while !polls.lock.withLock({ polls.stop }) {
                let max = (try? queue.read { try Int.fetchOne($0, sql: "SELECT MAX(seq_num) FROM events") ?? 0 }) ?? 0
                polls.lock.withLock { polls.samples.append((Date(), max)) }
                Thread.sleep(forTimeInterval: 0.02)
            }
            try? queue.close()
        }
        reader.start()

        // The writer: the time each 500th event was returned.
        var returned: [(Int, Date)] = []
        let pixels = [UInt16](repeating: 7, count: 256 * 256)
        let start = Date()
        var seq = 0
        while Date().timeIntervalSince(start) < seconds {
            seq += 1
            let e = try writer.writeEvent(["seq": .int(Int64(seq)), "x": .double(Double(seq) * 0.5)], timestamps: ["x": 1.7e9])
            if frames && seq % 4 == 0 {
                try writer.writeFrame(eventUID: e, field: "ccd", frame: Frame(rows: 256, columns: 256, pixels: pixels))
            }
            if seq % 500 == 0 { returned.append((seq, Date())) }
        }
        // Keep polling past the last promise, then stop.
        Thread.sleep(forTimeInterval: interval + 0.5)
        polls.lock.withLock { polls.stop = true }
        while reader.isExecuting { Thread.sleep(forTimeInterval: 0.01) }
        try writer.closeRun()
        try writer.close()

        let samples = polls.lock.withLock { polls.samples }
        // A late observation may be the reader's own delay (two cores, two busy writer threads):
        // the worst gap between polls is printed beside the result.
        let gap = zip(samples.dropFirst(), samples).map { $0.0.timeIntervalSince($1.0) }.max() ?? 0
        print(String(format: "durability: longest gap between polls %.3f s", gap))
        var worst = 0.0
        for (s, at) in returned {
            guard let seen = samples.first(where: { $0.1 >= s && $0.0 >= at }) else {
                Issue.record("event \(s) never seen committed")
                continue
            }
            worst = max(worst, seen.0.timeIntervalSince(at))
        }
        return (worst, seq)
    }

    @Test func eventsAtFullSpeedAreCommittedWithinTheInterval() throws {
        let (delay, events) = try worstCommitDelay(frames: false, interval: 1.0, seconds: 2.5)
        print("durability: \(events) events in 2.5 s, worst commit delay \(String(format: "%.3f", delay)) s (interval 1 s)")
        #expect(events > 5000)
        #expect(delay <= 1.0 + 0.3)
    }

    @Test func eventsWithFramesAtFullSpeedAreCommittedWithinTheInterval() throws {
        let (delay, events) = try worstCommitDelay(frames: true, interval: 1.0, seconds: 2.5)
        print("durability with frames: \(events) events in 2.5 s, worst commit delay \(String(format: "%.3f", delay)) s (interval 1 s)")
        #expect(events > 1000)
        #expect(delay <= 1.0 + 0.3)
    }
}
