/// A master index operation that was refused. Nothing was written.
///
/// Each case names the value at fault. Problems with the index file itself (missing,
/// not a database, newer schema) are ``DatabaseFileError``s instead.
public enum IndexError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No researcher has this id.
    /// The index was not opened, or was closed (see ``MasterIndex/open()``).
    case notOpen(String)
    case unknownResearcher(id: Int64)
    /// No researcher has this name (the registered names are listed).
    case unknownResearcherName(String, known: [String])
    /// No beamtime has this id.
    case unknownBeamtime(id: Int64)
    /// A run was indexed under a researcher that does not own its beamtime.
    case beamtimeOfAnotherResearcher(beamtimeID: Int64, researcherID: Int64, ownerID: Int64)
    /// A new researcher needs a root folder.
    case rootPathRequired(researcher: String)
    /// A researcher name, label, plan name or path that cannot be stored.
    case invalidValue(kind: String, value: String, reason: String)

    public var description: String {
        switch self {
        case .notOpen(let location): return "the master index \(location) is not open: call open() first"
        case .unknownResearcher(let id):
            return "no researcher with id \(id) in the index: register it with registerResearcher(name:rootPath:) first"
        case .unknownResearcherName(let name, let known):
            let list = known.isEmpty ? "none registered" : "known: " + known.joined(separator: ", ")
            return "no researcher named \(name.debugDescription) in the index (\(list))"
        case .unknownBeamtime(let id):
            return "no beamtime with id \(id) in the index: register it with registerBeamtime(researcherID:label:dbPath:) first"
        case .beamtimeOfAnotherResearcher(let beamtime, let researcher, let owner):
            return "beamtime \(beamtime) belongs to researcher \(owner), not to researcher \(researcher)"
        case .rootPathRequired(let name):
            return "researcher \(name.debugDescription) is not in the index yet: give the folder under which their beamtimes live (rootPath)"
        case .invalidValue(let kind, let value, let reason):
            return "invalid \(kind) \(RunWriterError.abbreviated(value)): \(reason)"
        }
    }
}

/// A run that was closed and saved in its beamtime, but could not be indexed.
///
/// Thrown by ``RunWriter/closeRun(exitStatus:)`` when ``RunWriter/Options/index`` is set.
/// The run is safe in the beamtime file; `resonance index add` indexes it later.
public struct RunIndexingError: Error, CustomStringConvertible, Sendable {
    /// The closed run.
    public var runUID: String
    /// The beamtime file that holds the run.
    public var dbPath: String
    /// The master index that could not be updated.
    public var indexPath: String
    /// What went wrong.
    public var underlying: any Error

    public init(runUID: String, dbPath: String, indexPath: String, underlying: any Error) {
        self.runUID = runUID
        self.dbPath = dbPath
        self.indexPath = indexPath
        self.underlying = underlying
    }

    public var description: String {
        "run \(runUID) was closed and saved in \(dbPath), but indexing it in \(indexPath) failed: \(underlying); "
            + "index it later with `resonance index add \(indexPath) --researcher NAME \(dbPath)`"
    }
}
