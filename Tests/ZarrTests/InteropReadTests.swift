import Foundation
import JSONValue
import Testing
@testable import Zarr

/// The values of a whole array as JSON numbers/bools, whatever its data type.
func jsonValues(of array: ZarrArray) throws -> [JSONValue] {
    switch array.dataType {
    case .bool: return try array.readAll(as: Bool.self).map { .bool($0) }
    case .int8: return try array.readAll(as: Int8.self).map { .int(Int64($0)) }
    case .int16: return try array.readAll(as: Int16.self).map { .int(Int64($0)) }
    case .int32: return try array.readAll(as: Int32.self).map { .int(Int64($0)) }
    case .int64: return try array.readAll(as: Int64.self).map { .int($0) }
    case .uint8: return try array.readAll(as: UInt8.self).map { .int(Int64($0)) }
    case .uint16: return try array.readAll(as: UInt16.self).map { .int(Int64($0)) }
    case .uint32: return try array.readAll(as: UInt32.self).map { .int(Int64($0)) }
    case .uint64: return try array.readAll(as: UInt64.self).map { .int(Int64($0)) }
    case .float32: return try array.readAll(as: Float.self).map { .double(Double($0)) }
    case .float64: return try array.readAll(as: Double.self).map { .double($0) }
    }
}

/// Reads every array listed in `expected.json` of a golden folder and compares values.
func checkGoldenStore(in folder: URL) throws -> [String] {
    let expected = try JSONValue(parsing: try text(folder.appendingPathComponent("expected.json")))
    let store = try FilesystemStore(url: folder.appendingPathComponent("golden.zarr"))
    let root = try ZarrGroup.open(in: store)
    #expect(root.attributes["made_by"] == "make_golden.py")
    var checked: [String] = []
    for (name, entry) in try #require(expected.objectValue) {
        let array = try ZarrArray.open(in: store, at: name)
        #expect(array.dataType.name == entry["dtype"]?.stringValue, "\(name)")
        #expect(array.shape.map { JSONValue.int(Int64($0)) } == entry["shape"]?.arrayValue, "\(name)")
        let want = try #require(entry["values"]?.arrayValue)
        let got = try jsonValues(of: array)
        // Python writes 1.0 for floats; compare floats numerically (NaN equal to NaN).
        let same = got.count == want.count && zip(got, want).allSatisfy { g, w in
            if let gd = g.doubleValue, let wd = w.doubleValue, case .double = g { return gd == wd || (gd.isNaN && wd.isNaN) }
            return g == w
        }
        #expect(same, "\(name): got \(got.prefix(8))…, want \(want.prefix(8))…")
        checked.append(name)
    }
    return checked
}

@Suite struct InteropReadTests {
    static let goldenCases = [
        "default_uint16", "uint8_no_endian", "int8", "bool", "int64", "uint64", "gzip_int32", "blosc_noshuffle_float32",
        "blosc_shuffle_uint16", "blosc_bitshuffle_uint8", "crc32c_int16", "transpose_float64", "bigendian_uint32",
        "sharding_int16", "sharding_start_float32", "nested_sharding_float64", "nan_fill_float32", "missing_all_uint16",
        "dot_separator_int32", "v2_keys_uint16", "nan_values_float64", "fill_seven_uint16",
    ]

    @Test func committedGoldenStore() throws {
        let checked = try checkGoldenStore(in: goldenDirectory)
        #expect(Set(checked) == Set(Self.goldenCases))
        // The all-fill chunks really are absent, so the fill value path is exercised.
        let store = try FilesystemStore(url: goldenDirectory.appendingPathComponent("golden.zarr"))
        #expect(try store.listKeys(under: "missing_all_uint16") == ["zarr.json"])
        #expect(try ZarrArray.open(in: store, at: "default_uint16").chunkExists(at: [1, 0, 0]) == false)
        let uint8 = try String(decoding: #require(try store.get("uint8_no_endian/zarr.json")), as: UTF8.self)
        #expect(uint8.contains("{\n      \"name\": \"bytes\"\n    }"))
    }

    @Test func regeneratedGoldenStore() throws {
        try withTemporaryDirectory { dir in
            let script = packageRoot + "/Tests/ZarrTests/Golden/make_golden.py"
            _ = try runPython("import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
                [script, dir.path])
            let checked = try checkGoldenStore(in: dir)
            #expect(Set(checked) == Set(Self.goldenCases))
        }
    }

    @Test func referenceBeamtimeDetectorFrames() throws {
        let zarr = fixturesDirectory.appendingPathComponent("reference-beamtime/ref_beamtime.zarr")
        let store = try FilesystemStore(url: zarr)  // opened for reading only; nothing is written
        let ccd = try ZarrArray.open(in: store, at: "runs/24b99aa4e6004110a26a6c288814f4bf/ccd")
        #expect(ccd.shape == [5, 64, 64])
        #expect(ccd.dataType == .uint16)
        var frames = [UInt16](repeating: 0, count: 5 * 64 * 64)
        try frames.withUnsafeMutableBytes { try ccd.read(ZarrRegion(start: [0, 0, 0], shape: [5, 64, 64]), into: $0) }
        let sums = (0..<5).map { k in frames[(k * 4096)..<((k + 1) * 4096)].reduce(0) { $0 + Int($1) } }
        #expect(sums == [2_120_222, 2_161_163, 2_202_104, 2_243_045, 2_283_986])
        // Frame by frame through the chunk API gives the same.
        for k in 0..<5 {
            let frame = try ccd.readChunk(at: [k, 0, 0], as: UInt16.self)
            #expect(frame.reduce(0) { $0 + Int($1) } == sums[k])
        }
        #expect(try ZarrGroup.open(in: store, at: "runs").children().map(\.name) == ["24b99aa4e6004110a26a6c288814f4bf"])
    }
}
