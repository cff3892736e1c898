import Foundation
import GRDB
import Resonance
import Testing

@Suite("RunWriter frames")
struct FrameWriterTests {
    let dir = TempDir()
    var db: String { dir.file("frames.db") }
    var store: String { dir.file("frames.zarr") }

    func pattern<E: FrameElement>(_ type: E.Type, rows: Int, columns: Int, k: Int, make: (Int) -> E) -> Frame<E> {
        Frame(rows: rows, columns: columns, pixels: (0..<(rows * columns)).map { make($0 * 7 + k * 1000) })
    }

    /// Writes three frames of every dtype with `codec`, then has zarr-python read them back.
    func roundTripThroughZarrPython(codec: FrameCodec) throws {
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"), options: .init(frameCodec: codec))
        let run = try writer.open { w in
            let run = try w.openRun("rsoxs")
            try w.openStream("primary")
            for k in 0..<3 {
                let e = try w.writeEvent(["k": .int(Int64(k))])
                try w.writeFrame(eventUID: e, field: "u8", frame: pattern(UInt8.self, rows: 5, columns: 7, k: k) { UInt8(truncatingIfNeeded: $0) })
                try w.writeFrame(eventUID: e, field: "i8", frame: pattern(Int8.self, rows: 5, columns: 7, k: k) { Int8(truncatingIfNeeded: $0) })
                try w.writeFrame(eventUID: e, field: "u16", frame: pattern(UInt16.self, rows: 6, columns: 4, k: k) { UInt16(truncatingIfNeeded: $0 * 13) })
                try w.writeFrame(eventUID: e, field: "i16", frame: pattern(Int16.self, rows: 6, columns: 4, k: k) { Int16(truncatingIfNeeded: -$0 * 13) })
                try w.writeFrame(eventUID: e, field: "u32", frame: pattern(UInt32.self, rows: 3, columns: 9, k: k) { UInt32($0) * 70_001 })
                try w.writeFrame(eventUID: e, field: "i32", frame: pattern(Int32.self, rows: 3, columns: 9, k: k) { -Int32($0) * 70_001 })
                try w.writeFrame(eventUID: e, field: "u64", frame: pattern(UInt64.self, rows: 2, columns: 2, k: k) { UInt64($0) << 40 })
                try w.writeFrame(eventUID: e, field: "i64", frame: pattern(Int64.self, rows: 2, columns: 2, k: k) { -(Int64($0) << 40) })
                try w.writeFrame(eventUID: e, field: "f32", frame: pattern(Float.self, rows: 4, columns: 4, k: k) { $0 == 3 ? .nan : Float($0) / 3 })
                try w.writeFrame(eventUID: e, field: "f64", frame: pattern(Double.self, rows: 4, columns: 4, k: k) { $0 == 3 ? -.infinity : Double($0) / 3 })
            }
            return run
        }
        let refsCodecs = try inspect(db) { try String.fetchAll($0, sql: "SELECT DISTINCT compression_codec FROM image_refs") }
        #expect(refsCodecs == [codec.name])
        let script = """
            import sys, json, sqlite3, numpy as np, zarr
            db, store, run = sys.argv[1:4]
            root = zarr.open_group(store, mode="r")
            assert root.attrs.asdict() == {} and root["runs"][run] is not None
            con = sqlite3.connect(db)
            specs = {"u8": (np.uint8, 5, 7, lambda v: v % 256), "i8": (np.int8, 5, 7, lambda v: ((v + 128) % 256) - 128),
                     "u16": (np.uint16, 6, 4, lambda v: (v * 13) % 65536), "i16": (np.int16, 6, 4, lambda v: ((-v * 13 + 32768) % 65536) - 32768),
                     "u32": (np.uint32, 3, 9, lambda v: v * 70001), "i32": (np.int32, 3, 9, lambda v: -v * 70001),
                     "u64": (np.uint64, 2, 2, lambda v: v << 40), "i64": (np.int64, 2, 2, lambda v: -(v << 40)),
                     "f32": (np.float32, 4, 4, None), "f64": (np.float64, 4, 4, None)}
            for field, (dtype, rows, cols, make) in specs.items():
                a = zarr.open_array(store, path=f"runs/{run}/{field}", mode="r")
                assert a.shape == (3, rows, cols) and a.chunks == (1, rows, cols) and a.dtype == dtype, (field, a.shape, a.chunks, a.dtype)
                data = a[:]
                for k in range(3):
                    v = np.arange(rows * cols, dtype=np.int64) * 7 + k * 1000
                    if make is not None:
                        want = np.array([make(int(x)) for x in v], dtype=object).astype(dtype).reshape(rows, cols)
                        assert np.array_equal(data[k], want), (field, k, data[k], want)
                    else:
                        want = (v / 3).astype(dtype)
                        want[v == 3] = np.nan if field == "f32" else -np.inf
                        assert np.array_equal(data[k], want.reshape(rows, cols), equal_nan=True), (field, k)
                refs = con.execute("SELECT index_in_stack, shape_x, shape_y, dtype, zarr_group FROM image_refs WHERE field_name=? ORDER BY id", (field,)).fetchall()
                assert refs == [(k, rows, cols, np.dtype(dtype).name, f"runs/{run}/{field}") for k in range(3)], refs
            print("ok")
            """
        #expect(try runPython(script, [db, store, run]).contains("ok"))
    }

