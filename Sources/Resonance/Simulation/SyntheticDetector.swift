import Concurrency
import Foundation

/// Realistic RSoXS detector frames for demos and benchmarks: Poisson noise around a
/// ~100-count background, a scattering ring whose radius follows the photon energy, and
/// the shadow of the beam stop in the middle.
///
/// Fast enough not to hold up the writer it feeds: the mean counts depend on a pixel's
/// distance from the centre only, so they are tabulated once per frame on a fine radial
/// grid (a few thousand `exp` calls instead of two per pixel), each pixel's place on that
/// grid is computed once per detector geometry (``RadialBins``), and each pixel draws its
/// noise from a table of normal quantiles indexed by 12 random bits (five pixels per 64-bit
/// draw) instead of Box-Muller's `log` and `cos`.
/// Counts below ``exactPoissonBelow`` (the beam stop's shadow) are drawn exactly (Knuth);
/// above it the normal approximation, as before, is indistinguishable for detector counts.
/// Every frame has fresh noise: two frames never share a pixel's draw.
public struct SyntheticDetector: Sendable {
    public var rows: Int
    public var columns: Int
    /// Mean background counts per pixel.
    public var background = 100.0
    /// Peak counts added on the ring.
    public var ringAmplitude = 900.0

    /// Means below this are drawn as exact Poisson counts; above, as mean + sqrt(mean) * N(0, 1), rounded.
    public static let exactPoissonBelow = 30.0

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

    /// The mean counts at distance `d` from the centre (outside the beam stop) at `energy`.
    public func meanCounts(distance d: Double, energy: Double) -> Double {
        let radius = ringRadius(energy: energy)
        let width = ringWidth
        // Resonant enhancement near the carbon pi* edge makes the ring brighter.
        let resonance = 1 + 2 * exp(-pow((energy - 285.0) / 1.5, 2))
        var mean = background * (1 + 0.2 * exp(-d / (radius * 2)))
        let t = (d - radius) / width
        if t * t < 50 { mean += ringAmplitude * resonance * exp(-t * t) }  // beyond, the ring adds < 1e-19
        return mean
    }

    var ringWidth: Double { max(2.0, Double(min(rows, columns)) * 0.015) }

    /// Whether the pixel at offset (dx, dy) from the centre lies in the beam stop's shadow
    /// (the stop and its arm), where the counts are 2% of the mean.
    @inline(__always)
    static func shadowed(dx: Double, dy: Double, d: Double, stop: Double) -> Bool {
        d < stop || (abs(dx) < stop * 0.25 && dy < 0)
    }

    /// One frame as counts (`Double`), row-major.
    public func counts(energy: Double, seed: UInt64) -> [Double] {
        let (rows, columns) = (self.rows, self.columns)
        return [Double](unsafeUninitializedCapacity: rows * columns) { out, initialized in
            nonisolated(unsafe) let base = out.baseAddress!  // rows are disjoint
            draw(energy: energy, seed: seed) { r, row in
                for c in 0..<columns { (base + r * columns + c).initialize(to: Double(row[c])) }
            }
            initialized = rows * columns
        }
    }

    /// One frame of the given pixel type (counts clamped to the type's range).
    /// Inlinable so the conversion is specialized for the caller's pixel type: the generic
    /// conversion costs more than drawing the counts.
    @inlinable
    public func frame<E: FrameElement & FixedWidthInteger>(_ type: E.Type = E.self, energy: Double, seed: UInt64) -> Frame<E> {
        let (rows, columns) = (self.rows, self.columns)
        let pixels = [E](unsafeUninitializedCapacity: rows * columns) { out, initialized in
            nonisolated(unsafe) let base = out.baseAddress!  // rows are disjoint
            draw(energy: energy, seed: seed) { r, row in
                let dst = base + r * columns
                for c in 0..<columns { (dst + c).initialize(to: E(clamping: row[c])) }
            }
            initialized = rows * columns
        }
        return Frame(rows: rows, columns: columns, pixels: pixels)
    }

