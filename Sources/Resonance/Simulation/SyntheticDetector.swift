import Foundation

/// Realistic RSoXS detector frames for demos and benchmarks: Poisson noise around a
/// ~100-count background, a scattering ring whose radius follows the photon energy, and
/// the shadow of the beam stop in the middle.
public struct SyntheticDetector: Sendable {
    public var rows: Int
    public var columns: Int
    /// Mean background counts per pixel.
    public var background = 100.0
    /// Peak counts added on the ring.
    public var ringAmplitude = 900.0

    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
    }

    /// Ring radius in pixels at `energy` eV: the scattering vector of a fixed length scale
    /// moves inward as the energy rises.
    public func ringRadius(energy: Double) -> Double {
        let base = Double(min(rows, columns)) * 0.30
        return base * 285.0 / max(energy, 1)
    }

    /// One frame as counts (`Double`), row-major; callers convert to their pixel type.
    /// Rows are drawn on all cores; each row has its own generator (seeded from `seed` and
    /// the row), so a frame is the same whatever the core count.
    public func counts(energy: Double, seed: UInt64) -> [Double] {
        let (rows, columns, background, ringAmplitude) = (self.rows, self.columns, self.background, self.ringAmplitude)
        let cy = Double(rows) / 2, cx = Double(columns) / 2
        let radius = ringRadius(energy: energy)
        let width = max(2.0, Double(min(rows, columns)) * 0.015)
        let stop = Double(min(rows, columns)) * 0.05
        // Resonant enhancement near the carbon pi* edge makes the ring brighter.
        let resonance = 1 + 2 * exp(-pow((energy - 285.0) / 1.5, 2))
        return [Double](unsafeUninitializedCapacity: rows * columns) { out, initialized in
            nonisolated(unsafe) let base = out.baseAddress!  // rows are disjoint
            DispatchQueue.concurrentPerform(iterations: rows) { r in
                var rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(r))
                let dy = Double(r) - cy
                for c in 0..<columns {
                    let dx = Double(c) - cx
                    let d = (dx * dx + dy * dy).squareRoot()
                    var mean = background * (1 + 0.2 * exp(-d / (radius * 2)))
                    let t = (d - radius) / width
                    if t * t < 50 { mean += ringAmplitude * resonance * exp(-t * t) }  // beyond, the ring adds < 1e-19
                    if d < stop || (abs(dx) < stop * 0.25 && dy < 0) { mean *= 0.02 }  // beam stop and its arm
                    (base + r * columns + c).initialize(to: rng.poisson(mean))
                }
            }
            initialized = rows * columns
        }
    }

    /// One frame of the given pixel type (counts clamped to the type's range).
    /// Inlinable so the conversion is specialized for the caller's pixel type: the generic
    /// Double-to-integer conversion costs more than drawing the counts.
    @inlinable
    public func frame<E: FrameElement & FixedWidthInteger>(_ type: E.Type = E.self, energy: Double, seed: UInt64) -> Frame<E> {
        let counts = counts(energy: energy, seed: seed)
        let top = Double(E.max)
        return Frame(rows: rows, columns: columns, pixels: counts.map { E(min($0, top)) })
    }
}

/// A carbon K-edge NEXAFS spectrum: a step edge near 290 eV, the C 1s → π* resonance near
/// 285 eV, broad σ* features above 290 eV, and a little noise.
public struct NexafsSpectrum: Sendable {
    public init() {}

    /// Absorption (arbitrary units) at `energy` eV without noise.
    public func absorption(at energy: Double) -> Double {
        let preEdge = 0.05 + 0.0005 * (energy - 270)
        let step = 0.6 / (1 + exp(-(energy - 290.0) / 0.8))
        let piStar = 1.4 * exp(-pow((energy - 285.2) / 0.45, 2))
        let sigmaStar = 0.5 * exp(-pow((energy - 293.0) / 2.0, 2)) + 0.35 * exp(-pow((energy - 301.0) / 3.5, 2))
        return preEdge + step + piStar + sigmaStar
    }

    /// A measured point: absorption with relative noise.
    public func measured(at energy: Double, rng: inout SeededGenerator, noise: Double = 0.01) -> Double {
        absorption(at: energy) * (1 + noise * rng.normal())
    }
}
