import ArgumentParser
import Foundation

/// A `--since`/`--until` value: a day or a moment, in local time unless it names a zone.
struct DateArgument {
    /// The moment the value names (a bare date: its local midnight).
    var start: Double
    /// For `--until`: a bare date ends at the next local midnight, so its day is included.
    var endForUntil: Double

    init?(_ text: String) {
        let pattern = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/
        guard let m = text.wholeMatch(of: pattern) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        if let zone = m.8 {
            let digits = zone.filter(\.isNumber)
            let seconds = zone == "Z" ? 0 : (Int(digits.prefix(2))! * 3600 + Int(digits.suffix(2))! * 60) * (zone.hasPrefix("-") ? -1 : 1)
            guard let tz = TimeZone(secondsFromGMT: seconds) else { return nil }
            calendar.timeZone = tz
        }
        if m.4 == nil, m.8 != nil { return nil }  // a zone needs a time of day
        let components = DateComponents(
            year: Int(m.1), month: Int(m.2), day: Int(m.3), hour: m.4.flatMap { Int($0) } ?? 0,
            minute: m.5.flatMap { Int($0) } ?? 0, second: m.6.flatMap { Int($0) } ?? 0)
        // Calendar would roll 2026-02-30 over to March; refuse it instead.
        guard components.isValidDate(in: calendar), let date = calendar.date(from: components) else { return nil }
        let fraction = m.7.flatMap { Double($0) } ?? 0
        start = date.timeIntervalSince1970 + fraction
        if m.4 == nil, let next = calendar.date(byAdding: .day, value: 1, to: date) {
            endForUntil = next.timeIntervalSince1970
        } else {
            endForUntil = start
        }
    }
}

extension DateArgument: ExpressibleByArgument {
    init?(argument: String) { self.init(argument) }

    static var defaultCompletionKind: CompletionKind { .default }
}