    /// Draws every row's counts (0...``maximumCount``) on all cores and hands each row
    /// to `deliver` (called concurrently, for disjoint rows). Each row has its own generator
    /// (seeded from `seed` and the row), so a frame is the same whatever the core count.
    @usableFromInline
    func draw(energy: Double, seed: UInt64, _ deliver: @Sendable (Int, UnsafeBufferPointer<Int32>) -> Void) {
        let (rows, columns) = (self.rows, self.columns)
        guard rows > 0, columns > 0 else { return }
        let cy = Double(rows) / 2, cx = Double(columns) / 2
        let stop = Double(min(rows, columns)) * 0.05
        let grid = RadialBins.of(rows: rows, columns: columns, ringWidth: ringWidth)
        let perPixel = grid.perPixel
        let means = (0..<grid.count).map { Float(meanCounts(distance: Double($0) / perPixel, energy: energy)) }
        let sds = means.map { $0.squareRoot() }
        let normals = NormalQuantiles.table
        let exactBelow = Float(Self.exactPoissonBelow)
        let rowsPerTask = max(1, min(64, (1 << 16) / columns))
        let tasks = (rows + rowsPerTask - 1) / rowsPerTask
        let (meanTable, sdTable) = (means, sds)
        DispatchQueue.concurrentPerform(iterations: tasks) { task in
            let row = UnsafeMutableBufferPointer<Int32>.allocate(capacity: columns)
            defer { row.deallocate() }
            meanTable.withUnsafeBufferPointer { means in
                sdTable.withUnsafeBufferPointer { sds in
                    normals.withUnsafeBufferPointer { z in
                      grid.bins.withUnsafeBufferPointer { allBins in
                        for r in task * rowsPerTask..<min(rows, (task + 1) * rowsPerTask) {
                            let binRow = UnsafeBufferPointer(rebasing: allBins[r * columns..<(r + 1) * columns])
                            var rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(r))
                            let dy = Double(r) - cy
                            func dist(_ c: Int) -> Double { let dx = Double(c) - cx; return (dx * dx + dy * dy).squareRoot() }
                            // The beam stop's shadow in this row: one run of columns around the
                            // centre (the stop's chord and, above the centre, its arm).
                            var half = -1.0
                            if stop * stop > dy * dy { half = (stop * stop - dy * dy).squareRoot() }
                            if dy < 0 { half = max(half, stop * 0.25) }
                            var shadow = 0..<0
                            if half >= 0 {
                                // Columns c with |c - cx| < half (strictly, as shadowed(dx:dy:d:stop:) says).
                                let first = max(0, Int((cx - half).rounded(.down)) - 1)
                                let last = min(columns, Int((cx + half).rounded(.up)) + 2)
                                var lo = first, hi = last
                                while lo < last && !Self.shadowed(dx: Double(lo) - cx, dy: dy, d: dist(lo), stop: stop) { lo += 1 }
                                while hi > lo && !Self.shadowed(dx: Double(hi - 1) - cx, dy: dy, d: dist(hi - 1), stop: stop) { hi -= 1 }
                                shadow = lo..<hi
                            }
                            func bin(_ c: Int) -> Int { Int(binRow[c]) }
                            // Outside the shadow: five pixels per 64 random bits.
                            func lit(_ range: Range<Int>) {
                                var c = range.lowerBound
                                while c < range.upperBound {
                                    var bits = rng.next()
                                    for k in c..<min(c + 5, range.upperBound) {
                                        let b = bin(k)
                                        let mean = means[b]
                                        let n = z[Int(truncatingIfNeeded: bits & NormalQuantiles.mask)]
                                        bits >>= NormalQuantiles.bits
                                        row[k] = mean < exactBelow ? Int32(rng.poisson(Double(mean))) : Self.count(mean + sds[b] * n)
                                    }
                                    c += 5
                                }
                            }
                            lit(0..<shadow.lowerBound)
                            for c in shadow {
                                let mean = means[bin(c)] * 0.02
                                if mean < exactBelow {
                                    row[c] = Int32(rng.poisson(Double(mean)))
                                } else {
                                    row[c] = Self.count(mean + mean.squareRoot() * z[Int(truncatingIfNeeded: rng.next() & NormalQuantiles.mask)])
                                }
                            }
                            lit(shadow.upperBound..<columns)
                            deliver(r, UnsafeBufferPointer(row))
                        }
                      }
                    }
                }
            }
        }
    }

    /// Largest count drawn: 2^22 - 1 (detectors count to 2^16-2^20).
    public static let maximumCount = Int32((1 << 22) - 1)

    /// `x` rounded to the nearest whole count in 0...``maximumCount``, without the checks of
    /// a float-to-integer conversion: adding 1.5 * 2^23 leaves the rounded value in the low
    /// 22 bits of the float.
    @inline(__always)
    static func count(_ x: Float) -> Int32 {
        let clamped = min(max(x, 0), Float(maximumCount))
        return Int32(bitPattern: (clamped + 12_582_912).bitPattern & 0x3F_FFFF)
    }
}

