import Foundation
import GRDB

/// Where a ``RunWriter`` indexes each run it closes, and under whom.
///
/// ```swift
/// let options = RunWriter.Options(index: IndexRegistration(indexPath: "/data/index.db", researcher: "Ada"))
/// let writer = RunWriter(dbPath: "/data/ada/2026-03-05.db", sample: SampleMetadata(name: "PS"), options: options)
/// ```
///
/// The researcher and the beamtime are registered on the first run (see
/// ``MasterIndexWriter/registerResearcher(name:rootPath:email:orcid:affiliation:)``).
public struct IndexRegistration: Sendable, Equatable {
    /// The master index file; created if absent.
    public var indexPath: String
    /// The researcher's name.
    public var researcher: String
    /// The researcher's root folder if they are not in the index yet; nil means the
    /// beamtime's folder.
    public var rootPath: String?
    /// The beamtime's label; nil means the file name without its suffix (for a new beamtime).
    public var label: String?

    public init(indexPath: String, researcher: String, rootPath: String? = nil, label: String? = nil) {
        self.indexPath = indexPath
        self.researcher = researcher
        self.rootPath = rootPath
        self.label = label
    }
}

extension RunWriter {
    /// Indexes a run that was just closed in the beamtime file, in one index transaction.
    ///
    /// Called by `closeRun` after the run is committed, so a failure here loses nothing:
    /// the error says so and how to index the run later.
    func indexClosedRun(_ uid: String, queue: DatabaseQueue, in registration: IndexRegistration) throws(RunIndexingError) {
        let sample = self.sample
        let dbPath = self.dbPath
        do {
            let row = try queue.read { db in
                try Row.fetchOne(db, sql: "SELECT plan_name, time_start, metadata FROM runs WHERE uid = ?", arguments: [uid])
            }
            guard let row else { throw DatabaseFileError(path: dbPath, problem: .unreadable(reason: "run \(uid) is not in the file")) }
            let metadataText: String? = row["metadata"]
            let run = MasterIndexWriter.RunEntry(
                uid: uid, planName: row["plan_name"], sampleName: sample.name, timeStart: row["time_start"], tags: sample.tags,
                metadata: metadataText.flatMap { try? JSONValue(parsing: $0) }?.objectValue ?? [:])
            let index = try DatabaseFile.openForWriting(registration.indexPath, schema: IndexSchema.self)
            defer { try? index.close() }
            try index.write { db in
                let known = try Bool.fetchOne(db, sql: "SELECT 1 FROM researchers WHERE name = ?", arguments: [registration.researcher]) == true
                let root = registration.rootPath ?? (known ? nil : (MasterIndexWriter.standardizedPath(dbPath) as NSString).deletingLastPathComponent)
                let researcherID = try MasterIndexWriter.registerResearcher(
                    db, name: registration.researcher, rootPath: root, email: nil, orcid: nil, affiliation: nil)
                let beamtimeID = try MasterIndexWriter.registerBeamtime(
                    db, researcherID: researcherID, label: registration.label, dbPath: dbPath, timeStart: nil)
                try MasterIndexWriter.indexRun(db, run, researcherID: researcherID, beamtimeID: beamtimeID)
            }
            try? MasterIndexWriter.refreshStatistics(index)  // the run is indexed; stale statistics only slow searches
        } catch {
            throw RunIndexingError(runUID: uid, dbPath: dbPath, indexPath: registration.indexPath, underlying: error)
        }
    }
}
