import Foundation
import Resonance

/// Phase "detector": the synthetic detector (what `resonance demo` and the frame benchmarks
/// draw their frames with) against the per-pixel generator it replaced, on the same frames
/// in the same run: one `exp` pair, a Box-Muller normal and a float-to-integer conversion
/// per pixel.
struct DetectorBench {
    let size: Int
    let frames: Int
    let repetitions: Int

    struct Result {
        var size: Int
        var frames: Int
        var fast = Timing()
        var reference = Timing()
        var speedup: Double { reference.medianSeconds / fast.medianSeconds }
        var cpuSpeedup: Double { median(reference.cpuSeconds) / median(fast.cpuSeconds) }
    }

    func run() -> Result {
        var result = Result(size: size, frames: frames)
        let detector = SyntheticDetector(rows: size, columns: size)
        var sink: Int64 = 0
        for _ in 0..<repetitions {
            result.fast.append(measure(count: frames) {
                for k in 0..<frames {
                    let f: Frame<Int32> = detector.frame(energy: 280 + Double(k) * 0.25, seed: UInt64(1000 + k))
                    sink &+= Int64(f.pixels[f.pixels.count / 3])
                }
            })
            result.reference.append(measure(count: frames) {
                for k in 0..<frames {
                    let f = ReferenceDetector(rows: size, columns: size).frame(energy: 280 + Double(k) * 0.25, seed: UInt64(1000 + k))
                    sink &+= Int64(f[f.count / 3])
                }
            })
        }
        if sink == 42 { print("") }  // keeps the frames from being optimized away
        return result
    }

    /// Times `body` once: wall and process CPU seconds.
    private func measure(count: Int, _ body: () -> Void) -> Timing {
        let (start, cpu) = (now(), processCPU())
        body()
        return Timing(seconds: [now() - start], cpuSeconds: [processCPU() - cpu])
    }

    func text(_ r: Result) -> String {
        func line(_ name: String, _ t: Timing, _ wall: Double, _ cpu: Double) -> String {
            name.padding(toLength: 30, withPad: " ", startingAt: 0)
                + String(format: "%8.2f s %10.1f %8.2f s %10.1f %10.1f", t.medianSeconds, t.rate(r.frames), median(t.cpuSeconds), wall, cpu)
        }
        return "Synthetic detector: \(r.frames) frames of \(r.size)x\(r.size) int32, median of \(repetitions), alternating\n"
            + "generator                        median   frames/s        CPU   wall x   CPU x\n"
            + line("SyntheticDetector", r.fast, r.speedup, r.cpuSpeedup) + "\n"
            + line("per-pixel generator (before)", r.reference, 1, 1) + "\n"
    }
}

/// The synthetic detector as it was until 2026-12-01, kept as the detector bench's
/// baseline: per pixel a distance, two `exp`, a Poisson draw (Knuth below a mean of 30,
/// else a Box-Muller normal) and a Double-to-Int32 conversion.
struct ReferenceDetector {
    let rows: Int
    let columns: Int

    func frame(energy: Double, seed: UInt64) -> [Int32] {
        let (rows, columns, background, ringAmplitude) = (rows, columns, 100.0, 900.0)
        let cy = Double(rows) / 2, cx = Double(columns) / 2
        let radius = Double(min(rows, columns)) * 0.30 * 285.0 / max(energy, 1)
        let width = max(2.0, Double(min(rows, columns)) * 0.015)
        let stop = Double(min(rows, columns)) * 0.05
        let resonance = 1 + 2 * exp(-pow((energy - 285.0) / 1.5, 2))
        let counts = [Double](unsafeUninitializedCapacity: rows * columns) { out, initialized in
            nonisolated(unsafe) let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: rows) { r in
                var rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(r))
                let dy = Double(r) - cy
                for c in 0..<columns {
                    let dx = Double(c) - cx
                    let d = (dx * dx + dy * dy).squareRoot()
                    var mean = background * (1 + 0.2 * exp(-d / (radius * 2)))
                    let t = (d - radius) / width
                    if t * t < 50 { mean += ringAmplitude * resonance * exp(-t * t) }
                    if d < stop || (abs(dx) < stop * 0.25 && dy < 0) { mean *= 0.02 }
                    (base + r * columns + c).initialize(to: rng.poisson(mean))
                }
            }
            initialized = rows * columns
        }
        let top = Double(Int32.max)
        return counts.map { Int32(min($0, top)) }
    }
}
