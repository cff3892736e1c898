import Foundation
import Testing
@testable import Resonance

/// The writer keeps the pages of the frames a live reader asks for (the latest second or
/// two, bounded in bytes) and gives back the rest: which frames ``Writeback`` hands back,
/// and when, with a clock and a hand-back hook of the test's own.
@Suite("Page cache window")
struct PageCacheWindowTests {
    /// A writeback whose clock the test moves, recording the frames it hands back.
    final class Probe {
        var now: UInt64 = 1_000_000_000
        var handedBack: [String] = []
        var writeback: Writeback!

        init(_ window: PageCacheWindow) {
            writeback = Writeback(window: window, clock: { [unowned self] in now }) { [unowned self] frame in
                guard case .file(let name) = frame else { Issue.record("a shard range handed back"); return }
                handedBack.append(name)
            }
        }

        /// Writes frame `k` (`bytes` long) at `seconds` past the start.
        func write(_ k: Int, bytes: Int = 1000, at seconds: Double) {
            now = 1_000_000_000 + UInt64((seconds * 1e6).rounded()) * 1000  // whole microseconds: exact ages
            writeback.release(.file("f\(k)"), bytes: bytes)
        }
    }

    @Test("The last-frames window hands back each frame 32 frames after it was written")
    func lastFrames() {
        let probe = Probe(.lastFrames)
        for k in 0..<32 { probe.write(k, at: 0) }
        #expect(probe.handedBack.isEmpty)
        for k in 32..<40 { probe.write(k, at: 10) }
        #expect(probe.handedBack == (0..<8).map { "f\($0)" })
        #expect(probe.writeback.cachedFrames == 32)
    }

    @Test("Frames younger than the window keep their pages; older ones are handed back, oldest first")
    func byAge() {
        // 100 frames a second, 1 KB each: far below the byte cap.
        let probe = Probe(PageCacheWindow(frames: 4, seconds: 2, bytes: 1 << 30))
        for k in 0..<200 { probe.write(k, at: Double(k) * 0.01) }
        // Frame 199 at 1.99 s: frame 0, written at 0 s, is still within 2 s.
        #expect(probe.handedBack.isEmpty)
        #expect(probe.writeback.cachedFrames == 200)
        probe.write(200, at: 2.0)
        #expect(probe.handedBack == ["f0"])
        for k in 201..<300 { probe.write(k, at: Double(k) * 0.01) }
        // At 2.99 s frames 0...99 (up to 0.99 s) are 2 s old or more.
        #expect(probe.handedBack == (0..<100).map { "f\($0)" })
        #expect(probe.writeback.cachedFrames == 200)
    }

    @Test("The byte cap hands back frames still within the window")
    func byteCap() {
        let probe = Probe(PageCacheWindow(frames: 4, seconds: 2, bytes: 10_000))
        for k in 0..<10 { probe.write(k, bytes: 1000, at: 0.1 * Double(k)) }
        #expect(probe.handedBack.isEmpty)  // exactly 10,000 bytes: within the cap
        probe.write(10, bytes: 1000, at: 1.0)
        #expect(probe.handedBack == ["f0"])
        probe.write(11, bytes: 3500, at: 1.1)
        #expect(probe.handedBack == ["f0", "f1", "f2", "f3", "f4"])
        #expect(probe.writeback.cachedFrames == 7)
        // What stays never holds more than the cap.
        for k in 12..<500 { probe.write(k, bytes: 700 + (k * 37) % 900, at: 1.1 + Double(k) * 0.001) }
        #expect(probe.writeback.cachedFrames < 20)
        #expect(probe.handedBack.count + probe.writeback.cachedFrames == 500)
    }

    @Test("The last frames stay whatever their size and age: their writeback may not be done")
    func floor() {
        let probe = Probe(PageCacheWindow(frames: 4, seconds: 1, bytes: 1000))
        for k in 0..<4 { probe.write(k, bytes: 5000, at: Double(k) * 10) }
        #expect(probe.handedBack.isEmpty)
        probe.write(4, bytes: 5000, at: 40)
        #expect(probe.handedBack == ["f0"])
        #expect(probe.writeback.cachedFrames == 4)
    }

    @Test("A long run keeps its bookkeeping bounded and hands back every frame once, in order")
    func longRun() {
        let probe = Probe(PageCacheWindow(frames: 32, seconds: 0.5, bytes: 1 << 30))
        for k in 0..<20_000 { probe.write(k, bytes: 100, at: Double(k) * 0.001) }
        // 0.5 s at 1,000 frames/s: frames 19,500...19,999 stay (19,499 is exactly 0.5 s old).
        #expect(probe.handedBack.count == 19_500)
        #expect(probe.handedBack == (0..<19_500).map { "f\($0)" })
        #expect(probe.writeback.cachedFrames == 500)
    }
}
