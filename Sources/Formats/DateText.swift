import Foundation

/// A day or a moment as people type them: `2026-03-05`, `2026-03-05T14:30`,
/// `2026-03-05 14:30:15.5`, `2026-03-05T14:30:15Z`, `2026-03-05T14:30+02:00`. Local time
/// unless the text names a zone; a zone needs a time of day. Impossible dates
/// (`2026-02-30`) are refused, not rolled over into the next month.
///
/// The one parser of `resonance runs --since/--until`, `resonance index search` and the
/// server's `since` / `until` query parameters, so a date means the same everywhere.
///
/// ```swift
/// let day = DateText("2026-03-05")!
/// day.start          // local midnight at the start of March 5 (Unix seconds)
/// day.endForUntil    // local midnight at the start of March 6: "until 2026-03-05" includes the day
/// DateText("2026-03-05T14:30:00Z")!.start   // 1772721000.0
/// ```
public struct DateText: Sendable, Equatable {
    /// The moment the text names, in Unix seconds (a bare date: its midnight).
    public var start: Double
    /// Where an "until" bound ends: a bare date ends at the next midnight, so its whole
    /// day is included; a moment ends at itself.
    public var endForUntil: Double

    /// Parses `text`; nil when it is not one of the forms above.
    public init?(_ text: String) {
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
        start = date.timeIntervalSince1970 + (m.7.flatMap { Double($0) } ?? 0)
        if m.4 == nil, let next = calendar.date(byAdding: .day, value: 1, to: date) {
            endForUntil = next.timeIntervalSince1970
        } else {
            endForUntil = start
        }
    }
}
