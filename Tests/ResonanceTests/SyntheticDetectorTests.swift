import Foundation
import Resonance
import Testing

/// The synthetic detector's frames must look like a detector's: Poisson counts around the
/// mean image, different noise in every frame, the same frame for the same seed.
@Suite("Synthetic detector")
struct SyntheticDetectorTests {
    @Test func framesAreReproducibleAndDifferFromEachOther() {
        let detector = SyntheticDetector(rows: 96, columns: 128)
        let a: Frame<UInt16> = detector.frame(energy: 285, seed: 7)
        let b: Frame<UInt16> = detector.frame(energy: 285, seed: 7)
        let c: Frame<UInt16> = detector.frame(energy: 285, seed: 8)
        #expect(a.pixels == b.pixels)
        #expect(a.pixels.count == 96 * 128)
        // Two frames of the same scene share the mean, not the noise: most pixels differ.
        let same = zip(a.pixels, c.pixels).filter { $0 == $1 }.count
        #expect(same < a.pixels.count / 10)
        #expect(detector.counts(energy: 285, seed: 7) == a.pixels.map(Double.init))
    }

    @Test func countsFollowPoissonStatisticsAroundTheMean() {
        let detector = SyntheticDetector(rows: 512, columns: 512)
        let counts = detector.counts(energy: 280, seed: 3)
        // Background pixels far from the ring and the beam stop (bottom corners): mean and
        // variance both close to the mean image's value there (Poisson: variance = mean).
        var values: [Double] = []
        var expected: [Double] = []
        for r in 470..<512 {
            for c in 0..<40 {
                values.append(counts[r * 512 + c])
                let d = ((Double(r) - 256) * (Double(r) - 256) + (Double(c) - 256) * (Double(c) - 256)).squareRoot()
                expected.append(detector.meanCounts(distance: d, energy: 280))
            }
        }
        let n = Double(values.count)
        let meanExpected = expected.reduce(0, +) / n
        let residuals = zip(values, expected).map { $0 - $1 }
        let bias = residuals.reduce(0, +) / n
        let variance = residuals.map { $0 * $0 }.reduce(0, +) / n
        #expect(abs(bias) < 0.5)
        #expect(abs(variance / meanExpected - 1) < 0.1)
        #expect(values.allSatisfy { $0 == $0.rounded() && $0 >= 0 })
        // The beam stop's shadow: 2% of the mean, drawn exactly (small whole counts).
        let centre = counts[256 * 512 + 256]
        #expect(centre >= 0 && centre < 20)
        // The ring is far brighter than the background.
        let radius = detector.ringRadius(energy: 280)
        let onRing = counts[256 * 512 + 256 + Int(radius.rounded())]
        #expect(onRing > 400)
    }
}
