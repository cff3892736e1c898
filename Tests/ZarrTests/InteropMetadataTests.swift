import Foundation
import JSONValue
import Testing
@testable import Zarr

/// zarr.json written here must be byte-identical to what zarr-python 3.1 writes for the
/// same array, so diffs between the two writers stay empty.
@Suite struct InteropMetadataTests {
    static let script = #"""
        import json, sys, warnings, zarr, numpy as np
        from zarr.codecs import *
        warnings.simplefilter("ignore")
        root = zarr.open_group(sys.argv[1], mode="w")
        root.create_array("default_u16", shape=(0, 64, 64), dtype="uint16", chunks=(1, 64, 64))
        root.create_array("u8", shape=(4,), dtype="uint8", chunks=(2,))
        root.create_array("bool", shape=(4,), dtype="bool", chunks=(4,))
        root.create_array("gzip_nan_names", shape=(4, 5), dtype="float32", chunks=(2, 2), fill_value=np.nan,
            compressors=[GzipCodec(level=5)], filters=[TransposeCodec(order=(1, 0))], serializer=BytesCodec(endian="big"),
            dimension_names=["x", None], attributes={"k": [1, 2.5, "s"], "n": None})
        root.create_array("blosc_crc", shape=(4, 5), dtype="int16", chunks=(2, 2), fill_value=-1,
            compressors=[BloscCodec(cname="lz4", clevel=3, shuffle="bitshuffle"), Crc32cCodec()])
        root.create_array("blosc_default", shape=(3,), dtype="uint32", chunks=(3,), compressors=[BloscCodec()])
        root.create_array("blosc_default_u8", shape=(3,), dtype="uint8", chunks=(3,), compressors=[BloscCodec()])
        root.create_array("sharded", shape=(8, 8), dtype="float64", chunks=(2, 2), shards=(4, 4), fill_value=np.inf)
        root.create_array("sharded_u8", shape=(8,), dtype="uint8", chunks=(2,), shards=(4,))
        root.create_array("zstd_checksum", shape=(2,), dtype="int64", chunks=(2,), compressors=[ZstdCodec(level=7, checksum=True)],
            chunk_key_encoding={"name": "default", "separator": "."}, fill_value=-5)
        root.create_array("v2_keys", shape=(2,), dtype="float32", chunks=(1,), chunk_key_encoding={"name": "v2", "separator": "."},
            fill_value=0.1)
        root.create_group("grp", attributes={"a": 1})
        """#

    static func expected() throws -> [String: ZarrArrayMetadata] {
        [
            "default_u16": try ZarrArrayMetadata(shape: [0, 64, 64], dataType: .uint16, chunkShape: [1, 64, 64]),
            "u8": try ZarrArrayMetadata(shape: [4], dataType: .uint8, chunkShape: [2]),
            "bool": try ZarrArrayMetadata(shape: [4], dataType: .bool, chunkShape: [4]),
            "gzip_nan_names": try ZarrArrayMetadata(shape: [4, 5], dataType: .float32, chunkShape: [2, 2], fillValue: .float(.nan),
                codecs: [.transpose(try TransposeCodec(order: [1, 0])), .bytes(BytesCodec(endian: .big)), .gzip(GzipCodec(level: 5))],
                attributes: ["k": [1, 2.5, "s"], "n": nil], dimensionNames: ["x", nil]),
            "blosc_crc": try ZarrArrayMetadata(shape: [4, 5], dataType: .int16, chunkShape: [2, 2], fillValue: .int(-1),
                codecs: [.bytes(.init()), .blosc(BloscCodec(cname: .lz4, clevel: 3, shuffle: .bitshuffle)), .crc32c(.init())]),
            "blosc_default": try ZarrArrayMetadata(shape: [3], dataType: .uint32, chunkShape: [3], codecs: [.bytes(.init()), .blosc(BloscCodec())]),
            "blosc_default_u8": try ZarrArrayMetadata(shape: [3], dataType: .uint8, chunkShape: [3], codecs: [.bytes(.init()), .blosc(BloscCodec())]),
            "sharded": try ZarrArrayMetadata(shape: [8, 8], dataType: .float64, chunkShape: [4, 4], fillValue: .float(.infinity),
                codecs: [.shardingIndexed(ShardingCodec(chunkShape: [2, 2], codecs: ZarrCodec.defaults(for: .float64)))]),
            "sharded_u8": try ZarrArrayMetadata(shape: [8], dataType: .uint8, chunkShape: [4],
                codecs: [.shardingIndexed(ShardingCodec(chunkShape: [2], codecs: [.bytes(.init()), .zstd(.init())]))]),
            "zstd_checksum": try ZarrArrayMetadata(shape: [2], dataType: .int64, chunkShape: [2], fillValue: .int(-5),
                codecs: [.bytes(.init()), .zstd(ZstdCodec(level: 7, checksum: true))], chunkKeyEncoding: .default(separator: ".")),
            "v2_keys": try ZarrArrayMetadata(shape: [2], dataType: .float32, chunkShape: [1], fillValue: .float(0.1),
                chunkKeyEncoding: .v2(separator: ".")),
        ]
    }

    @Test func zarrJSONMatchesZarrPythonByteForByte() throws {
        try withTemporaryDirectory { dir in
            let pythonStore = dir.appendingPathComponent("python.zarr")
            _ = try runPython(Self.script, [pythonStore.path])
            let store = try FilesystemStore(url: dir.appendingPathComponent("swift.zarr"), create: true)
            for (name, metadata) in try Self.expected() {
                let python = try Data(contentsOf: pythonStore.appendingPathComponent("\(name)/zarr.json"))
                #expect(String(decoding: metadata.jsonBytes, as: UTF8.self) == String(decoding: python, as: UTF8.self), "\(name)")
                // And what we read from zarr-python's file is what we meant.
                #expect(try ZarrArrayMetadata(parsing: Array(python), path: name) == metadata, "\(name)")
                _ = try ZarrArray.create(in: store, at: name, metadata: metadata)
            }
            _ = try ZarrGroup.create(in: store, at: "grp", attributes: ["a": 1])
            for file in ["zarr.json", "grp/zarr.json"] {
                let ours = try Data(contentsOf: dir.appendingPathComponent("swift.zarr/\(file)"))
                let theirs = try Data(contentsOf: pythonStore.appendingPathComponent(file))
                #expect(ours == theirs, "\(file)")
            }
        }
    }
}
