import Foundation
import JSONValue
import Testing
@testable import Zarr

@Suite struct MetadataTests {
    let referenceArray = fixturesDirectory.appendingPathComponent(
        "reference-beamtime/ref_beamtime.zarr/runs/24b99aa4e6004110a26a6c288814f4bf/ccd/zarr.json")

    /// A minimal valid array document with `changes` applied.
    func document(_ changes: [String: JSONValue?] = [:]) -> [UInt8] {
        var object: JSONObject = [
            "zarr_format": 3, "node_type": "array", "shape": [10, 4], "data_type": "uint16",
            "chunk_grid": ["name": "regular", "configuration": ["chunk_shape": [5, 4]]],
            "chunk_key_encoding": ["name": "default", "configuration": ["separator": "/"]],
            "fill_value": 0, "codecs": [["name": "bytes", "configuration": ["endian": "little"]]],
        ]
        for (key, value) in changes { object[key] = value }
        return Array(JSONValue.object(object).jsonText.utf8)
    }

    func parse(_ changes: [String: JSONValue?] = [:]) throws -> ZarrArrayMetadata {
        try ZarrArrayMetadata(parsing: document(changes), path: "/x/zarr.json")
    }

    @Test func rewritesZarrPythonOutputByteForByte() throws {
        let original = try Data(contentsOf: referenceArray)
        let metadata = try ZarrArrayMetadata(parsing: Array(original), path: referenceArray.path)
        #expect(metadata.shape == [5, 64, 64])
        #expect(metadata.dataType == .uint16)
        #expect(metadata.chunkShape == [1, 64, 64])
        #expect(metadata.codecs == ZarrCodec.defaults(for: .uint16))
        #expect(metadata.jsonBytes == Array(original))
        let fresh = try ZarrArrayMetadata(shape: [5, 64, 64], dataType: .uint16, chunkShape: [1, 64, 64])
        #expect(fresh.jsonBytes == Array(original), "a new array's zarr.json matches zarr-python's")
    }

