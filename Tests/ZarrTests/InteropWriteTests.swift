import Foundation
import JSONValue
import Testing
@testable import Zarr

/// zarr-python must open every group and array this module writes and read the same values.
@Suite struct InteropWriteTests {
    static let shape = [5, 7, 6]
    static let chunks = [2, 4, 3]

    /// Named codec setups; each is written for every data type.
    static func codecSetups(for type: ZarrDataType) throws -> [(String, [ZarrCodec])] {
        [
            ("default", ZarrCodec.defaults(for: type)),
            ("zstd_l5_checksum", [.bytes(.standard(for: type)), .zstd(ZstdCodec(level: 5, checksum: true))]),
            ("gzip", [.bytes(.standard(for: type)), .gzip(GzipCodec(level: 6))]),
            ("blosc_lz4_shuffle", [.bytes(.standard(for: type)), .blosc(BloscCodec(cname: .lz4, clevel: 5, shuffle: .shuffle))]),
            ("blosc_zstd_bitshuffle", [.bytes(.standard(for: type)), .blosc(BloscCodec(cname: .zstd, clevel: 3, shuffle: .bitshuffle))]),
            ("blosc_blosclz_noshuffle", [.bytes(.standard(for: type)), .blosc(BloscCodec(cname: .blosclz, clevel: 9, shuffle: .noshuffle))]),
            ("blosc_lz4hc_zlib", [.bytes(.standard(for: type)), .blosc(BloscCodec(cname: .lz4hc, clevel: 4)), .blosc(BloscCodec(cname: .zlib, clevel: 1))]),
            ("crc32c", [.bytes(.standard(for: type)), .zstd(ZstdCodec()), .crc32c(Crc32cCodec())]),
            ("bytes_only_crc32c", [.bytes(.standard(for: type)), .crc32c(Crc32cCodec())]),
            ("transpose", [.transpose(try TransposeCodec(order: [2, 0, 1])), .bytes(.standard(for: type)), .gzip(GzipCodec(level: 1))]),
            ("big_endian", [.bytes(BytesCodec(endian: .big)), .zstd(ZstdCodec())]),
            ("sharding", [.shardingIndexed(ShardingCodec(chunkShape: [1, 2, 3], codecs: ZarrCodec.defaults(for: type)))]),
            ("sharding_start_transposed", [.shardingIndexed(ShardingCodec(chunkShape: [2, 2, 1],
                codecs: [.transpose(try TransposeCodec(order: [1, 0, 2])), .bytes(BytesCodec(endian: .big)), .gzip(.init()), .crc32c(.init())],
                indexLocation: .start))]),
        ]
    }

