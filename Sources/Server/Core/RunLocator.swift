import Resonance

/// Finds a run by uid (or unique prefix of 8+ hex digits) in every beamtime served.
/// Blocking: call it on the ``BlockingPool``.
enum RunLocator {
    static func find(_ uid: String, in registry: BeamtimeRegistry) throws -> (beamtime: BeamtimeRegistry.Beamtime, run: Run) {
        var found: [(BeamtimeRegistry.Beamtime, Run)] = []
        for beamtime in registry.all {
            do {
                found.append((beamtime, try beamtime.catalog.run(uid)))
            } catch CatalogError.runNotFound {
                continue
            } catch let error as CatalogError {
                if case .ambiguousRunUID = error { throw error }
                if case .invalidRunUID = error { throw error }
                throw error
            }
        }
        guard let first = found.first else {
            throw Problem.notFound("no run with uid \(uid.debugDescription) in any beamtime served")
        }
        guard found.count == 1 else {
            throw Problem.badRequest("uid prefix \(uid.debugDescription) matches runs in several beamtimes (\(found.map { $0.0.label + ":" + $0.1.uid }.joined(separator: ", "))); give more digits")
        }
        return first
    }
}