/// Each pixel's place on the radial grid the mean counts are tabulated on: the nearest
/// grid point to its distance from the centre. The same for every frame of a detector, so
/// computed once per geometry (a square root and a float-to-integer conversion per pixel
/// were a third of drawing a frame) and kept for the latest few geometries.
final class RadialBins: Sendable {
    /// Grid points per pixel of distance.
    let perPixel: Double
    /// Grid points (the largest bin + 1).
    let count: Int
    /// Row-major, one per pixel.
    let bins: [UInt16]

    private init(rows: Int, columns: Int, ringWidth: Double) {
        let cy = Double(rows) / 2, cx = Double(columns) / 2
        let maxDistance = (cx * cx + cy * cy).squareRoot() + 4
        // Fine enough that the ring's steepest slope moves < 1/30 of its width per step;
        // coarser only where 16-bit bins would not reach the corners (detectors wider than
        // ~16,000 pixels).
        let fine = max(4.0, (32 / ringWidth).rounded(.up))
        perPixel = min(fine, (Double(UInt16.max) - 2) / maxDistance)
        count = Int(maxDistance * perPixel) + 2
        let scale = Float(perPixel)
        bins = [UInt16](unsafeUninitializedCapacity: rows * columns) { out, initialized in
            for r in 0..<rows {
                let dy = Float(Double(r) - cy)
                for c in 0..<columns {
                    let dx = Float(Double(c) - cx)
                    out[r * columns + c] = UInt16((dx * dx + dy * dy).squareRoot() * scale + 0.5)
                }
            }
            initialized = rows * columns
        }
    }

    private struct Key: Hashable {
        var rows: Int, columns: Int, ringWidth: Double
    }

    private static let lock = Lock()
    nonisolated(unsafe) private static var recent: [(Key, RadialBins)] = []  // guarded by `lock`

    /// The grid of a geometry, computed on first use.
    static func of(rows: Int, columns: Int, ringWidth: Double) -> RadialBins {
        let key = Key(rows: rows, columns: columns, ringWidth: ringWidth)
        return lock.withLock {
            if let found = recent.first(where: { $0.0 == key }) { return found.1 }
            let grid = RadialBins(rows: rows, columns: columns, ringWidth: ringWidth)
            recent = [(key, grid)] + recent.prefix(3)
            return grid
        }
    }
}

/// 4,096 quantiles of the standard normal distribution, at (i + 0.5) / 4,096: a draw is one
/// lookup with 12 uniform random bits in a table that stays in the L1 cache (16 KiB; with
/// 65,536 entries the lookups missed it and drawing took twice as long). Tails are cut at
/// 3.5 standard deviations (probability 5e-4): no detector image shows the difference,
/// and the counts' spread (and so their compressibility) is that of Poisson noise.
enum NormalQuantiles {
    static let bits: UInt64 = 12
    static let mask: UInt64 = (1 << bits) - 1
    static let table: [Float] = (0..<(1 << bits)).map { i in Float(quantile((Double(i) + 0.5) / Double(1 << bits))) }

    /// The standard normal quantile at `p` in (0, 1): Acklam's rational approximation
    /// (relative error 1.2e-9) refined by one Halley step, far below float precision.
    static func quantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        func tail(_ q: Double) -> Double {
            (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        var x: Double
        if p < 0.02425 {
            x = tail((-2 * log(p)).squareRoot())
        } else if p > 1 - 0.02425 {
            x = -tail((-2 * log(1 - p)).squareRoot())
        } else {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        }
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
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
