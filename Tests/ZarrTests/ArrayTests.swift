import Foundation
import JSONValue
import Testing
@testable import Zarr

@Suite struct ArrayTests {
    func frames(_ count: Int, rows: Int = 8, cols: Int = 6, start: Int = 0) -> [UInt16] {
        (0..<(count * rows * cols)).map { UInt16(truncatingIfNeeded: (start * rows * cols + $0) * 7 + 1) }
    }

    @Test func createWritesGroupsAndZarrJSON() throws {
        try withTemporaryStore { store, root in
            let metadata = try ZarrArrayMetadata(shape: [0, 8, 6], dataType: .uint16, chunkShape: [1, 8, 6])
            _ = try ZarrArray.create(in: store, at: "runs/abc/ccd", metadata: metadata)
            #expect(files(under: root) == ["runs/abc/ccd/zarr.json", "runs/abc/zarr.json", "runs/zarr.json", "zarr.json"])
            let group = try text(root.appendingPathComponent("runs/zarr.json"))
            #expect(group == "{\n  \"attributes\": {},\n  \"zarr_format\": 3,\n  \"node_type\": \"group\"\n}")
            expectZarrError("nodeAlreadyExists") { _ = try ZarrArray.create(in: store, at: "runs/abc/ccd", metadata: metadata) }
            expectZarrError("parentIsArray") { _ = try ZarrArray.create(in: store, at: "runs/abc/ccd/x", metadata: metadata) }
            expectZarrError("nodeTypeMismatch") { _ = try ZarrGroup.open(in: store, at: "runs/abc/ccd") }
            expectZarrError("nodeTypeMismatch") { _ = try ZarrArray.open(in: store, at: "runs/abc") }
            expectZarrError("nodeNotFound") { _ = try ZarrArray.open(in: store, at: "runs/nope") }
            expectZarrError("invalidNodeName") { _ = try ZarrArray.create(in: store, at: "runs/../x", metadata: metadata) }
            let runs = try ZarrGroup.open(in: store, at: "runs")
            #expect(try runs.children() == [ZarrGroup.Child(name: "abc", kind: .group)])
            #expect(try runs.openGroup("abc").children() == [ZarrGroup.Child(name: "ccd", kind: .array)])
            let replaced = try ZarrArray.create(in: store, at: "runs/abc/ccd",
                metadata: try ZarrArrayMetadata(shape: [2], dataType: .int8, chunkShape: [2]), overwrite: true)
            #expect(try ZarrArray.open(in: store, at: "runs/abc/ccd").dataType == .int8)
            _ = replaced
            if case .group(let g) = try ZarrNode.open(in: store, at: "/") { #expect(g.path.isRoot) } else { Issue.record("root is a group") }
        }
    }

    @Test func appendReadFramesAndEmptyChunks() throws {
        try withTemporaryStore { store, root in
            var array = try ZarrArray.create(in: store, at: "ccd",
                metadata: try ZarrArrayMetadata(shape: [0, 8, 6], dataType: .uint16, chunkShape: [1, 8, 6]))
            let data = frames(3)
            try array.append(Array(data[0..<48]))
            try array.append(Array(data[48...]))
            try array.append([UInt16](repeating: 0, count: 48))  // all fill: no chunk file
            #expect(array.shape == [4, 8, 6])
            #expect(try ZarrArray.open(in: store, at: "ccd").shape == [4, 8, 6])
            #expect(files(under: root.appendingPathComponent("ccd")) == ["c/0/0/0", "c/1/0/0", "c/2/0/0", "zarr.json"])
            #expect(try array.readAll(as: UInt16.self) == data + [UInt16](repeating: 0, count: 48))
            #expect(try array.readChunk(at: [1, 0, 0], as: UInt16.self) == Array(data[48..<96]))
            #expect(try array.read(ZarrRegion([2..<4, 3..<5, 1..<2]), as: UInt16.self) == [data[96 + 19], data[96 + 25], 0, 0])
            var buffer = [UInt16](repeating: 9, count: 48)
            let stored = try buffer.withUnsafeMutableBytes { try array.readChunk(at: [3, 0, 0], into: $0) }
            #expect(!stored && buffer == [UInt16](repeating: 0, count: 48))
            // Overwriting a chunk with fill values deletes its file.
            try array.writeChunk(at: [1, 0, 0], [UInt16](repeating: 0, count: 48))
            #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("ccd/c/1/0/0").path))
            var keeping = array
            keeping.storeEmptyChunks = true
            try keeping.writeChunk(at: [1, 0, 0], [UInt16](repeating: 0, count: 48))
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("ccd/c/1/0/0").path))
            expectZarrError("elementTypeMismatch") { try array.append([Int32](repeating: 0, count: 48)) }
            expectZarrError("bufferSizeMismatch") { try array.append([UInt16](repeating: 0, count: 47)) }
            expectZarrError("invalidRegion") { _ = try array.readChunk(at: [4, 0, 0], as: UInt16.self) }
            expectZarrError("invalidRegion") { _ = try array.read(ZarrRegion([0..<5, 0..<8, 0..<6]), as: UInt16.self) }
        }
    }

    @Test func encodeAndStoreSeparately() throws {
        try withTemporaryStore { store, _ in
            var array = try ZarrArray.create(in: store, at: "ccd",
                metadata: try ZarrArrayMetadata(shape: [0, 8, 6], dataType: .uint16, chunkShape: [1, 8, 6]))
            let data = frames(4)
            // Encode in parallel, store in order, then grow: the pipelined writer's pattern.
            let encoded = try (0..<4).map { k in try array.encodeChunk(Array(data[(k * 48)..<((k + 1) * 48)])) }
            for (k, bytes) in encoded.enumerated() { try array.storeEncodedChunk(at: [k, 0, 0], bytes) }
            #expect(try ZarrArray.open(in: store, at: "ccd").readAll(as: UInt16.self).isEmpty)
            try array.resize(to: [4, 8, 6])
            #expect(try array.readAll(as: UInt16.self) == data)
            let raw = try #require(try array.loadEncodedChunk(at: [2, 0, 0]))
            var frame = [UInt16](repeating: 0, count: 48)
            try frame.withUnsafeMutableBytes { try array.decodeChunk(raw, at: [2, 0, 0], into: $0) }
            #expect(frame == Array(data[96..<144]))
            #expect(try array.encodeChunk([UInt16](repeating: 0, count: 48)) == nil)
            try array.storeEncodedChunk(at: [2, 0, 0], nil)
            #expect(try !array.chunkExists(at: [2, 0, 0]))
        }
    }

    @Test func manyFramesInParallelIntoOneBuffer() throws {
        try withTemporaryStore { store, _ in
            var array = try ZarrArray.create(in: store, at: "ccd",
                metadata: try ZarrArrayMetadata(shape: [0, 16, 16], dataType: .uint16, chunkShape: [1, 16, 16]))
            let data = (0..<(40 * 256)).map { UInt16(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
            try array.append(data)
            var buffer = [UInt16](repeating: 0, count: 30 * 256)
            try buffer.withUnsafeMutableBytes { try array.read(ZarrRegion(start: [5, 0, 0], shape: [30, 16, 16]), into: $0) }
            #expect(buffer == Array(data[(5 * 256)..<(35 * 256)]))
        }
    }

    @Test(arguments: [
        [ZarrCodec.bytes(.init()), .zstd(.init())],
        [.transpose(try! TransposeCodec(order: [2, 0, 1])), .bytes(BytesCodec(endian: .big)), .gzip(.init()), .crc32c(.init())],
        [.bytes(.init()), .blosc(BloscCodec(cname: .lz4, shuffle: .bitshuffle))],
        [.shardingIndexed(ShardingCodec(chunkShape: [1, 2, 5], codecs: ZarrCodec.defaults(for: .int32)))],
    ])
    func regionsAcrossChunkEdges(codecs: [ZarrCodec]) throws {
        try withTemporaryStore { store, _ in
            let shape = [5, 7, 10]
            let array = try ZarrArray.create(in: store, at: "a",
                metadata: try ZarrArrayMetadata(shape: shape, dataType: .int32, chunkShape: [2, 4, 5], fillValue: .int(-1), codecs: codecs))
            var reference = [Int32](repeating: -1, count: 350)
            var rng = SplitMix64(seed: 11)
            for _ in 0..<25 {
                let start = shape.map { Int.random(in: 0..<$0, using: &rng) }
                let extent = zip(shape, start).map { Int.random(in: 0...($0 - $1), using: &rng) }
                let region = ZarrRegion(start: start, shape: extent)
                let values = (0..<region.elementCount).map { _ in Int32.random(in: -5...1000, using: &rng) }
                try array.write(region, values)
                var n = 0
                for i in 0..<extent[0] { for j in 0..<extent[1] { for k in 0..<extent[2] {
                    reference[(start[0] + i) * 70 + (start[1] + j) * 10 + start[2] + k] = values[n]; n += 1
                } } }
                #expect(try array.readAll(as: Int32.self) == reference)
                let probe = ZarrRegion(start: [1, 2, 3], shape: [3, 5, 6])
                var expected: [Int32] = []
                for i in 1..<4 { for j in 2..<7 { for k in 3..<9 { expected.append(reference[i * 70 + j * 10 + k]) } } }
                #expect(try array.read(probe, as: Int32.self) == expected)
            }
        }
    }

    @Test func resizeShrinksAndDeletesChunks() throws {
        try withTemporaryStore { store, root in
            var array = try ZarrArray.create(in: store, at: "a",
                metadata: try ZarrArrayMetadata(shape: [6, 4], dataType: .uint8, chunkShape: [2, 2], chunkKeyEncoding: .default(separator: ".")))
            try array.writeAll((1...24).map { UInt8($0) })
            #expect(files(under: root.appendingPathComponent("a")).count == 7)
            try array.resize(to: [3, 2])
            #expect(files(under: root.appendingPathComponent("a")) == ["c.0.0", "c.1.0", "zarr.json"])
            #expect(try array.readAll(as: UInt8.self) == [1, 2, 5, 6, 9, 10])
            try array.resize(to: [4, 4])
            #expect(try ZarrArray.open(in: store, at: "a").shape == [4, 4])
            // Chunk (1, 0) kept its stored row 3 (as zarr-python does); chunks (0,1), (1,1) read as fill.
            #expect(try array.readAll(as: UInt8.self) == [1, 2, 0, 0, 5, 6, 0, 0, 9, 10, 0, 0, 13, 14, 0, 0])
            expectZarrError("invalidRegion") { try array.resize(to: [4]) }
        }
    }

    @Test func typesFillValuesAndKeyEncodings() throws {
        try withTemporaryStore { store, root in
            let nan = try ZarrArray.create(in: store, at: "f",
                metadata: try ZarrArrayMetadata(shape: [4], dataType: .float64, chunkShape: [2], fillValue: .float(.nan)))
            try nan.write(ZarrRegion([0..<2]), [Double.nan, -Double.nan])  // any NaN counts as fill
            #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("f/c/0").path))
            try nan.write(ZarrRegion([1..<3]), [1.5, -0.0])
            let values = try nan.readAll(as: Double.self)
            #expect(values[0].isNaN && values[1] == 1.5 && values[2].sign == .minus && values[3].isNaN)

            let zero = try ZarrArray.create(in: store, at: "z",
                metadata: try ZarrArrayMetadata(shape: [2], dataType: .float32, chunkShape: [2]))
            try zero.writeAll([Float(-0.0), 0])  // -0.0 is not the fill value 0.0 bit for bit
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("z/c/0").path))

            let flags = try ZarrArray.create(in: store, at: "b",
                metadata: try ZarrArrayMetadata(shape: [5], dataType: .bool, chunkShape: [5], codecs: [.bytes(BytesCodec(endian: nil)), .gzip(.init())]))
            try flags.writeAll([true, false, true, true, false])
            #expect(try flags.readAll(as: Bool.self) == [true, false, true, true, false])

            let v2 = try ZarrArray.create(in: store, at: "v2",
                metadata: try ZarrArrayMetadata(shape: [2, 2], dataType: .int64, chunkShape: [1, 2], chunkKeyEncoding: .v2(separator: ".")))
            try v2.writeAll([Int64.min, 1, 2, Int64.max])
            #expect(files(under: root.appendingPathComponent("v2")) == ["0.0", "1.0", "zarr.json"])
            #expect(try ZarrArray.open(in: store, at: "v2").readAll(as: Int64.self) == [Int64.min, 1, 2, Int64.max])
        }
    }

    @Test func corruptAndTruncatedChunksThrowNamingTheChunk() throws {
        try withTemporaryStore { store, root in
            var array = try ZarrArray.create(in: store, at: "x",
                metadata: try ZarrArrayMetadata(shape: [0, 8, 6], dataType: .uint16, chunkShape: [1, 8, 6],
                    codecs: [.bytes(.init()), .zstd(.init()), .crc32c(.init())]))
            try array.append(frames(2))
            let chunk = root.appendingPathComponent("x/c/0/0/0")
            var bytes = try Data(contentsOf: chunk)
            bytes[5] ^= 0x40
            try bytes.write(to: chunk)
            let error = expectZarrError("checksumMismatch") { _ = try array.readAll(as: UInt16.self) }
            #expect(error?.description.hasPrefix("chunk \(root.path)/x/c/0/0/0: checksum mismatch") == true)
            try Data(bytes.prefix(7)).write(to: chunk)
            expectZarrError("checksumMismatch") { _ = try array.readChunk(at: [0, 0, 0], as: UInt16.self) }

            let plain = try ZarrArray.create(in: store, at: "y",
                metadata: try ZarrArrayMetadata(shape: [2, 8, 6], dataType: .uint16, chunkShape: [1, 8, 6]))
            try plain.writeAll(frames(2))
            let second = root.appendingPathComponent("y/c/1/0/0")
            let good = try Data(contentsOf: second)
            try Data(good.prefix(good.count - 3)).write(to: second)
            let truncated = expectZarrError("truncatedChunk") { _ = try plain.readAll(as: UInt16.self) }
            #expect(truncated?.description.contains("y/c/1/0/0") == true)
            try Data([1, 2, 3]).write(to: second)
            #expect(throws: ZarrError.self) { _ = try plain.readAll(as: UInt16.self) }
        }
    }

    @Test func atomicWritesLeaveNoTemporaryFiles() throws {
        try withTemporaryDirectory { dir in
            let store = try FilesystemStore(url: dir.appendingPathComponent("d.zarr"), create: true, durability: .fsync)
            var array = try ZarrArray.create(in: store, at: "g/a",
                metadata: try ZarrArrayMetadata(shape: [0, 4], dataType: .uint32, chunkShape: [1, 4]))
            for k in 0..<5 { try array.append((0..<4).map { UInt32(k * 10 + $0 + 1) }) }
            try array.writeChunk(at: [0, 0], [UInt32](repeating: 7, count: 4))
            let all = files(under: dir.appendingPathComponent("d.zarr"))
            #expect(!all.contains { $0.hasSuffix(".tmp") })
            #expect(all.count == 8)
            #expect(try ZarrArray.open(in: store, at: "g/a").readAll(as: UInt32.self).prefix(4) == [7, 7, 7, 7])
            expectZarrError("io") { _ = try FilesystemStore(root: dir.appendingPathComponent("missing").path) }
        }
    }

    /// The frame writer's pattern: chunks written in place beyond the shape, then the
    /// array grown; a crash's partial leftover is replaced, a failure names the file.
    @Test func unpublishedChunksWrittenInPlaceThenPublished() throws {
        try withTemporaryStore { store, root in
            var array = try ZarrArray.create(in: store, at: "run/ccd",
                metadata: try ZarrArrayMetadata(shape: [0, 8, 6], dataType: .uint16, chunkShape: [1, 8, 6],
                                                codecs: [.bytes(.standard(for: .uint16)), .zstd(ZstdCodec(level: 0, checksum: false))]))
            let data = frames(3).map { $0 &+ 1 }  // no all-fill chunk
            // A partial chunk a killed writer left at index 1, beyond the shape.
            try FileManager.default.createDirectory(at: root.appendingPathComponent("run/ccd/c/1/0"), withIntermediateDirectories: true)
            try Data([0x28, 0xB5]).write(to: root.appendingPathComponent("run/ccd/c/1/0/0"))
            for k in 0..<3 {
                let bytes = try array.encodeChunk(Array(data[(k * 48)..<((k + 1) * 48)]))
                try array.storeEncodedChunk(at: [k, 0, 0], bytes, mode: .unpublished)
            }
            #expect(try ZarrArray.open(in: store, at: "run/ccd").shape == [0, 8, 6])
            try array.resize(to: [3, 8, 6])
            #expect(try ZarrArray.open(in: store, at: "run/ccd").readAll(as: UInt16.self) == data)
            let all = files(under: root)
            #expect(!all.contains { $0.contains(".tmp") })
            #expect(all.filter { $0.hasPrefix("run/ccd/c/") }.sorted() == ["run/ccd/c/0/0/0", "run/ccd/c/1/0/0", "run/ccd/c/2/0/0"])
            let total = try runPython("""
                import sys, zarr
                a = zarr.open_array(sys.argv[1], mode="r")
                print(a.shape, int(a[:].astype("int64").sum()))
                """, [root.appendingPathComponent("run/ccd").path])
            #expect(total.trimmingCharacters(in: .whitespacesAndNewlines) == "(3, 8, 6) \(data.reduce(0) { $0 + Int($1) })")

            // A folder in the way: the error names the chunk's path; nothing is left behind.
            try Data("not a folder".utf8).write(to: root.appendingPathComponent("run/ccd/c/3"))
            let error = expectZarrError("io") {
                try array.storeEncodedChunk(at: [3, 0, 0], try array.encodeChunk(Array(data[0..<48])), mode: .unpublished)
            }
            #expect("\(error.map { "\($0)" } ?? "")".contains("c/3"))
            #expect(files(under: root).filter { $0.hasPrefix("run/ccd/c/") }.count == 4)
        }
    }

    @Test func attributesAndGroups() throws {
        try withTemporaryStore { store, root in
            var group = try ZarrGroup.openOrCreate(in: store, at: "a/b")
            try group.setAttributes(["plan": "scan", "n": 3, "nan": .double(.nan)])
            #expect(try ZarrGroup.open(in: store, at: "a/b").attributes["n"] == 3)
            #expect(try text(root.appendingPathComponent("a/b/zarr.json")).contains("\"nan\": NaN"))
            _ = try ZarrGroup.openOrCreate(in: store, at: "a/b")
            let child = try group.createGroup("c/d")
            #expect(child.path.key == "a/b/c/d")
            #expect(try group.children().map(\.name) == ["c"])
            var array = try group.createArray("arr", metadata: try ZarrArrayMetadata(shape: [1], dataType: .uint8, chunkShape: [1]))
            try array.setAttributes(["units": "counts"])
            #expect(try group.openArray("arr").attributes == ["units": "counts"])
            expectZarrError("nodeTypeMismatch") { _ = try ZarrGroup.openOrCreate(in: store, at: "a/b/arr") }
        }
    }
}
