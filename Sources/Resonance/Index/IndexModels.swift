import JSONValue

/// A researcher as the master index knows them: one row of `researchers`.
public struct ResearcherInfo: Sendable, Equatable {
    /// Row id in the master index.
    public var id: Int64
    /// Unique name, e.g. "Ada Lovelace".
    public var name: String
    /// Absolute folder under which the researcher's beamtimes live.
    public var rootPath: String
    public var email: String?
    public var orcid: String?
    public var affiliation: String?

    public init(id: Int64, name: String, rootPath: String, email: String? = nil, orcid: String? = nil, affiliation: String? = nil) {
        self.id = id
        self.name = name
        self.rootPath = rootPath
        self.email = email
        self.orcid = orcid
        self.affiliation = affiliation
    }
}

/// One run found in the master index: enough to open it in its beamtime.
///
/// ```swift
/// for hit in try MasterIndex(path: "index.db").open().search(sample: .exactly("PS")) {
///     let run = try Catalog(dbPath: hit.dbPath).open().run(hit.uid)
/// }
/// ```
public struct IndexedRun: Sendable, Equatable {
    /// The run's uid in its beamtime file.
    public var uid: String
    /// The scan plan, e.g. "nexafs".
    public var planName: String
    /// The sample's name, when the run has a sample.
    public var sampleName: String?
    /// Unix seconds.
    public var timeStart: Double
    /// The sample's tags.
    public var tags: [String]
    /// The researcher's name.
    public var researcher: String
    /// The beamtime's label, e.g. "2026-03-05".
    public var beamtimeLabel: String
    /// Absolute path of the beamtime's .db file.
    public var dbPath: String

    public init(
        uid: String, planName: String, sampleName: String?, timeStart: Double, tags: [String],
        researcher: String, beamtimeLabel: String, dbPath: String
    ) {
        self.uid = uid
        self.planName = planName
        self.sampleName = sampleName
        self.timeStart = timeStart
        self.tags = tags
        self.researcher = researcher
        self.beamtimeLabel = beamtimeLabel
        self.dbPath = dbPath
    }
}

/// How a search matches sample names.
public enum SampleNameMatch: Sendable, Equatable {
    /// The name is exactly this (case-sensitive). Uses an index.
    case exactly(String)
    /// The name contains this, ignoring ASCII case. Reads every run that is a candidate,
    /// so it is slower than the other filters on a large index.
    case containing(String)
}

/// What to look for in the master index. Every filter given must match; nil means any.
///
/// ```swift
/// let query = IndexQuery(sample: .containing("PS"), plan: "nexafs", since: monday, limit: 20)
/// let hits = try index.search(query)   // newest first
/// let edge = try index.search(IndexQuery(metadata: ["edge": "C K", "repeat": 2]))
/// ```
public struct IndexQuery: Sendable, Equatable {
    /// The sample name, exact or substring.
    public var sample: SampleNameMatch?
    /// The plan name, exact.
    public var plan: String?
    /// The researcher's name, exact. An unknown name is an ``IndexError/unknownResearcherName(_:known:)``.
    public var researcher: String?
    /// A tag the run's sample has (one element of its tags, exact).
    public var tag: String?
    /// Runs that started at or after this time (Unix seconds).
    public var since: Double?
    /// Runs that started before this time (Unix seconds).
    public var until: Double?
    /// Runs whose metadata has each of these top-level keys with exactly this value, as
    /// ``RunQuery/metadata`` matches in a beamtime: a string only the same string (`"1"` is
    /// not `1`), a number the same number (`1` and `1.0` are one number), `true`, `false`,
    /// `null`. Arrays and objects cannot be matched. Runs indexed before the index stored
    /// metadata (SQLite schema version 1) match none until their beamtime is indexed again.
    public var metadata: JSONObject
    /// At most this many hits, newest first; nil for all.
    public var limit: Int?

    public init(
        sample: SampleNameMatch? = nil, plan: String? = nil, researcher: String? = nil, tag: String? = nil,
        since: Double? = nil, until: Double? = nil, metadata: JSONObject = [:], limit: Int? = 100
    ) {
        self.sample = sample
        self.plan = plan
        self.researcher = researcher
        self.tag = tag
        self.since = since
        self.until = until
        self.metadata = metadata
        self.limit = limit
    }

    /// Throws ``IndexError/invalidValue(kind:value:reason:)`` for a metadata value no run in
    /// the index can hold: an array or object, a NaN or infinite number, a NUL character
    /// (see ``MasterIndexWriter/RunEntry/indexedMetadata``). Every backend checks the same.
    public func checkMetadata() throws(IndexError) {
        for (key, value) in metadata {
            let kind = "metadata value of \(key.debugDescription)"
            if let problem = MetadataMatching.problem(value) {
                throw .invalidValue(kind: kind, value: value.jsonText, reason: problem)
            }
            if !MasterIndexWriter.RunEntry.isIndexable(key: key, value: value) {
                throw .invalidValue(
                    kind: kind, value: value.jsonText,
                    reason: "a NaN or infinite number, or a NUL character in the key or text, is never stored in the index")
            }
        }
    }
}

/// What ``MasterIndexWriter/indexBeamtime(dbPath:researcherID:label:)`` did.
public struct BeamtimeIndexing: Sendable, Equatable {
    /// The beamtime as it is now indexed.
    public var beamtime: BeamtimeInfo
    /// Runs the beamtime file holds (all of them are now indexed).
    public var runCount: Int
    /// Runs that were not in the index before.
    public var added: Int
    /// Runs that were indexed but are no longer in the file, now removed from the index.
    public var removed: Int
    /// Runs that were indexed under another beamtime file (a copy of this one?) and now
    /// point to this file: a run uid is indexed once.
    public var reassigned: Int

    public init(beamtime: BeamtimeInfo, runCount: Int, added: Int, removed: Int, reassigned: Int) {
        self.beamtime = beamtime
        self.runCount = runCount
        self.added = added
        self.removed = removed
        self.reassigned = reassigned
    }
}
