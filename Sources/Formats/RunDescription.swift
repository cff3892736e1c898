import JSONValue
import Resonance

/// Runs as JSON objects: the keys `resonance runs --json` and `resonance show --json` print,
/// and what `resonance serve` returns, so a script can move between them unchanged.
///
/// ```swift
/// let listing = JSONValue.array(try catalog.runs().map(RunDescription.summary))
/// let detail = RunDescription.run(try catalog.run("79c8c292"))
/// ```
public enum RunDescription {
    /// `uid`, `plan_name`, `sample_name`, `time_start`, `time_stop` (null while open),
    /// `exit_status` (null while open), `num_events`.
    public static func summary(_ run: RunSummary) -> JSONValue {
        [
            "uid": .string(run.uid),
            "plan_name": .string(run.planName),
            "sample_name": run.sampleName.map(JSONValue.string) ?? .null,
            "time_start": .double(run.timeStart),
            "time_stop": run.timeStop.map(JSONValue.double) ?? .null,
            "exit_status": run.exitStatus.map { .string($0.rawValue) } ?? .null,
            "num_events": .int(Int64(run.numEvents)),
        ]
    }

    /// The summary's keys, then `operator`, `metadata`, `sample`, `streams` (with their
    /// data keys) and `frame_fields` (frame count, shape, dtype, the recorded codec and
    /// the codecs the Zarr array really uses, null when the store cannot be read).
    public static func run(_ run: Run) -> JSONValue {
        var object: JSONObject = summary(run.summary).objectValue ?? [:]
        object["operator"] = run.operator.map(JSONValue.string) ?? .null
        object["metadata"] = .object(run.metadata)
        object["sample"] = run.sample.map { sample -> JSONValue in
            [
                "name": .string(sample.name),
                "formula": sample.formula.map(JSONValue.string) ?? .null,
                "serial": sample.serial.map(JSONValue.string) ?? .null,
                "tags": JSONValue(sample.tags),
                "beamline_pos": sample.beamlinePos.map(JSONValue.string) ?? .null,
                "extra": .object(sample.extra),
            ]
        } ?? .null
        object["streams"] = .array(run.streams.map { stream in
            [
                "uid": .string(stream.uid), "name": .string(stream.name), "data_keys": .object(stream.dataKeys),
                "time_created": .double(stream.timeCreated), "num_events": .int(Int64(stream.eventCount)),
            ]
        })
        object["frame_fields"] = .array(run.frameFields.map { field in
            [
                "field": .string(field.name), "stream": .string(field.stream), "num_frames": .int(Int64(field.frameCount)),
                "shape": [.int(Int64(field.rows)), .int(Int64(field.columns))], "mixed_shapes": .bool(field.hasMixedShapes),
                "dtype": .string(field.dtype), "codec": field.codec.map(JSONValue.string) ?? .null,
                "zarr_codecs": zarrCodecs(run, field).map(JSONValue.init) ?? .null,
                "zarr_array": .string(field.zarrGroup),
            ]
        })
        return .object(object)
    }

    /// The codecs the field's Zarr array really uses (its zarr.json), which the recorded
    /// compression_codec may not match; nil when the array cannot be opened.
    public static func zarrCodecs(_ run: Run, _ field: FrameField) -> [String]? {
        try? run.frames(field: field.name).codecs
    }
}