    @Test(arguments: FrameCodec.all)
    func zarrPythonReadsEveryDtypeWrittenWith(_ codec: FrameCodec) throws {
        try roundTripThroughZarrPython(codec: codec)
    }

    @Test func layoutFollowsTheSpec() throws {
        let run = try RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"), options: .init(frameLayout: .chunkPerFrame)).open { w in
            let run = try w.openRun("rsoxs")
            try w.openStream("primary")
            for k in 0..<3 {
                let e = try w.writeEvent(["k": .int(Int64(k))])
                try w.writeFrame(eventUID: e, field: "ccd", frame: Frame<UInt16>(rows: 8, columns: 16, pixels: [UInt16](repeating: UInt16(k + 1), count: 128)))
            }
            return run
        }
        for group in ["", "/runs", "/runs/\(run)"] {
            let json = try JSONValue(parsing: String(contentsOfFile: store + group + "/zarr.json", encoding: .utf8))
            #expect(json == ["attributes": [:], "zarr_format": 3, "node_type": "group"])
        }
        let array = try JSONValue(parsing: String(contentsOfFile: store + "/runs/\(run)/ccd/zarr.json", encoding: .utf8))
        #expect(array["shape"] == [3, 8, 16])
        #expect(array["chunk_grid"]?["configuration"]?["chunk_shape"] == [1, 8, 16])
        #expect(array["chunk_key_encoding"] == ["name": "default", "configuration": ["separator": "/"]])
        #expect(array["fill_value"] == 0)
        #expect(array["storage_transformers"] == [])
        #expect(array["data_type"] == "uint16")
        for k in 0..<3 { #expect(FileManager.default.fileExists(atPath: store + "/runs/\(run)/ccd/c/\(k)/0/0")) }
    }

