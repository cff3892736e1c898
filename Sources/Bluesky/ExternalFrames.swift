import Foundation
import JSONValue
import Resonance
import Zarr

/// Where the frames of `resource`/`datum` and `stream_resource`/`stream_datum` documents
/// are, and reading them.
///
/// Readable: `resource` specs `NPY_SEQ` (ophyd.sim's `<root>/<resource_path>_<index>.npy`)
/// and `AD_TIFF` (areaDetector's TIFF plugin: `template % (<root>/<resource_path>/,
/// filename, n)` for `frame_per_point` frames from `point_number * frame_per_point`);
/// `stream_resource` mimetypes `application/x-zarr` (what `resonance export --documents`
/// writes), `multipart/related;type=image/tiff` and `multipart/related;type=application/x-npy`
/// (Bluesky's consolidators: one file per index from the `template` parameter).
enum ExternalFrames {
    static let readableSpecs: Set<String> = ["NPY_SEQ", "AD_TIFF"]
    static let zarrMimetype = "application/x-zarr"
    static let readableMimetypes: Set<String> = [zarrMimetype, "multipart/related;type=image/tiff", "multipart/related;type=application/x-npy"]

    /// The frames of one datum of a `resource`.
    static func frames(resource: JSONObject, datumKwargs: JSONObject) throws -> [RawFrame] {
        let spec = resource["spec"]?.stringValue ?? ""
        let root = resource["root"]?.stringValue ?? ""
        let base = join(root, resource["resource_path"]?.stringValue ?? "")
        let kwargs = resource["resource_kwargs"]?.objectValue ?? [:]
        switch spec {
        case "NPY_SEQ":
            guard let index = datumKwargs["index"]?.intValue else {
                throw RawFrame.ReadError(path: base, reason: "NPY_SEQ datum without an integer \"index\"")
            }
            return try RawFrame.readNPY(path: "\(base)_\(index).npy")
        case "AD_TIFF":
            guard let template = kwargs["template"]?.stringValue, let point = datumKwargs["point_number"]?.intValue else {
                throw RawFrame.ReadError(path: base, reason: "AD_TIFF needs resource_kwargs.template and datum_kwargs.point_number")
            }
            let filename = kwargs["filename"]?.stringValue ?? ""
            let perPoint = Int(kwargs["frame_per_point"]?.intValue ?? 1)
            let folder = base.hasSuffix("/") ? base : base + "/"
            var frames: [RawFrame] = []
            for n in (Int(point) * perPoint)..<((Int(point) + 1) * perPoint) {
                frames += try RawFrame.readTIFF(path: percentFormat(template, [.string(folder), .string(filename), .int(Int64(n))]))
            }
            return frames
        default:
            throw RawFrame.ReadError(path: base, reason: "resource spec \(spec.debugDescription) is not readable")
        }
    }

    /// The frames `indices.start ..< indices.stop` of a `stream_resource`.
    static func frames(streamResource: JSONObject, range: Range<Int>) throws -> [RawFrame] {
        let mimetype = streamResource["mimetype"]?.stringValue ?? ""
        let path = filePath(uri: streamResource["uri"]?.stringValue ?? "")
        let parameters = streamResource["parameters"]?.objectValue ?? [:]
        switch mimetype {
        case zarrMimetype:
            let store = try FilesystemStore(root: path, create: false)
            let array = try ZarrArray.open(in: store, at: parameters["dataset"]?.stringValue ?? "")
            guard array.shape.count == 3, let dtype = FrameDType(rawValue: array.dataType.name) else {
                throw RawFrame.ReadError(path: path, reason: "array of shape \(array.shape), \(array.dataType.name) is not a frame stack")
            }
            guard range.upperBound <= array.shape[0] else {
                throw RawFrame.ReadError(path: path, reason: "frames \(range) asked of an array of \(array.shape[0])")
            }
            let (rows, columns) = (array.shape[1], array.shape[2])
            return try range.map { k in
                var bytes = [UInt8](repeating: 0, count: rows * columns * dtype.size)
                try bytes.withUnsafeMutableBytes { buffer in
                    try array.read(ZarrRegion([k..<(k + 1), 0..<rows, 0..<columns]), into: buffer)
                }
                return RawFrame(rows: rows, columns: columns, dtype: dtype, bytes: bytes)
            }
        case "multipart/related;type=image/tiff", "multipart/related;type=application/x-npy":
            guard let template = parameters["template"]?.stringValue else {
                throw RawFrame.ReadError(path: path, reason: "\(mimetype) stream_resource without a \"template\" parameter")
            }
            let npy = mimetype.hasSuffix("x-npy")
            var frames: [RawFrame] = []
            for k in range {
                let file = npy ? percentFormat(template, [.string(path), .int(Int64(k))]) : path + braceFormat(template, k)
                frames += npy ? try RawFrame.readNPY(path: file) : try RawFrame.readTIFF(path: file)
            }
            return frames
        default:
            throw RawFrame.ReadError(path: path, reason: "stream_resource mimetype \(mimetype.debugDescription) is not readable")
        }
    }

