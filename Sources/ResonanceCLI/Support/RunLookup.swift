import ArgumentParser
import CommandLineSupport
import Foundation
import Resonance

/// The two arguments of every command about one run: the beamtime and the run's uid.
struct RunArguments: ParsableArguments {
    @Argument(help: "The beamtime database (.db).")
    var db: String

    @Argument(help: "The run's uid, or a unique prefix of 8+ hex digits.")
    var uid: String

    /// The open catalog and the run; see ``RunLookup/run(db:uid:)``.
    func lookUp() throws -> (Catalog, Run) { try RunLookup.run(db: db, uid: uid) }
}

/// What the browsing commands share: opening a beamtime, finding a run and a stream, and
/// the short uids people read.
enum RunLookup {
    /// The run with this uid or unique prefix (8+ hex digits) in the beamtime at `db`.
    static func run(db: String, uid: String) throws -> (Catalog, Run) {
        let catalog = try Catalog(dbPath: db).open()
        do {
            return (catalog, try catalog.run(uid))
        } catch let error as CatalogError {
            throw CommandError("\(db): \(error)")  // which beamtime was searched
        }
    }

    /// The stream named `name`, or an error that lists the run's streams.
    static func stream(_ name: String, of run: Run) throws -> EventStream {
        guard let stream = run.stream(name) else {
            let names = run.streamNames.isEmpty ? "it has none" : "its streams: " + run.streamNames.joined(separator: ", ")
            throw CommandError("run \(run.uid) has no stream \(name.debugDescription) (\(names))")
        }
        return stream
    }

    /// The shortest prefix of each uid, at least 8 digits, that no other uid shares
    /// (time-ordered UUIDv7 uids of runs started close together share their first digits).
    static func shortUIDs(_ uids: [String]) -> [String: String] {
        let sorted = uids.sorted()
        var short: [String: String] = [:]
        for (k, uid) in sorted.enumerated() {
            var length = 8
            for neighbor in [k > 0 ? sorted[k - 1] : nil, k + 1 < sorted.count ? sorted[k + 1] : nil].compactMap({ $0 }) {
                let common = zip(uid, neighbor).prefix { $0 == $1 }.count
                length = max(length, common + 1)
            }
            short[uid] = String(uid.prefix(length))
        }
        return short
    }

    /// The units of `field` from a stream's data_keys, when the writer gave them.
    static func units(of field: String, in stream: EventStream?) -> String? {
        guard let units = stream?.dataKeys[field]?["units"]?.stringValue, !units.isEmpty else { return nil }
        return units
    }
}
