import HTTPTypes
import Hummingbird
import JSONValue
import Resonance
import ResonanceFormats

/// `GET /api/runs/{uid}/frames/{field}` (count, shape, dtype, codec, seq_nums) and
/// `GET /api/runs/{uid}/frames/{field}/{index}?format=raw|npy|png&rows=a:b&cols=c:d`:
/// one frame or a rectangle of it. `raw` is the pixels, little-endian, C order, with
/// `X-Shape: rows,columns` and `X-Dtype: <numpy name>`; `npy` a NumPy file; `png` the
/// quick look `resonance frames --export` writes.
struct FramesRoutes: ServerRouteGroup {
    func addRoutes(to router: Router<ServerRequestContext>, environment: ServerEnvironment) {
        router.get("/api/runs/:uid/frames/:field") { request, context in
            let uid = try context.parameters.require("uid")
            let field = try context.parameters.require("field")
            return try await environment.responses.response(for: request) { try await environment.blocking.run {
                let (_, run) = try RunLocator.find(uid, in: environment.registry)
                let (info, frames) = try Self.frames(run, field)
                return Responses.json([
                    "field": .string(info.name), "count": .int(Int64(frames.count)),
                    "shape": .array(frames.shape.map { .int(Int64($0)) }),
                    "dtype": frames.dtype.map { JSONValue.string($0.rawValue) } ?? JSONValue.string(info.dtype),
                    "codec": info.codec.map(JSONValue.string) ?? (frames.codecs.isEmpty ? JSONValue.null : JSONValue.string(frames.codecs.joined(separator: ","))),
                    "zarr_codecs": JSONValue(frames.codecs),
                    "seq_nums": .array(frames.seqNums.map { .int($0) }),
                ], keptIn: environment.responses, for: request, immutable: run.answersNeverChange(requestedAs: uid))
            } }
        }

        router.get("/api/runs/:uid/frames/:field/:index") { request, context in
            let uid = try context.parameters.require("uid")
            let field = try context.parameters.require("field")
            let indexText = try context.parameters.require("index")
            guard let index = Int(indexText) else {
                throw Problem.badRequest("frame index \(indexText.debugDescription) is not an integer (negative counts from the end)")
            }
            let query = QueryParameters(request)
            let format = try query.choice("format", ["raw", "npy", "png"], default: "raw")
            let rowsText = try query.string("rows", maxLength: 64)
            let colsText = try query.string("cols", maxLength: 64)
            return try await environment.responses.response(for: request) { try await environment.blocking.run {
                let (_, run) = try RunLocator.find(uid, in: environment.registry)
                let (_, frames) = try Self.frames(run, field)
                let rows = try FrameEncoding.slice(rowsText, size: frames.rows, name: "rows")
                let cols = try FrameEncoding.slice(colsText, size: frames.columns, name: "cols")
                let frame = try frames.frame(index)
                let pixels = FrameEncoding.region(frame, columns: frames.columns, rows: rows, cols: cols)
                let headers: HTTPFields = [
                    HTTPField.Name("X-Shape")!: "\(rows.count),\(cols.count)", HTTPField.Name("X-Dtype")!: frame.dtype.rawValue,
                ]
                // A frame named by its index never changes; "the last one" (-1) of a live
                // run is a different frame tomorrow.
                let immutable = uid == run.uid && (index >= 0 || !run.isOpen)
                func response(_ bytes: [UInt8], _ contentType: String) -> Response {
                    Responses.raw(bytes, contentType: contentType, headers: headers,
                                  keptIn: environment.responses, for: request, immutable: immutable)
                }
                switch format {
                case "npy":
                    return response(pixels.withUnsafeBytes { NPYWriter.encode(dtype: frame.dtype, shape: [rows.count, cols.count], data: $0) },
                                    "application/octet-stream")
                case "png":
                    return response(try pixels.withUnsafeBytes { try QuickLook.png($0, dtype: frame.dtype, rows: rows.count, columns: cols.count) },
                                    "image/png")
                default:
                    return response(pixels, "application/octet-stream")
                }
            } }
        }
    }

    /// The field's image_refs summary and its frames; 404 naming the fields the run has.
    static func frames(_ run: Run, _ field: String) throws -> (FrameField, FrameSequence) {
        guard let info = run.frameField(field) else {
            let names = run.frameFields.map(\.name)
            throw Problem.notFound("run \(run.uid) has no frame field \(field.debugDescription) (it has \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
        }
        return (info, try run.frames(field: field))
    }
}
