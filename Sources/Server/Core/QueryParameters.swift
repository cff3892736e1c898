import Foundation
import Hummingbird
import ResonanceFormats

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

    /// A moment: Unix seconds, or a date / date-time as ResonanceFormats' `DateText` reads it
    /// (server's local time unless it names a zone). With `endOfDay`, a bare date means the
    /// end of that day (for `until`).
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
