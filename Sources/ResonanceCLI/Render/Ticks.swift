import Foundation

/// Axis ticks at "nice" values (1, 2, 2.5 or 5 times a power of ten) and their labels.
struct Ticks {
    /// Tick values inside the axis range, ascending.
    var values: [Double]
    /// Labels, one per value, in units of `10^exponent`.
    var labels: [String]
    /// Labels are in multiples of 10^exponent (0: plain numbers); the axis title says so.
    var exponent: Int

    /// About `target` ticks covering `low...high`.
    init(low: Double, high: Double, target: Int) {
        let step = Self.niceStep((high - low) / Double(max(target, 1)))
        var values: [Double] = []
        var k = (low / step).rounded(.up)
        while k * step <= high + step * 1e-9, values.count < 1000 {
            let v = k * step
            values.append(abs(v) < step * 1e-9 ? 0 : v)  // no "-0"
            k += 1
        }
        self.values = values
        // Very large or small numbers: labels in units of a power of ten ("2.5" and "1e-9").
        let largest = max(abs(low), abs(high))
        let magnitude = largest > 0 ? Int(log10(largest).rounded(.down)) : 0
        exponent = magnitude >= 6 || magnitude <= -4 ? magnitude : 0
        let unit = pow(10, Double(exponent))
        let scaledStep = step / unit
        // step = m * 10^p with m in {1, 2, 2.5, 5}: -p decimals, one more for 2.5.
        let p = Int((log10(scaledStep) + 1e-9).rounded(.down))
        let decimals = max(0, -p + (Self.mantissa(step) == 2.5 ? 1 : 0))
        labels = values.map { String(format: "%.\(decimals)f", $0 / unit) }
    }

    /// The nice step at or above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = pow(10, log10(raw).rounded(.down))
        for m in [1, 2, 2.5, 5, 10] where m * power >= raw * (1 - 1e-9) { return m * power }
        return 10 * power
    }

    private static func mantissa(_ step: Double) -> Double {
        let power = pow(10, log10(step).rounded(.down))
        return (step / power * 10).rounded() / 10
    }
}