    /// The sharded layout (docs/format.md): sharding_indexed with one inner chunk per frame,
    /// the index first and without checksum; zarr-python reads every frame, the all-zero
    /// one as zeros, also from the half-full last shard.
    @Test func shardedLayoutIsWhatTheFormatSaysAndZarrPythonReadsIt() throws {
        let run = try RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"), options: .init(frameLayout: .sharded(framesPerShard: 4))).open { w in
            let run = try w.openRun("rsoxs")
            try w.openStream("primary")
            for k in 0..<6 {
                let e = try w.writeEvent(["k": .int(Int64(k))])
                let value = UInt16(k == 1 ? 0 : k + 1)
                try w.writeFrame(eventUID: e, field: "ccd", frame: Frame<UInt16>(rows: 8, columns: 16, pixels: (0..<128).map { value == 0 ? 0 : value &* UInt16($0) }))
            }
            return run
        }
        let array = try JSONValue(parsing: String(contentsOfFile: store + "/runs/\(run)/ccd/zarr.json", encoding: .utf8))
        #expect(array["shape"] == [6, 8, 16])
        #expect(array["chunk_grid"]?["configuration"]?["chunk_shape"] == [4, 8, 16])
        let sharding = array["codecs"]?.arrayValue?.first
        #expect(sharding?["name"] == "sharding_indexed")
        #expect(sharding?["configuration"]?["chunk_shape"] == [1, 8, 16])
        #expect(sharding?["configuration"]?["index_location"] == "start")
        #expect(sharding?["configuration"]?["index_codecs"] == [["name": "bytes", "configuration": ["endian": "little"]]])
        #expect(sharding?["configuration"]?["codecs"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["bytes", "blosc"])
        for k in 0..<2 { #expect(FileManager.default.fileExists(atPath: store + "/runs/\(run)/ccd/c/\(k)/0/0")) }
        #expect(!FileManager.default.fileExists(atPath: store + "/runs/\(run)/ccd/c/2/0/0"))
        let out = try runPython("""
            import zarr, sys, numpy as np
            a = zarr.open_array(sys.argv[1], path=sys.argv[2], mode='r')
            assert a.shards == (4, 8, 16) and a.chunks == (1, 8, 16), (a.shards, a.chunks)
            want = [np.zeros(128, np.uint16) if k == 1 else (np.arange(128) * (k + 1)).astype(np.uint16) for k in range(6)]
            data = a[:]
            for k in range(6):
                assert np.array_equal(data[k].ravel(), want[k]), k
                assert np.array_equal(a[k].ravel(), want[k]), k
            print(a.shape)
            """, [store, "runs/\(run)/ccd"])
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "(6, 8, 16)")
        // The Catalog reads the same frames.
        let frames = try Catalog(dbPath: db).open().run(run).frames(field: "ccd")
        for k in 0..<6 {
            #expect(try frames.frame(k, as: UInt16.self).pixels == (0..<128).map { k == 1 ? 0 : UInt16(k + 1) &* UInt16($0) })
        }
    }

    /// Which layout the default picks: shards for small frames, a file per frame for large.
    @Test func automaticLayoutShardsSmallFramesOnly() {
        #expect(FrameLayout.automatic(frameBytes: 256 * 256 * 2) == .sharded(framesPerShard: 512))
        #expect(FrameLayout.automatic(frameBytes: 512 * 512 * 2) == .sharded(framesPerShard: 128))
        #expect(FrameLayout.automatic(frameBytes: 512 * 512 * 2 + 2) == .chunkPerFrame)
        #expect(FrameLayout.automatic(frameBytes: 512 * 512 * 4) == .chunkPerFrame)
        #expect(FrameLayout.automatic(frameBytes: 128 * 128 * 2) == .sharded(framesPerShard: 2048))
        #expect(FrameLayout.automatic(frameBytes: 2048 * 2048 * 2) == .chunkPerFrame)
        #expect(FrameLayout.automatic(frameBytes: 1024 * 1024 * 4) == .chunkPerFrame)
        #expect(FrameLayout(name: "sharded-64") == .sharded(framesPerShard: 64))
        #expect(FrameLayout(name: "chunk-per-frame") == .chunkPerFrame)
        #expect(FrameLayout(name: "sharded-0") == nil)
    }

    @Test func badFramesAndNamesAreRefusedAndNothingIsWritten() throws {
        let w = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"))
        try w.open()
        let other = try w.openRun("first")
        try w.openStream("primary")
        let foreignEvent = try w.writeEvent(["x": 1])
        try w.closeRun()
        let run = try w.openRun("second")
        try w.openStream("primary")
        let e = try w.writeEvent(["x": 1])
        let good = Frame<UInt16>(rows: 4, columns: 4, pixels: [UInt16](repeating: 9, count: 16))
        try w.writeFrame(eventUID: e, field: "ccd", frame: good)
        try w.flush()
        func snapshot() throws -> ([String], Int) {
            let files = (FileManager.default.enumerator(atPath: dir.path)?.allObjects as? [String] ?? []).filter { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }.sorted()
            return (files, try inspect(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM image_refs") ?? -1 })
        }
        let before = try snapshot()
        func refused(_ body: () throws -> Void, _ check: (RunWriterError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(sourceLocation: sourceLocation) { try body() } throws: { error in
                guard let error = error as? RunWriterError else { return false }
                return check(error)
            }
        }
        let isFrame: (RunWriterError) -> Bool = { if case .invalidFrame = $0 { true } else { false } }
        let isName: (RunWriterError) -> Bool = { if case .invalidName = $0 { true } else { false } }
        refused({ try w.writeFrame(eventUID: e, field: "ccd", frame: Frame<UInt16>(rows: 0, columns: 4, pixels: [])) }, isFrame)
        refused({ try w.writeFrame(eventUID: e, field: "ccd", frame: Frame<UInt16>(rows: 4, columns: 4, pixels: [1, 2, 3])) }, isFrame)
        refused({ try w.writeFrame(eventUID: e, field: "ccd", frame: Frame<UInt16>(rows: 4, columns: 5, pixels: [UInt16](repeating: 1, count: 20))) }, isFrame)
        refused({ try w.writeFrame(eventUID: e, field: "ccd", frame: Frame<Int32>(rows: 4, columns: 4, pixels: [Int32](repeating: 1, count: 16))) }, isFrame)
        let cube = [UInt16](repeating: 0, count: 2 * 4 * 4)
        refused({ try cube.withUnsafeBytes { try w.writeFrame(eventUID: e, field: "ccd", shape: [2, 4, 4], dtype: .uint16, pixels: $0) } }, isFrame)
        refused({ try w.writeFrame(eventUID: foreignEvent, field: "ccd", frame: good) }, { $0 == .eventNotInRun(eventUID: foreignEvent, runUID: run) })
        refused({ try w.writeFrame(eventUID: "not-a-uid", field: "ccd", frame: good) }, { if case .eventNotInRun = $0 { true } else { false } })
        for name in ["", "a/b", "..", "../../etc", "a\\b", "__zarr", ".hidden", "x\u{0}y", "zarr.json", String(repeating: "n", count: 300)] {
            refused({ try w.writeFrame(eventUID: e, field: name, frame: good) }, isName)
        }
        #expect(try snapshot() == before)
        #expect(other != run)
        // The writer goes on after every refusal.
        try w.writeFrame(eventUID: e, field: "ccd", frame: good)
        try w.closeRun()
        try w.close()
        #expect(try inspect(db) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM image_refs") } == 2)
    }

    @Test func allZeroFramesHaveNoChunkFileButReadAsZeros() throws {
        let run = try RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"), options: .init(frameLayout: .chunkPerFrame)).open { w in
            let run = try w.openRun("dark")
            try w.openStream("primary")
            let e = try w.writeEvent(["x": 1])
            try w.writeFrame(eventUID: e, field: "ccd", frame: Frame<UInt16>(rows: 3, columns: 3, pixels: [UInt16](repeating: 0, count: 9)))
            try w.writeFrame(eventUID: e, field: "ccd", frame: Frame<UInt16>(rows: 3, columns: 3, pixels: [UInt16](repeating: 5, count: 9)))
            return run
        }
        #expect(!FileManager.default.fileExists(atPath: store + "/runs/\(run)/ccd/c/0/0/0"))
        #expect(FileManager.default.fileExists(atPath: store + "/runs/\(run)/ccd/c/1/0/0"))
        let out = try runPython("import zarr, sys; a = zarr.open_array(sys.argv[1], path=sys.argv[2], mode='r'); print(a.shape, int(a[0].sum()), int(a[1].sum()))",
                                [store, "runs/\(run)/ccd"])
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "(2, 3, 3) 0 45")
    }
}
