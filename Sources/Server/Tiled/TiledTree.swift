import Foundation
import JSONValue
import Resonance

/// How beamtimes map onto Tiled's tree, the shape databroker 2 gives Bluesky runs:
///
/// ```
/// /                                   container: the beamtimes served
/// /<label>                            container: a beamtime's runs (32-hex uids), oldest first
/// /<label>/<uid>                      container, spec BlueskyRun: metadata start / stop / summary
/// /<label>/<uid>/<stream>             container, spec BlueskyEventStream: metadata descriptors
/// /<label>/<uid>/<stream>/data        container: one array per field
/// /<label>/<uid>/<stream>/data/<f>    array: a column (time and every event field) or the
///                                     frames of a detector field, (frames, rows, columns)
/// ```
///
/// A run is found by its uid, its dashed uid or a unique prefix of 8+ hex digits, as
/// ``Catalog/run(_:)`` finds it. Every resolution reads the files anew, so a live run's
/// table and frames grow between two requests, and a run or beamtime deleted meanwhile is
/// a 404 (the client's `KeyError`).
enum TiledNode {
    /// The beamtimes served whose files are still there.
    case root([BeamtimeRegistry.Beamtime])
    case beamtime(BeamtimeRegistry.Beamtime)
    case run(BeamtimeRegistry.Beamtime, Run)
    case stream(BeamtimeRegistry.Beamtime, Run, EventStream)
    case data(BeamtimeRegistry.Beamtime, Run, EventStream)
    case field(BeamtimeRegistry.Beamtime, Run, EventStream, TiledField)

    /// The node's key in its parent ("" for the root).
    var key: String {
        switch self {
        case .root: return ""
        case .beamtime(let b): return b.label
        case .run(_, let run): return run.uid
        case .stream(_, _, let s): return s.name
        case .data: return "data"
        case .field(_, _, _, let f): return f.name
        }
    }

    /// The keys from the root to this node's parent.
    var ancestors: [String] {
        switch self {
        case .root: return []
        case .beamtime: return []
        case .run(let b, _): return [b.label]
        case .stream(let b, let r, _): return [b.label, r.uid]
        case .data(let b, let r, let s): return [b.label, r.uid, s.name]
        case .field(let b, let r, let s, _): return [b.label, r.uid, s.name, "data"]
        }
    }

    var path: [String] { self.key.isEmpty ? [] : ancestors + [key] }
}

/// A field of a stream's `data` container.
enum TiledField {
    /// A column of the stream's event table (`time` or an event field).
    case column(EventColumn)
    /// The frames of a detector field whose events are in this stream.
    case frames(FrameField, FrameSequence)

    var name: String {
        switch self {
        case .column(let c): return c.name
        case .frames(let f, _): return f.name
        }
    }
}

enum TiledTree {
    /// The node at `parts`; 404 naming the first key that is not there.
    static func resolve(_ parts: [String], registry: BeamtimeRegistry) throws -> TiledNode {
        guard let label = parts.first else {
            return .root(registry.all.filter { FileManager.default.fileExists(atPath: $0.dbPath) })
        }
        let beamtime = try Self.beamtime(label, registry: registry)
        guard parts.count > 1 else { return .beamtime(beamtime) }
        let run = try Self.run(parts[1], in: beamtime)
        guard parts.count > 2 else { return .run(beamtime, run) }
        guard let stream = run.stream(parts[2]) else { throw noEntry(parts, upTo: 2) }
        guard parts.count > 3 else { return .stream(beamtime, run, stream) }
        guard parts[3] == "data" else { throw noEntry(parts, upTo: 3) }
        guard parts.count > 4 else { return .data(beamtime, run, stream) }
        guard parts.count == 5, let field = try Self.field(parts[4], run: run, stream: stream) else { throw noEntry(parts, upTo: 4) }
        return .field(beamtime, run, stream, field)
    }

    static func noEntry(_ parts: [String], upTo index: Int) -> TiledError {
        TiledError.notFound("No such entry: \(parts.prefix(index + 1).map { "'\($0)'" }.joined(separator: ", "))")
    }

    /// A served beamtime whose file is still there (one deleted while served is gone).
    static func beamtime(_ label: String, registry: BeamtimeRegistry) throws -> BeamtimeRegistry.Beamtime {
        let found: BeamtimeRegistry.Beamtime
        do {
            found = try registry.lookup(label)
        } catch {
            throw TiledError.notFound("No such entry: ['\(label)']")
        }
        guard FileManager.default.fileExists(atPath: found.dbPath) else { throw TiledError.notFound("No such entry: ['\(label)'] (its file was removed)") }
        return found
    }

    static func run(_ key: String, in beamtime: BeamtimeRegistry.Beamtime) throws -> Run {
        do {
            return try beamtime.catalog.run(key)
        } catch let error as CatalogError {
            switch error {
            case .runNotFound, .invalidRunUID: throw TiledError.notFound("No such entry: ['\(beamtime.label)', '\(key)']")
            case .ambiguousRunUID: throw TiledError.notFound("No such entry: ['\(beamtime.label)', '\(key)'] (\(error.description))")
            default: throw error
            }
        }
    }

    /// The fields of a stream's `data` container, in order: `time`, the event fields, then
    /// the frame fields of this stream. `seq_num` is left out, as databroker leaves it out.
    static func fields(run: Run, stream: EventStream) throws -> [TiledField] {
        let table = try run.table(stream: stream.name)
        let frameFields = run.frameFields.filter { $0.stream.split(separator: ",").contains(Substring(stream.name)) }
        let frameNames = Set(frameFields.map(\.name))
        var out: [TiledField] = table.columns.dropFirst().filter { !frameNames.contains($0.name) }.map { .column($0) }
        for field in frameFields { out.append(.frames(field, try run.frames(field: field.name))) }
        return out
    }

    static func field(_ name: String, run: Run, stream: EventStream) throws -> TiledField? {
        if let image = run.frameFields.first(where: { $0.name == name && $0.stream.split(separator: ",").contains(Substring(stream.name)) }) {
            return .frames(image, try run.frames(field: image.name))
        }
        guard name != "seq_num" else { return nil }
        return try run.table(stream: stream.name).column(name).map { .column($0) }
    }
}
