/// One beamtime as the master index knows it.
public struct BeamtimeInfo: Sendable, Equatable {
    /// Row id in the master index.
    public var id: Int64
    /// The researcher the beamtime belongs to.
    public var researcherID: Int64
    /// e.g. "2026-03-05".
    public var label: String
    /// Path of the beamtime's .db file.
    public var dbPath: String
    /// First and last run start (Unix seconds), when known.
    public var timeStart: Double?
    public var timeStop: Double?
    /// Free text.
    public var description: String?
    /// Runs of the beamtime in the index.
    public var runCount: Int

    public init(
        id: Int64, researcherID: Int64, label: String, dbPath: String, timeStart: Double? = nil,
        timeStop: Double? = nil, description: String? = nil, runCount: Int = 0
    ) {
        self.id = id
        self.researcherID = researcherID
        self.label = label
        self.dbPath = dbPath
        self.timeStart = timeStart
        self.timeStop = timeStop
        self.description = description
        self.runCount = runCount
    }
}