    /// Deterministic values of `type` in native bytes, with frames 1..<4 set to the fill
    /// value: chunks of frames 2..<4 and the shard of frames 2..<4 are then missing from the
    /// store, and shards of frames 0..<2 miss the inner chunks of frame 1.
    static func sample(_ type: ZarrDataType, count: Int, fill: [UInt8]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count * type.size)
        bytes.withUnsafeMutableBytes { raw in
            for i in 0..<count {
                let o = i * type.size
                let v = (i * 37) % 200
                switch type {
                case .bool: raw.storeBytes(of: i % 3 == 0 ? 1 : 0, toByteOffset: o, as: UInt8.self)
                case .int8: raw.storeBytes(of: Int8(v - 100), toByteOffset: o, as: Int8.self)
                case .int16: raw.storeBytes(of: Int16(v * 100 - 10000), toByteOffset: o, as: Int16.self)
                case .int32: raw.storeBytes(of: Int32(v * 1_000_000 - 99_000_000), toByteOffset: o, as: Int32.self)
                case .int64: raw.storeBytes(of: Int64(v) * 1_000_000_000_000 - 1, toByteOffset: o, as: Int64.self)
                case .uint8: raw.storeBytes(of: UInt8(v + 1), toByteOffset: o, as: UInt8.self)
                case .uint16: raw.storeBytes(of: UInt16(v * 300 + 1), toByteOffset: o, as: UInt16.self)
                case .uint32: raw.storeBytes(of: UInt32(v) * 20_000_000 + 1, toByteOffset: o, as: UInt32.self)
                case .uint64: raw.storeBytes(of: UInt64(v) * 90_000_000_000_000_000 + 1, toByteOffset: o, as: UInt64.self)
                case .float32: raw.storeBytes(of: Float(v) * 0.25 - 3, toByteOffset: o, as: Float.self)
                case .float64: raw.storeBytes(of: Double(v) * 1e-3 - 0.1, toByteOffset: o, as: Double.self)
                }
            }
            let frame = 7 * 6 * type.size
            for k in (1 * frame)..<(4 * frame) { raw[k] = fill[(k - frame) % fill.count] }
        }
        return bytes
    }

    /// Prints, for each array path given, its dtype, shape, fill value and values as hex of
    /// little-endian bytes; then the attributes of each group path.
    static let reader = #"""
        import json, sys, zarr, numpy as np
        store, arrays, groups = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
        out = {"arrays": {}, "groups": {}}
        for path in arrays:
            a = zarr.open_array(store, path=path, mode="r")
            data = np.ascontiguousarray(a[...])
            little = data.astype(data.dtype.newbyteorder("<"))
            fill = a.fill_value
            fill = None if (isinstance(fill, float) or getattr(fill, "dtype", None) is not None and fill.dtype.kind == "f") and np.isnan(fill) else fill.item() if hasattr(fill, "item") else fill
            out["arrays"][path] = {"dtype": str(a.dtype), "shape": list(a.shape), "hex": little.tobytes().hex(),
                                   "fill": fill, "names": list(a.metadata.dimension_names or [])}
        for path in groups:
            g = zarr.open_group(store, path=path, mode="r")
            out["groups"][path] = {"attributes": dict(g.attrs), "members": sorted(k for k, _ in g.members())}
        print(json.dumps(out))
        """#

    @Test func zarrPythonReadsEveryDataTypeAndCodec() throws {
        try withTemporaryStore { store, root in
            let count = Self.shape.reduce(1, *)
            var written: [String: [UInt8]] = [:]
            _ = try ZarrGroup.create(in: store, at: "/", attributes: ["writer": "swift", "nan": .double(.nan)], overwrite: true)
            for type in ZarrDataType.allCases {
                for (setup, codecs) in try Self.codecSetups(for: type) {
                    let path = "\(type.name)/\(setup)"
                    let metadata = try ZarrArrayMetadata(shape: Self.shape, dataType: type, chunkShape: setup.hasPrefix("sharding") ? [2, 4, 6] : Self.chunks,
                        codecs: codecs, dimensionNames: ["frame", "y", nil])
                    let array = try ZarrArray.create(in: store, at: path, metadata: metadata)
                    let data = Self.sample(type, count: count, fill: array.fillPattern)
                    try data.withUnsafeBytes { try array.writeAll(from: $0) }
                    written[path] = data
                }
            }
            // Fill values zarr-python must read back: NaN, a negative integer, true.
            let extras: [(String, ZarrArrayMetadata)] = [
                ("fills/nan_f32", try ZarrArrayMetadata(shape: Self.shape, dataType: .float32, chunkShape: Self.chunks, fillValue: .float(.nan))),
                ("fills/neg_i16", try ZarrArrayMetadata(shape: Self.shape, dataType: .int16, chunkShape: Self.chunks, fillValue: .int(-7))),
                ("fills/true_bool", try ZarrArrayMetadata(shape: Self.shape, dataType: .bool, chunkShape: Self.chunks, fillValue: .bool(true),
                    chunkKeyEncoding: .default(separator: "."))),
                ("fills/v2_keys_u32", try ZarrArrayMetadata(shape: Self.shape, dataType: .uint32, chunkShape: Self.chunks, fillValue: .int(3),
                    chunkKeyEncoding: .v2(separator: "/"))),
            ]
            for (path, metadata) in extras {
                let array = try ZarrArray.create(in: store, at: path, metadata: metadata)
                let data = Self.sample(metadata.dataType, count: count, fill: array.fillPattern)
                try data.withUnsafeBytes { try array.writeAll(from: $0) }
                written[path] = data
            }
            // An array grown by appends, and one shrunk.
            var appended = try ZarrArray.create(in: store, at: "grown/frames",
                metadata: try ZarrArrayMetadata(shape: [0, 7, 6], dataType: .uint16, chunkShape: [1, 7, 6]))
            let frames = Self.sample(.uint16, count: count, fill: [0, 0])
            for k in 0..<5 {
                try frames[(k * 84)..<((k + 1) * 84)].withUnsafeBytes { try appended.append($0) }
            }
            written["grown/frames"] = frames
            var shrunk = try ZarrArray.create(in: store, at: "grown/shrunk",
                metadata: try ZarrArrayMetadata(shape: Self.shape, dataType: .uint16, chunkShape: Self.chunks))
            try frames.withUnsafeBytes { try shrunk.writeAll(from: $0) }
            try shrunk.resize(to: [2, 7, 6])
            written["grown/shrunk"] = Array(frames.prefix(2 * 84))

            let paths = written.keys.sorted()
            let groups = ["", "uint16", "fills", "grown"]
            let output = try runPython(Self.reader, [root.path, JSONValue(paths).jsonText, JSONValue(groups).jsonText])
            let result = try JSONValue(parsing: output)
            for path in paths {
                let entry = try #require(result["arrays"]?[path], "\(path) missing from zarr-python's output")
                let array = try ZarrArray.open(in: store, at: path)
                #expect(entry["dtype"]?.stringValue == (array.dataType == .bool ? "bool" : array.dataType.name), "\(path)")
                #expect(entry["shape"] == .array(array.shape.map { .int(Int64($0)) }), "\(path)")
                let hex = written[path]!.map { String(format: "%02x", $0) }.joined()
                #expect(entry["hex"]?.stringValue == hex, "\(path): zarr-python read different values")
                if path.contains("/default") { #expect(entry["names"] == ["frame", "y", nil], "\(path)") }
            }
            #expect(result["arrays"]?["fills/nan_f32"]?["fill"] == .null)  // NaN, reported as None above
            #expect(result["arrays"]?["fills/neg_i16"]?["fill"] == -7)
            #expect(result["arrays"]?["fills/true_bool"]?["fill"] == true)
            #expect(result["groups"]?[""]?["attributes"]?["writer"] == "swift")
            #expect(result["groups"]?[""]?["attributes"]?["nan"]?.doubleValue?.isNaN == true)
            #expect(result["groups"]?["uint16"]?["members"]?.arrayValue?.count == 13)
            #expect(result["groups"]?["grown"]?["members"] == ["frames", "shrunk"])
            // Missing chunks really are missing: frames 1..<4 were all fill value.
            #expect(try ZarrArray.open(in: store, at: "uint16/default").chunkExists(at: [1, 0, 0]) == false)
            #expect(try ZarrArray.open(in: store, at: "uint16/sharding").chunkExists(at: [1, 0, 0]) == false)
            let shard = try #require(try ZarrArray.open(in: store, at: "uint16/sharding").loadEncodedChunk(at: [0, 0, 0]))
            let index = shard.suffix(8 * 16 + 4).prefix(8 * 16)  // 2 x 2 x 2 inner chunks
            let entries = Array(index).withUnsafeBytes { raw in (0..<16).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self) } }
            #expect(entries.filter { $0 == UInt64.max }.count == 8, "frame 1's four inner chunks are not stored")
        }
    }
}
