import Foundation

/// Where a master index lives: a SQLite file, or a PostgreSQL database on a server.
///
/// ```swift
/// IndexLocation("/data/index.db")                                   // .file("/data/index.db")
/// IndexLocation("postgres://indexer@db.example.org:5432/resonance") // .postgres(url)
/// ```
///
/// A `postgres://` or `postgresql://` URL is a server; anything else is a file path. The
/// core library opens only files (``MasterIndexWriter``, ``MasterIndex``); the `ResonancePostgres`
/// module opens both. ``redacted`` is how a location appears in every message.
public enum IndexLocation: Sendable, Equatable, CustomStringConvertible {
    /// A SQLite master index file.
    case file(String)
    /// A PostgreSQL URL, as given (it may hold a password: print ``redacted``).
    case postgres(String)

    public init(_ text: String) {
        self = Self.isPostgresURL(text) ? .postgres(text) : .file(text)
    }

    /// True for `postgres://…` and `postgresql://…` (scheme case ignored).
    public static func isPostgresURL(_ text: String) -> Bool {
        let lower = text.prefix(14).lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// The location for messages and logs: a URL without its password.
    public var redacted: String {
        switch self {
        case .file(let path): return path
        case .postgres(let url): return Self.redacted(url)
        }
    }

    public var description: String { redacted }

    /// `text` with any password removed: the `:password` of a URL's user part and any
    /// `password=` query parameter. Every error and log line that names a master index
    /// location goes through this function; a file path comes back unchanged.
    ///
    /// ```swift
    /// IndexLocation.redacted("postgres://ada:s3cret@db:5432/idx?password=x")  // "postgres://ada@db:5432/idx"
    /// ```
    public static func redacted(_ text: String) -> String {
        guard isPostgresURL(text), let schemeEnd = text.range(of: "://") else { return text }
        let scheme = text[..<schemeEnd.upperBound]
        var rest = Substring(text[schemeEnd.upperBound...])
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        // The user part ends at the last "@" before the path (a password may contain "@").
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            let user = userInfo.firstIndex(of: ":").map { userInfo[..<$0] } ?? userInfo
            authority = user + authority[at...]
        }
        let kept = query.split(separator: "&", omittingEmptySubsequences: true).filter {
            !$0.lowercased().hasPrefix("password=")
        }
        return String(scheme) + authority + path + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
    }
}

/// Reads a master index, whatever holds it: ``MasterIndex`` (SQLite) or the PostgreSQL reader
/// of the `ResonancePostgres` module. Both give the same answers to the same queries.
public protocol MasterIndexReading: Openable, Sendable {
    /// The index's location for messages (``IndexLocation/redacted``: no password).
    var location: String { get }
    /// Every researcher, by name.
    func researchers() throws -> [ResearcherInfo]
    /// The beamtimes of one researcher (by name), or of everyone; newest first.
    func beamtimes(researcher: String?) throws -> [BeamtimeInfo]
    /// Runs matching `query`, newest first (ties: the run indexed last first).
    func search(_ query: IndexQuery) throws -> [IndexedRun]
}

extension MasterIndexReading {
    /// Runs matching every filter given, newest first.
    ///
    /// ```swift
    /// let hits = try index.search(plan: "nexafs", researcher: "Ada", since: start, limit: 50)
    /// ```
    ///
    /// See ``IndexQuery`` for each filter.
    public func search(
        sample: SampleNameMatch? = nil, plan: String? = nil, researcher: String? = nil, tag: String? = nil,
        since: Double? = nil, until: Double? = nil, metadata: JSONObject = [:], limit: Int? = 100
    ) throws -> [IndexedRun] {
        try search(IndexQuery(
            sample: sample, plan: plan, researcher: researcher, tag: tag, since: since, until: until, metadata: metadata, limit: limit))
    }
}

/// Writes a master index, whatever holds it: ``MasterIndexWriter`` (SQLite) or the PostgreSQL
/// writer of the `ResonancePostgres` module. The rules (idempotent registration, a run uid
/// indexed once, a beamtime replaced in one transaction) are the same on both.
public protocol MasterIndexWriting: Openable, Sendable {
    /// The index's location for messages (``IndexLocation/redacted``: no password).
    var location: String { get }
    /// See ``MasterIndexWriter/registerResearcher(name:rootPath:email:orcid:affiliation:)``.
    @discardableResult
    func registerResearcher(name: String, rootPath: String?, email: String?, orcid: String?, affiliation: String?) throws -> Int64
    /// See ``MasterIndexWriter/registerBeamtime(researcherID:label:dbPath:timeStart:)``.
    @discardableResult
    func registerBeamtime(researcherID: Int64, label: String?, dbPath: String, timeStart: Double?) throws -> Int64
    /// See ``MasterIndexWriter/indexRun(uid:researcherID:beamtimeID:planName:sampleName:timeStart:tags:metadata:)``.
    func indexRun(
        uid: String, researcherID: Int64, beamtimeID: Int64, planName: String, sampleName: String?, timeStart: Double, tags: [String],
        metadata: JSONObject
    ) throws
    /// See ``MasterIndexWriter/indexBeamtime(dbPath:researcherID:label:)``.
    @discardableResult
    func indexBeamtime(dbPath: String, researcherID: Int64, label: String?) throws -> BeamtimeIndexing
}

extension MasterIndex: MasterIndexReading {
    public var location: String { path }
}

extension MasterIndexWriter: MasterIndexWriting {
    public var location: String { indexDBPath }
}
