import JSONValue
import Resonance

/// The JSON of runs as `resonance runs --json` and `resonance show --json` print it.
enum RunJSON {
    static func summary(_ run: RunSummary) -> JSONValue {
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

    static func detail(_ run: Run) -> JSONValue {
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
        object["image_fields"] = .array(run.imageFields.map { field in
            [
                "field": .string(field.name), "stream": .string(field.stream), "num_frames": .int(Int64(field.frameCount)),
                "shape": [.int(Int64(field.rows)), .int(Int64(field.columns))], "mixed_shapes": .bool(field.hasMixedShapes),
                "dtype": .string(field.dtype), "codec": field.codec.map(JSONValue.string) ?? .null,
                "zarr_codecs": (try? run.images(field: field.name).codecs).map(JSONValue.init) ?? .null,
                "zarr_array": .string(field.zarrGroup),
            ]
        })
        return .object(object)
    }
}
