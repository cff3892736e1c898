import Foundation
import GRDB
import Resonance
import Testing

/// A small tmpfs: the disk fills up for real. Needs root (CI and the dev machines run as root).
final class SmallDisk {
    let path: String

    init(megabytes: Int) throws {
        path = NSTemporaryDirectory() + "resonance-full-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path]
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else {
            throw CancellationError()  // reported by the caller with the reason
        }
    }

    deinit {
        let umount = Process()
        umount.executableURL = URL(fileURLWithPath: "/bin/umount")
        umount.arguments = [path]
        try? umount.run()
        umount.waitUntilExit()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Remounts the file system read-only or read-write.
    func remount(readOnly: Bool) throws {
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-o", readOnly ? "remount,ro" : "remount,rw", path]
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { throw CancellationError() }
    }

    /// Fills the disk with a ballast file; removing it frees the space again.
    func fill() throws -> String {
        let ballast = path + "/ballast"
        _ = FileManager.default.createFile(atPath: ballast, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: ballast))
        let block = Data(repeating: 0xAB, count: 64 * 1024)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()
        return ballast
    }
}

@Suite("Disk full", .serialized)
struct DiskFullTests {
    @Test func aFullDiskFailsClearlyKeepsWhatWasCommittedAndRecovers() throws {
        let disk: SmallDisk
        do { disk = try SmallDisk(megabytes: 8) } catch {
            Issue.record("cannot mount a tmpfs (this test needs root): \(error)")
            return
        }
        let db = disk.path + "/full.db"
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"), options: .init(commitInterval: 0.05))
        try writer.open()
        let run = try writer.openRun("nexafs")
        try writer.openStream("primary")
        for i in 0..<200 { try writer.writeEvent(["i": .int(Int64(i))]) }
        let e = try writer.writeEvent(["i": 200])
        try writer.writeFrame(eventUID: e, field: "ccd", frame: Frame<UInt16>(rows: 64, columns: 64, pixels: (0..<4096).map { UInt16($0) }))
        try writer.flush()
        let ballast = try disk.fill()

        // Frames fail on the spot, naming the file that could not be written.
        var frameError: (any Error)?
        var seq = 201
        let event = try writer.writeEvent(["i": .int(Int64(seq))])
        seq += 1
        var random = SeededGenerator(seed: 7)
        do {
            for _ in 0..<50 {
                let pixels = (0..<(256 * 256)).map { _ in UInt16(truncatingIfNeeded: random.next()) }
                try writer.writeFrame(eventUID: event, field: "ccd2", frame: Frame<UInt16>(rows: 256, columns: 256, pixels: pixels))
            }
        } catch { frameError = error }
        let frameMessage = "\(frameError.map { "\($0)" } ?? "no error")"
        #expect(frameError != nil)
        #expect(frameMessage.contains(disk.path), "\(frameMessage)")
        #expect(frameMessage.lowercased().contains("space"), "\(frameMessage)")

        // Events: the commit fails; the writer says so on a later call and keeps the rows.
        var eventError: (any Error)?
        for _ in 0..<2000 {
            do {
                try writer.writeEvent(["i": .int(Int64(seq)), "pad": .string(String(repeating: "x", count: 2000))])
                seq += 1
            } catch { eventError = error; break }
            if seq % 100 == 0 { Thread.sleep(forTimeInterval: 0.06) }
        }
        if eventError == nil { do { try writer.flush() } catch { eventError = error } }
        let error = try #require(eventError as? RunWriterError)
        guard case .commitFailed(let reason, let pending) = error else {
            Issue.record("expected commitFailed, got \(error)")
            return
        }
        #expect(reason.contains("full") || reason.contains("disk"), "\(reason)")
        #expect(pending > 0)

        // Everything committed before the disk filled is still readable.
        let committed = try inspect(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") ?? 0 }
        #expect(committed >= 201)
        #expect(try inspect(db) { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")

        // Free the space: the same writer goes on and loses nothing it had accepted.
        try FileManager.default.removeItem(atPath: ballast)
        try writer.flush()
        try writer.writeEvent(["i": .int(Int64(seq))])
        seq += 1
        try writer.closeRun()
        try writer.close()
        let (count, maxSeq, numEvents) = try inspect(db) { db -> (Int, Int, Int) in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events")!,
             try Int.fetchOne(db, sql: "SELECT MAX(seq_num) FROM events")!,
             try Int.fetchOne(db, sql: "SELECT num_events FROM runs WHERE uid = ?", arguments: [run])!)
        }
        #expect(count == seq)
        #expect(maxSeq == seq)
        #expect(numEvents == seq)
    }
}
