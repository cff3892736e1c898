import Foundation
import JSONValue

/// Which runs of a beamtime to list, in which order: every filter set must hold.
/// ``Catalog/runs(_:)`` runs it as one SQL query, so a beamtime of thousands of runs is
/// filtered, ordered and paged in SQLite, not in memory.
///
/// ```swift
/// var query = RunQuery(sample: "PS", plan: "nexafs")
/// query.status = .finished(.success)
/// query.since = Date(timeIntervalSince1970: 1_772_700_000)
/// query.metadata = ["edge": "C K"]
/// query.limit = 20
/// let runs = try catalog.runs(query)             // newest first
/// let total = try catalog.count(query)           // ignores limit and offset
/// ```
public struct RunQuery: Sendable, Equatable {
    /// The order runs are listed in. Runs that started at the same second keep the order
    /// they were written in.
    public enum Order: String, Sendable, CaseIterable {
        /// The most recently started run first.
        case newestFirst = "newest"
        /// The first run of the beamtime first.
        case oldestFirst = "oldest"
    }

    /// Where a run stands.
    public enum Status: Sendable, Hashable, CustomStringConvertible {
        /// Not closed: still being written, or its writer died.
        case open
        /// Closed with this exit status.
        case finished(ExitStatus)

        /// "open", or the exit status ("success", "aborted", "failed", any other text).
        public init(_ text: String) {
            self = text == "open" ? .open : .finished(ExitStatus(rawValue: text))
        }

        public var description: String {
            switch self {
            case .open: "open"
            case .finished(let status): status.rawValue
            }
        }
    }

    /// Only runs of the sample with this name.
    public var sample: String?
    /// Only runs of this plan.
    public var plan: String?
    /// Only runs in this state.
    public var status: Status?
    /// Only runs that started at or after this time.
    public var since: Date?
    /// Only runs that started before this time.
    public var until: Date?
    /// Only runs whose metadata has each of these top-level keys with exactly this value
    /// (strings, numbers, booleans or null; `1` and `1.0` are the same number).
    public var metadata: JSONObject
    public var order: Order
    /// At most this many runs; nil for all.
    public var limit: Int?
    /// Skip this many runs first (paging).
    public var offset: Int

    public init(
        sample: String? = nil, plan: String? = nil, status: Status? = nil, since: Date? = nil, until: Date? = nil,
        metadata: JSONObject = [:], order: Order = .newestFirst, limit: Int? = nil, offset: Int = 0
    ) {
        self.sample = sample
        self.plan = plan
        self.status = status
        self.since = since
        self.until = until
        self.metadata = metadata
        self.order = order
        self.limit = limit
        self.offset = offset
    }
}

/// A ``RunQuery`` that cannot be run, with the part at fault.
public struct RunQueryError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
