import Foundation
import JSONValue
import Resonance
import ResonanceBluesky
import Synchronization

/// A run's start, descriptors and stop as Bluesky documents, for the run's metadata: the
/// ones recorded when the run came from Bluesky, else the ones ResonanceBluesky's
/// ``DocumentExporter`` makes from the run (the same documents `resonance export
/// --documents` writes). A closed run's documents do not change: they are kept (up to
/// ``capacity`` runs) so listing pages of runs with metadata does not export them again.
enum TiledDocuments {
    struct Header: Sendable {
        var start: JSONObject
        var descriptors: [JSONObject]
        var stop: JSONObject?
    }

    static let capacity = 4096
    private static let cache = Mutex([String: Header]())

    static func header(_ beamtime: BeamtimeRegistry.Beamtime, _ run: Run) throws -> Header {
        let key = beamtime.dbPath + "\u{0}" + run.uid
        if !run.isOpen, let known = cache.withLock({ $0[key] }) { return known }
        var header = Header(start: [:], descriptors: [], stop: nil)
        try DocumentExporter.export(dbPath: beamtime.dbPath, uid: run.uid) { line in
            // Only the documents the metadata needs are parsed; event pages are passed over.
            let head = line.utf8.prefix(16)
            guard head.starts(with: Array("[\"start\"".utf8)) || head.starts(with: Array("[\"descriptor\"".utf8))
                || head.starts(with: Array("[\"stop\"".utf8)) else { return }
            guard case .array(let pair) = try JSONValue(parsing: line), pair.count == 2,
                  let name = pair[0].stringValue, let doc = pair[1].objectValue else { return }
            switch name {
            case "start": header.start = doc
            case "descriptor": header.descriptors.append(doc)
            case "stop": header.stop = doc
            default: break
            }
        }
        if !run.isOpen {
            cache.withLock { c in
                if c.count >= capacity { c.removeAll(keepingCapacity: true) }
                c[key] = header
            }
        }
        return header
    }
}

extension TiledDocuments {
    /// `GET /api/v1/documents/<label>/<uid>`: every document of the run as JSON-Seq records
    /// `{"name": ..., "doc": ...}`, what bluesky-tiled-plugins' `run.documents()` reads
    /// (the documents `resonance export --documents` writes; frames stay in the Zarr store
    /// the stream_resource names, so `fill` is not supported).
    static func sequence(_ node: TiledNode) throws -> [UInt8] {
        guard case .run(let beamtime, let run) = node else {
            throw TiledError.notFound("documents are served for runs: /api/v1/documents/<label>/<uid>")
        }
        var out: [UInt8] = []
        try DocumentExporter.export(dbPath: beamtime.dbPath, uid: run.uid) { line in
            guard case .array(let pair) = try JSONValue(parsing: line), pair.count == 2 else { return }
            out.append(0x1E)
            JSONValue.object(["name": pair[0], "doc": pair[1]]).write(into: &out)
            out.append(0x0A)
        }
        return out
    }
}
