import ResonanceFormats
import ArgumentParser
import Foundation
import JSONValue
import Resonance

/// `resonance show`: everything about one run.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one run: sample, metadata, streams with their fields, image fields.",
        discussion: """
            UID is the run's uid, or a prefix of at least 8 hex digits that only this run has \
            (as `resonance runs` prints it).

            Image fields list the codec image_refs records and the codecs the Zarr array \
            really uses (from its zarr.json; "unreadable" when the store cannot be opened).

            Examples:
              resonance show 2026-03-05.db 0193ab12cd
              resonance show 2026-03-05.db 0193ab12cd4e7a9b8c0d1e2f3a4b5c6d --json
            """
    )

    @Argument(help: "The beamtime database (.db).")
    var db: String

    @Argument(help: "The run's uid, or a unique prefix of 8+ hex digits.")
    var uid: String

    @Flag(help: "Print JSON for programs instead of text.")
    var json = false

    func run() throws {
        let (_, run) = try RunLookup.run(db: db, uid: uid)
        if json {
            Output.printJSON(RunDescription.run(run))
        } else {
            Output.print(Self.text(run))
        }
    }

    // MARK: Text

    static func text(_ run: Run) -> String {
        var lines = ["Run \(run.uid)"]
        var fields: [(String, String)] = [
            ("plan", run.planName),
            ("status", run.exitStatus?.rawValue ?? "open (being written, or its writer died)"),
            ("started", Format.time(run.timeStart)),
            ("stopped", run.timeStop.map { "\(Format.time($0))  (\(RunsCommand.duration($0 - run.timeStart)))" } ?? "-"),
            ("events", String(run.numEvents)),
        ]
        if let op = run.operator { fields.append(("operator", op)) }
        lines += keyValues(fields)

        lines.append("")
        if let sample = run.sample {
            lines.append("Sample")
            var rows = [("name", sample.name), ("formula", sample.formula ?? "-"), ("serial", sample.serial ?? "-"),
                        ("tags", sample.tags.isEmpty ? "-" : sample.tags.joined(separator: ", ")),
                        ("beamline_pos", sample.beamlinePos ?? "-")]
            if sample.extra.isEmpty { rows.append(("extra", "-")) }
            lines += keyValues(rows)
            if !sample.extra.isEmpty {
                lines.append("  extra")
                lines += keyValues(sample.extra.map { ($0.key, display($0.value)) }, indent: "    ")
            }
        } else {
            lines.append("Sample  none")
        }

        lines.append("")
        if run.metadata.isEmpty {
            lines.append("Metadata  none")
        } else {
            lines.append("Metadata")
            lines += keyValues(run.metadata.map { ($0.key, display($0.value)) })
        }

        lines.append("")
        lines.append(run.streams.isEmpty ? "Streams  none" : "Streams")
        for stream in run.streams {
            lines.append("  \(stream.name)  \(stream.eventCount) event\(stream.eventCount == 1 ? "" : "s")  (created \(Format.time(stream.timeCreated)))")
            if !stream.dataKeys.isEmpty { lines += indent(dataKeysTable(stream.dataKeys), "    ") }
        }

        lines.append("")
        if run.frameFields.isEmpty {
            lines.append("Image fields  none")
        } else {
            lines.append("Image fields")
            var table = TextTable(["field", "stream", "frames", "shape", "dtype", "codec", "zarr codecs", "zarr array"], rightAligned: [2])
            for field in run.frameFields {
                table.append([field.name, field.stream, String(field.frameCount),
                              "\(field.rows)x\(field.columns)\(field.hasMixedShapes ? " (mixed, smallest)" : "")",
                              field.dtype, field.codec ?? "-", RunDescription.zarrCodecs(run, field)?.joined(separator: ",") ?? "unreadable",
                              field.zarrGroup])
            }
            lines += indent(table.render(), "  ")
        }
        return lines.joined(separator: "\n")
    }

    /// A stream's data_keys: one line per field with its dtype, shape, units and source,
    /// and an "other" column for any further descriptor keys when there are some.
    static func dataKeysTable(_ dataKeys: JSONObject) -> String {
        let shown: Set = ["dtype", "shape", "units", "source"]
        var rows: [[String]] = []
        for (name, key) in dataKeys {
            let object = key.objectValue ?? [:]
            let other = object.filter { !shown.contains($0.key) }.map { "\($0.key)=\(display($0.value))" }
            rows.append([name, object["dtype"].map(display) ?? "-", shapeText(object["shape"]),
                         object["units"].map(display) ?? "-", object["source"].map(display) ?? "-",
                         other.joined(separator: " ")])
        }
        let hasOther = rows.contains { !$0[5].isEmpty }
        var table = TextTable(["field", "dtype", "shape", "units", "source"] + (hasOther ? ["other"] : []))
        for row in rows { table.append(hasOther ? row : Array(row.prefix(5))) }
        return table.render()
    }

    /// "  key      value" lines with the values aligned.
    static func keyValues(_ pairs: [(String, String)], indent: String = "  ") -> [String] {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map { indent + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
    }

    static func indent(_ text: String, _ prefix: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }
    }

    /// Strings as they are, everything else as JSON text.
    static func display(_ value: JSONValue) -> String {
        if case .string(let s) = value { return s }
        return value.jsonText
    }

    /// [64, 64] -> "64x64"; scalars "-".
    static func shapeText(_ shape: JSONValue?) -> String {
        guard let dims = shape?.arrayValue, !dims.isEmpty else { return "-" }
        return dims.map(display).joined(separator: "x")
    }
}
