import Resonance
import Synchronization

/// Finds a run by uid (or unique prefix of 8+ hex digits) in every beamtime served.
/// Blocking: call it on the ``BlockingPool``.
///
/// A full uid found once is remembered with its beamtime, so the next request for it asks
/// that beamtime alone rather than every one (runs never move between beamtimes).
enum RunLocator {
    private static let known = Mutex<[String: String]>([:])
    private static let knownLimit = 100_000

    static func find(_ uid: String, in registry: BeamtimeRegistry) throws -> (beamtime: BeamtimeRegistry.Beamtime, run: Run) {
        let key = uid.lowercased().filter { $0 != "-" }
        if let label = known.withLock({ $0[key] }), let beamtime = registry.beamtime(label),
           let run = try? beamtime.catalog.run(key) {
            return (beamtime, run)
        }
        var found: [(BeamtimeRegistry.Beamtime, Run)] = []
        for beamtime in registry.all {
            do {
                found.append((beamtime, try beamtime.catalog.run(uid)))
            } catch CatalogError.runNotFound {
                continue
            }
        }
        guard let first = found.first else {
            throw Problem.notFound("no run with uid \(uid.debugDescription) in any beamtime served")
        }
        guard found.count == 1 else {
            throw Problem.badRequest("uid prefix \(uid.debugDescription) matches runs in several beamtimes (\(found.map { $0.0.label + ":" + $0.1.uid }.joined(separator: ", "))); give more digits")
        }
        known.withLock { map in
            if map.count >= knownLimit { map.removeAll() }
            map[first.1.uid] = first.0.label
        }
        return first
    }
}

extension Run {
    /// Whether every answer about this run to a request that named it `uid` stays true, so
    /// the response can be kept (``ResponseCache``): the run is finished (its events and
    /// frames no longer change) and the request named it by its full uid (a prefix may name
    /// another run once more runs exist).
    func answersNeverChange(requestedAs uid: String) -> Bool { !isOpen && uid == self.uid }
}
