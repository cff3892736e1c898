import Foundation
import Hummingbird

/// Reading query parameters with errors that name the parameter and the value.
struct QueryParameters {
    let request: Request

    init(_ request: Request) { self.request = request }

    func string(_ name: String, maxLength: Int = 512) throws -> String? {
        guard let value = request.uri.queryParameters.get(name) else { return nil }
        guard value.utf8.count <= maxLength else {
            throw Problem.badRequest("query parameter \(name) is \(value.utf8.count) bytes long; at most \(maxLength) are accepted")
        }
        return value
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = try string(name, maxLength: 32) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw Problem.badRequest("query parameter \(name)=\(text.debugDescription) is not an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A moment: Unix seconds, or an ISO 8601 date / date-time (server's local time unless
    /// it names a zone). With `endOfDay`, a bare date means the end of that day (for `until`).
    func date(_ name: String, endOfDay: Bool = false) throws -> Double? {
        guard let text = try string(name, maxLength: 64) else { return nil }
        if let seconds = Double(text), seconds.isFinite { return seconds }
        guard let moment = DateText(text) else {
            throw Problem.badRequest("query parameter \(name)=\(text.debugDescription) is not a date: give Unix seconds, YYYY-MM-DD or an ISO 8601 date-time such as 2026-03-05T14:30:00Z")
        }
        return endOfDay ? moment.endForUntil : moment.start
    }

    /// One of `allowed`.
    func choice(_ name: String, _ allowed: [String], default fallback: String) throws -> String {
        guard let text = try string(name, maxLength: 64) else { return fallback }
        guard allowed.contains(text) else {
            throw Problem.badRequest("query parameter \(name)=\(text.debugDescription) is not one of \(allowed.joined(separator: ", "))")
        }
        return text
    }
}

/// A day or a moment as `resonance index search --since/--until` read them.
struct DateText {
    var start: Double
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
        if m.4 == nil, m.8 != nil { return nil }
        let components = DateComponents(
            year: Int(m.1), month: Int(m.2), day: Int(m.3), hour: m.4.flatMap { Int($0) } ?? 0,
            minute: m.5.flatMap { Int($0) } ?? 0, second: m.6.flatMap { Int($0) } ?? 0)
        guard components.isValidDate(in: calendar), let date = calendar.date(from: components) else { return nil }
        start = date.timeIntervalSince1970 + (m.7.flatMap { Double($0) } ?? 0)
        if m.4 == nil, let next = calendar.date(byAdding: .day, value: 1, to: date) {
            endForUntil = next.timeIntervalSince1970
        } else {
            endForUntil = start
        }
    }
}
