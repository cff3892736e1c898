import Foundation
import GRDB
import Resonance
import Zarr

/// Phase 3: reading back what the writer phases wrote, against decoding the same chunks
/// alone on all cores (encoded bytes already in memory).
struct ReadingBench {
    let repetitions: Int
    let randomFrames: Int
    let dir: String

    func run(eventsDB: String?, framesDB: String?) throws -> ReadingResult {
        var result = ReadingResult(events: 0, frameSize: 0, frames: 0, resultBytes: 0, randomCount: randomFrames)
        if let eventsDB {
            let catalog = try Catalog(dbPath: eventsDB)
            defer { try? catalog.close() }
            guard let summary = try catalog.recent(1).first else { throw BenchError("\(eventsDB) holds no run") }
            let run = try catalog.run(summary.uid)
            var timing = Timing()
            for _ in 0..<repetitions {
                let (seconds, growth) = try Memory.measuringPeak { () throws -> Double in
                    let start = now()
                    let table = try run.table()
                    let seconds = now() - start
                    result.events = table.count
                    return seconds
                }
                timing.seconds.append(seconds)
                timing.peakGrowth.append(growth)
            }
            result.table = timing
        }
        if let framesDB {
            let (array, _) = try Self.frameArray(framesDB)
            let count = array.shape[0]
            result.frameSize = array.shape[1]
            result.frames = count
            result.resultBytes = count * array.chunkByteCount
            var rng = SeededGenerator(seed: 50)
            let picks = (0..<randomFrames).map { _ in Int(rng.next() % UInt64(count)) }

            let catalog = try Catalog(dbPath: framesDB)
            defer { try? catalog.close() }
            guard let summary = try catalog.recent(1).first else { throw BenchError("\(framesDB) holds no run") }
            let ccd = try catalog.run(summary.uid).frames(field: "ccd")
            guard ccd.count == count else { throw BenchError("the reader sees \(ccd.count) frames, the array \(count)") }

            // Baselines: the same chunks, already in memory, decoded alone.
            let encoded = try (0..<count).map { k -> [UInt8] in
                guard let bytes = try array.loadEncodedChunk(at: [k, 0, 0]) else { throw BenchError("frame \(k) missing") }
                return bytes
            }
            let once = ReadingBench(repetitions: 1, randomFrames: randomFrames, dir: dir)
            var random = Timing(), randomBaseline = Timing(), whole = Timing(), wholeBaseline = Timing()
            // The reader and its baseline in turn, so a change in the machine's load hits both alike.
            for _ in 0..<repetitions {
                // One random frame at a time, as a viewer asks for them.
                var checksum = 0
                let start = now()
                for k in picks {
                    let frame = try ccd.frame(k, as: UInt16.self)
                    checksum &+= Int(frame.pixels[frame.pixels.count / 2])
                }
                random.seconds.append((now() - start) / Double(max(picks.count, 1)))
                if checksum == -1 { print(checksum) }  // keep the reads
                randomBaseline.append(try once.decodeEach(array, encoded, picks))

                // The whole run into one buffer.
                let (seconds, growth) = try Memory.measuringPeak { () throws -> Double in
                    let start = now()
                    let probe = CPUProbe()
                    defer { probe.report("reader whole run") }
                    let stack = try ccd.frames(0..<count, as: UInt16.self)
                    let seconds = now() - start
                    guard stack.pixels.count == count * array.chunkByteCount / 2 else { throw BenchError("short read") }
                    return seconds
                }
                whole.seconds.append(seconds)
                whole.peakGrowth.append(growth)
                wholeBaseline.append(try once.decodeAll(array, encoded))
            }
            result.randomFrame = random
            result.randomFrameBaseline = randomBaseline
            result.wholeRun = whole
            result.wholeRunBaseline = wholeBaseline
        }
        return result
    }

    /// The array of the (only) frame run in a beamtime written by the frames phase.
    static func frameArray(_ dbPath: String) throws -> (ZarrArray, String) {
        let queue = try DatabaseQueue(path: dbPath, configuration: { var c = Configuration(); c.readonly = true; return c }())
        defer { try? queue.close() }
        guard let group = try queue.read({ try String.fetchOne($0, sql: "SELECT zarr_group FROM image_refs LIMIT 1") }) else {
            throw BenchError("\(dbPath) holds no frames")
        }
        let store = try FilesystemStore(root: RunWriter.zarrPath(forDatabase: dbPath))
        return (try ZarrArray.open(in: store, at: group), group)
    }

    /// Decode-only: each picked chunk decoded from memory, one after the other; seconds per frame.
    func decodeEach(_ array: ZarrArray, _ encoded: [[UInt8]], _ picks: [Int]) throws -> Timing {
        var timing = Timing()
        var buffer = [UInt8](repeating: 0, count: array.chunkByteCount)
        for _ in 0..<repetitions {
            let start = now()
            for k in picks {
                try buffer.withUnsafeMutableBytes { try array.decodeChunk(encoded[k], at: [k, 0, 0], into: $0) }
            }
            timing.seconds.append((now() - start) / Double(max(picks.count, 1)))
        }
        return timing
    }

    /// Decode-only: every chunk decoded from memory into one buffer, chunks spread over all cores.
    func decodeAll(_ array: ZarrArray, _ encoded: [[UInt8]]) throws -> Timing {
        var timing = Timing()
        let chunk = array.chunkByteCount
        for _ in 0..<repetitions {
            let failure = Slots<String>(1)
            let (seconds, growth) = Memory.measuringPeak { () -> Double in
                let start = now()
                let probe = CPUProbe()
                defer { probe.report("decode-only whole run") }
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk * encoded.count, alignment: 64)
                defer { buffer.deallocate() }
                let shared = UncheckedBuffer(buffer)
                concurrently(encoded.count) { k in
                    do {
                        try array.decodeChunk(encoded[k], at: [k, 0, 0], into: UnsafeMutableRawBufferPointer(rebasing: shared.buffer[(k * chunk)..<((k + 1) * chunk)]))
                    } catch {
                        failure[0] = "\(error)"
                    }
                }
                return now() - start
            }
            if let message = failure[0] { throw BenchError("decoding: \(message)") }
            timing.seconds.append(seconds)
            timing.peakGrowth.append(growth)
        }
        return timing
    }
}

struct UncheckedBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }
}