    /// The path of a `file://[host]/path` URI (or the text itself when it is a plain path).
    static func filePath(uri: String) -> String {
        guard uri.hasPrefix("file://") else { return uri }
        let rest = uri.dropFirst("file://".count)
        guard let slash = rest.firstIndex(of: "/") else { return String(rest) }
        return String(rest[slash...]).removingPercentEncoding ?? String(rest[slash...])
    }

    static func join(_ a: String, _ b: String) -> String {
        if a.isEmpty || b.hasPrefix("/") { return b }
        if b.isEmpty { return a }
        return a.hasSuffix("/") ? a + b : a + "/" + b
    }

    /// Python's `template % args` for the conversions file templates use: `%s`, `%d`,
    /// `%5d`, `%05d`, `%6.6d` (precision of an integer: at least that many digits).
    static func percentFormat(_ template: String, _ args: [JSONValue]) -> String {
        var out = ""
        var argIndex = 0
        var chars = template[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            guard c == "%" else { out.append(c); continue }
            if chars.first == "%" { out.append("%"); chars = chars.dropFirst(); continue }
            var flags = ""
            while let f = chars.first, "-+ #0".contains(f) { flags.append(f); chars = chars.dropFirst() }
            var width = ""
            while let d = chars.first, d.isNumber { width.append(d); chars = chars.dropFirst() }
            var precision = ""
            if chars.first == "." {
                chars = chars.dropFirst()
                while let d = chars.first, d.isNumber { precision.append(d); chars = chars.dropFirst() }
            }
            guard let conversion = chars.first else { break }
            chars = chars.dropFirst()
            let arg = argIndex < args.count ? args[argIndex] : .null
            argIndex += 1
            var text: String
            switch conversion {
            case "d", "i":
                let n = arg.intValue ?? 0
                text = String(n.magnitude)
                if let p = Int(precision), text.count < p { text = String(repeating: "0", count: p - text.count) + text }
                if n < 0 { text = "-" + text }
            default:
                text = arg.stringValue ?? arg.jsonText
            }
            if let w = Int(width), text.count < w {
                let pad = String(repeating: flags.contains("0") && !flags.contains("-") && conversion != "s" ? "0" : " ", count: w - text.count)
                text = flags.contains("-") ? text + pad : pad + text
            }
            out += text
        }
        return out
    }

    /// Python's `template.format(n)` for the integer fields of file templates: `{}`, `{:d}`, `{:05d}`, `{:06}`.
    static func braceFormat(_ template: String, _ n: Int) -> String {
        guard let open = template.firstIndex(of: "{"), let close = template[open...].firstIndex(of: "}") else { return template }
        var spec = template[template.index(after: open)..<close].drop { $0 != ":" }.dropFirst()
        if spec.hasSuffix("d") { spec = spec.dropLast() }
        var text = String(n)
        if spec.hasPrefix("0"), let width = Int(spec), text.count < width {
            text = String(repeating: "0", count: width - text.count) + text
        } else if let width = Int(spec), text.count < width {
            text = String(repeating: " ", count: width - text.count) + text
        }
        return String(template[..<open]) + text + String(template[template.index(after: close)...])
    }
}