    @Test func groupDocumentIsExactlyZarrPythons() throws {
        let text = String(decoding: ZarrGroupMetadata().jsonBytes, as: UTF8.self)
        #expect(text == "{\n  \"attributes\": {},\n  \"zarr_format\": 3,\n  \"node_type\": \"group\"\n}")
        let root = fixturesDirectory.appendingPathComponent("reference-beamtime/ref_beamtime.zarr/zarr.json")
        #expect(ZarrGroupMetadata().jsonBytes == Array(try Data(contentsOf: root)))
        let parsed = try ZarrGroupMetadata(parsing: Array(#"{"zarr_format": 3, "node_type": "group", "consolidated_metadata": null}"#.utf8), path: "g")
        #expect(parsed == ZarrGroupMetadata())
        expectZarrError("unknownField") {
            _ = try ZarrGroupMetadata(parsing: Array(#"{"zarr_format": 3, "node_type": "group", "foo": 1}"#.utf8), path: "g")
        }
        expectZarrError("nodeTypeMismatch") { _ = try ZarrGroupMetadata(parsing: document(), path: "g") }
    }

    @Test func prettyPrinterMatchesPythonIndent2() throws {
        let value: JSONValue = ["a": [], "b": [:], "c": [1, [2, ["x": "é"]]], "d": .double(.nan), "e": 0.5, "f": .null]
        let text = String(decoding: PrettyJSON.text(value), as: UTF8.self)
        // json.dumps({"a": [], "b": {}, "c": [1, [2, {"x": "é"}]], "d": float("nan"), "e": 0.5, "f": None}, indent=2)
        #expect(text == """
            {
              "a": [],
              "b": {},
              "c": [
                1,
                [
                  2,
                  {
                    "x": "\\u00e9"
                  }
                ]
              ],
              "d": NaN,
              "e": 0.5,
              "f": null
            }
            """)
    }

    @Test func fillValues() throws {
        func fill(_ json: JSONValue, _ type: String) throws -> ZarrFillValue {
            try parse(["fill_value": json, "data_type": .string(type),
                       "codecs": [["name": "bytes", "configuration": ["endian": "little"]]]]).fillValue
        }
        #expect(try fill("NaN", "float64") == .float(.nan))
        #expect(try fill("Infinity", "float32") == .float(.infinity))
        #expect(try fill("-Infinity", "float64") == .float(-.infinity))
        #expect(try fill(1.5, "float32") == .float(1.5))
        #expect(try fill(2, "float64") == .float(2))
        #expect(try fill("0x7fc00001", "float32") == .floatBits(0x7FC0_0001))
        #expect(try fill("0x7ff8000000000001", "float64") == .floatBits(0x7FF8_0000_0000_0001))
        #expect(try fill(true, "bool") == .bool(true))
        #expect(try fill(-128, "int8") == .int(-128))
        #expect(try fill(65535, "uint16") == .int(65535))
        for (json, type) in [(JSONValue.int(256), "uint8"), (-1, "uint32"), (1.5, "int32"), ("NaN", "int16"), (1, "bool"),
                             ("0x7fc0", "float32"), ("0xZZc00000", "float32"), ("nan", "float64"), (.null, "float64"), (true, "float32")] {
            let error = expectZarrError("invalidFillValue") { _ = try fill(json, type) }
            #expect(error?.description.contains("/x/zarr.json") == true)
        }
        // Written the way zarr-python writes them.
        #expect(ZarrFillValue.float(.nan).json(for: .float32) == "NaN")
        #expect(ZarrFillValue.float(-.infinity).json(for: .float64) == "-Infinity")
        #expect(ZarrFillValue.float(0.1).json(for: .float32) == .double(Double(Float(0.1))))
        #expect(ZarrFillValue.float(0).json(for: .float64).jsonText == "0.0")
        #expect(ZarrFillValue.floatBits(0x7FC0_0001).json(for: .float32) == "0x7fc00001")
        #expect(ZarrFillValue.bool(false).json(for: .bool) == false)
    }

    @Test func unknownMembersNeedMustUnderstandFalse() throws {
        let error = expectZarrError("unknownField") { _ = try parse(["foo": 1]) }
        #expect(error?.description == #"unknown member "foo" in /x/zarr.json (not marked "must_understand": false)"#)
        expectZarrError("unknownField") { _ = try parse(["foo": ["must_understand": true]]) }
        expectZarrError("unknownField") { _ = try parse(["foo": ["name": "x"]]) }
        let kept = try parse(["foo": ["must_understand": false, "x": 1]])
        #expect(kept.extraFields["foo"] == ["must_understand": false, "x": 1])
        let rewritten = try ZarrArrayMetadata(parsing: kept.jsonBytes, path: "again")
        #expect(rewritten == kept)
    }

    @Test func storageTransformers() throws {
        #expect(try parse(["storage_transformers": []]).storageTransformers.isEmpty)
        #expect(try parse(["storage_transformers": nil]).jsonBytes.count > 0)
        expectZarrError("unsupportedExtension") { _ = try parse(["storage_transformers": [["name": "sharding"]]]) }
        expectZarrError("invalidMetadata") { _ = try parse(["storage_transformers": 3]) }
        let ignorable = try parse(["storage_transformers": [["name": "cache", "must_understand": false]]])
        #expect(ignorable.storageTransformers.count == 1)
    }

    @Test func codecsThatAreUnknown() throws {
        let error = expectZarrError("unknownCodec") {
            _ = try parse(["codecs": [["name": "bytes", "configuration": ["endian": "little"]], ["name": "foo"]]])
        }
        #expect(error?.description == #"unknown codec "foo" in /x/zarr.json"#)
        let skipped = try parse(["codecs": [["name": "bytes", "configuration": ["endian": "little"]],
                                            ["name": "foo", "must_understand": false]]])
        #expect(skipped.codecs.last == .ignored(["name": "foo", "must_understand": false]))
        expectZarrError("invalidCodecOrder") { _ = try parse(["codecs": []]) }
        expectZarrError("invalidCodecOrder") { _ = try parse(["codecs": [["name": "zstd"], ["name": "bytes", "configuration": ["endian": "little"]]]]) }
        expectZarrError("invalidCodecOrder") {
            _ = try parse(["codecs": [["name": "bytes", "configuration": ["endian": "little"]], ["name": "bytes", "configuration": ["endian": "little"]]]])
        }
        expectZarrError("invalidMetadata") { _ = try parse(["codecs": [3]]) }
        // Short-hand names are allowed.
        #expect(try parse(["codecs": ["bytes", "crc32c"], "data_type": "uint8"]).codecs.count == 2)
    }

    @Test func dataTypes() throws {
        for type in ZarrDataType.allCases {
            let metadata = try parse(["data_type": .string(type.name), "fill_value": ZarrFillValue.zero(for: type).json(for: type)])
            #expect(metadata.dataType == type)
        }
        #expect(try parse(["data_type": ["name": "int32"]]).dataType == .int32)
        for name in ["float16", "complex64", "complex128", "string", "r16", "uint128", "datetime64"] {
            let error = expectZarrError("unsupportedDataType") { _ = try parse(["data_type": .string(name)]) }
            #expect(error?.description == "unsupported data type \"\(name)\" in /x/zarr.json")
        }
        expectZarrError("unsupportedDataType") {
            _ = try parse(["data_type": ["name": "numpy.datetime64", "configuration": ["unit": "s", "scale_factor": 1]]])
        }
        expectZarrError("invalidMetadata") { _ = try parse(["data_type": 3]) }
    }

    @Test func chunkKeyEncodings() throws {
        #expect(try parse([:]).chunkKeyEncoding == .default(separator: "/"))
        #expect(try parse(["chunk_key_encoding": ["name": "default", "configuration": ["separator": "."]]]).chunkKeyEncoding == .default(separator: "."))
        #expect(try parse(["chunk_key_encoding": ["name": "default"]]).chunkKeyEncoding == .default(separator: "/"))
        #expect(try parse(["chunk_key_encoding": ["name": "v2"]]).chunkKeyEncoding == .v2(separator: "."))
        #expect(try parse(["chunk_key_encoding": ["name": "v2", "configuration": ["separator": "/"]]]).chunkKeyEncoding == .v2(separator: "/"))
        #expect(try parse(["chunk_key_encoding": "default"]).chunkKeyEncoding == .default(separator: "/"))
        expectZarrError("invalidMetadata") { _ = try parse(["chunk_key_encoding": ["name": "default", "configuration": ["separator": "-"]]]) }
        expectZarrError("unsupportedExtension") { _ = try parse(["chunk_key_encoding": ["name": "fancy"]]) }

        #expect(ZarrChunkKeyEncoding.default(separator: "/").key(for: [1, 23, 45]) == "c/1/23/45")
        #expect(ZarrChunkKeyEncoding.default(separator: ".").key(for: [1, 23, 45]) == "c.1.23.45")
        #expect(ZarrChunkKeyEncoding.default(separator: "/").key(for: []) == "c")
        #expect(ZarrChunkKeyEncoding.v2(separator: ".").key(for: [1, 23, 45]) == "1.23.45")
        #expect(ZarrChunkKeyEncoding.v2(separator: "/").key(for: [1, 23, 45]) == "1/23/45")
        #expect(ZarrChunkKeyEncoding.v2(separator: ".").key(for: []) == "0")
        #expect(ZarrChunkKeyEncoding.default(separator: "/").indices(fromKey: "c/1/23/45", rank: 3) == [1, 23, 45])
        #expect(ZarrChunkKeyEncoding.default(separator: "/").indices(fromKey: "zarr.json", rank: 1) == nil)
        #expect(ZarrChunkKeyEncoding.v2(separator: ".").indices(fromKey: "1.2", rank: 2) == [1, 2])
        #expect(ZarrChunkKeyEncoding.v2(separator: ".").indices(fromKey: "c.1.2", rank: 2) == nil)
    }

    @Test func shapesGridsAndNames() throws {
        let named = try parse(["dimension_names": ["frame", nil]])
        #expect(named.dimensionNames == ["frame", nil])
        #expect(String(decoding: named.jsonBytes, as: UTF8.self).contains("\"dimension_names\": [\n    \"frame\",\n    null\n  ]"))
        expectZarrError("invalidMetadata") { _ = try parse(["dimension_names": ["a"]]) }
        expectZarrError("invalidMetadata") { _ = try parse(["dimension_names": [1, 2]]) }
        expectZarrError("invalidMetadata") { _ = try parse(["shape": [-1, 4]]) }
        expectZarrError("invalidMetadata") { _ = try parse(["shape": [10]]) }
        expectZarrError("invalidMetadata") { _ = try parse(["chunk_grid": ["name": "regular", "configuration": ["chunk_shape": [0, 4]]]]) }
        expectZarrError("unsupportedExtension") { _ = try parse(["chunk_grid": ["name": "rectilinear", "configuration": [:]]]) }
        expectZarrError("missingField") { _ = try parse(["chunk_grid": ["name": "regular"]]) }
        expectZarrError("missingField") { _ = try parse(["fill_value": nil]) }
        expectZarrError("missingField") { _ = try parse(["codecs": nil]) }
        expectZarrError("unsupportedZarrFormat") { _ = try parse(["zarr_format": 2]) }
        expectZarrError("missingField") { _ = try parse(["zarr_format": nil]) }
        expectZarrError("nodeTypeMismatch") { _ = try parse(["node_type": "group"]) }
        expectZarrError("invalidMetadata") { _ = try parse(["node_type": "dataset"]) }
        expectZarrError("invalidMetadata") { _ = try parse(["attributes": [1]]) }
        expectZarrError("invalidJSON") { _ = try ZarrArrayMetadata(parsing: Array("{".utf8), path: "p") }
        expectZarrError("invalidMetadata") { _ = try ZarrArrayMetadata(parsing: Array("[]".utf8), path: "p") }
        #expect(try parse([:]).gridShape == [2, 1])
        #expect(try parse(["shape": [11, 0]]).gridShape == [3, 0])
    }

    @Test func newMetadataValidation() throws {
        #expect(throws: ZarrError.self) { try ZarrArrayMetadata(shape: [4], dataType: .uint8, chunkShape: [4, 4]) }
        #expect(throws: ZarrError.self) { try ZarrArrayMetadata(shape: [4], dataType: .uint8, chunkShape: [4], fillValue: .int(300)) }
        #expect(throws: ZarrError.self) { try ZarrArrayMetadata(shape: [4], dataType: .float32, chunkShape: [4], fillValue: .int(0)) }
        #expect(throws: ZarrError.self) {
            try ZarrArrayMetadata(shape: [4], dataType: .uint16, chunkShape: [4], codecs: [.bytes(BytesCodec(endian: nil))])
        }
        let metadata = try ZarrArrayMetadata(shape: [4, 4], dataType: .float32, chunkShape: [2, 2], fillValue: .float(.nan),
            attributes: ["units": "counts"], dimensionNames: ["y", "x"])
        #expect(try ZarrArrayMetadata(parsing: metadata.jsonBytes, path: "p") == metadata)
    }
}
