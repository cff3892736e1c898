import Foundation
import JSONValue
import Resonance
import Testing

@Suite("resonance frames")
struct FramesCommandTests {
    let dir = TempDir()
    var db: String { dir.file("bt.db") }

    init() throws { try BrowseFixture.write(to: dir.file("bt.db")) }

    func frames(_ args: String...) throws -> CommandResult {
        try runCommand(builtExecutable("resonance"), ["frames", db] + args)
    }

    @Test func integerStatisticsCountSaturatedPixels() throws {
        let result = try frames(BrowseFixture.imagesUID, "--field", "det", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(try JSONValue(parsing: result.stdout).arrayValue)
        #expect(rows.count == 3)
        for (k, row) in rows.enumerated() {
            let pixels = BrowseFixture.detPixels(k).map(Int64.init)
            let sum = pixels.reduce(0, +)
            #expect(row.objectValue?.keys.elementsEqual(["index", "seq_num", "shape", "dtype", "min", "max", "mean", "sum", "saturated"]) == true)
            #expect(row["index"] == .int(Int64(k)))
            #expect(row["seq_num"] == .int(Int64(k + 1)))
            #expect(row["shape"] == [4, 5])
            #expect(row["dtype"] == "uint16")
            #expect(row["min"] == .int(pixels.min()!))
            #expect(row["max"] == 65535)
            #expect(row["sum"] == .int(sum))
            #expect(row["mean"] == .double(Double(sum) / 20))
            #expect(row["saturated"] == (k == 2 ? 3 : 1))
        }
    }

    @Test func floatStatisticsSkipAndCountNonFinitePixels() throws {
        let result = try frames(BrowseFixture.imagesUID, "--field", "flt", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(try JSONValue(parsing: result.stdout).arrayValue)
        #expect(rows.count == 2)
        for (k, row) in rows.enumerated() {
            let finite = BrowseFixture.fltPixels(k).filter(\.isFinite).map(Double.init)
            #expect(row["dtype"] == "float32")
            #expect(row["min"] == .double(finite.min()!))
            #expect(row["max"] == .double(finite.max()!))
            #expect(row["sum"] == .double(finite.reduce(0, +)))
            #expect(row["mean"] == .double(finite.reduce(0, +) / Double(finite.count)))
            #expect(row["saturated"] == (k == 0 ? 1 : 2))
        }
    }

    @Test func textTableLinesUpOneFramePerLine() throws {
        let result = try frames("7f3e9a0b", "--field", "det")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines[0].split(separator: " ") == ["index", "seq_num", "shape", "dtype", "min", "max", "mean", "sum", "saturated"])
        #expect(lines[4].split(separator: " ") == ["2", "3", "4x5", "uint16", "200", "65535", "10008.5", "200171", "3"])
    }

    @Test func fieldChoice() throws {
        let several = try frames(BrowseFixture.imagesUID)
        #expect(several.status == 1)
        #expect(several.stderr.contains("has several image fields (det, flt); choose one with --field"))

        let unknown = try frames(BrowseFixture.imagesUID, "--field", "ccd")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no image field \"ccd\" (its image fields: det, flt)"))

        let none = try frames(BrowseFixture.scanUID)
        #expect(none.status == 1)
        #expect(none.stderr.contains("has no image fields"))

        let formatAlone = try frames(BrowseFixture.imagesUID, "--field", "det", "--format", "png")
        #expect(formatAlone.status == 64)
        #expect(formatAlone.stderr.contains("--format applies only with --export"))

        let badFormat = try frames(BrowseFixture.imagesUID, "--field", "det", "--export", dir.file("x"), "--format", "jpeg")
        #expect(badFormat.status == 64)
    }

    @Test func badFilesAndUIDs() throws {
        let missing = try resonance("frames", dir.file("nope.db"), BrowseFixture.imagesUID)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nope.db: no such file"))
        try Data("SQLite format 2\0 but not really".utf8).write(to: URL(fileURLWithPath: dir.file("fake.db")))
        let fake = try resonance("frames", dir.file("fake.db"), BrowseFixture.imagesUID)
        #expect(fake.status == 1)
        #expect(fake.stderr.contains("fake.db: not an SQLite database"))
        let unknown = try frames("abcdefabcdef")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no run with uid \"abcdefabcdef\""))
        let ambiguous = try frames("0193ab12")
        #expect(ambiguous.status == 1)
        #expect(ambiguous.stderr.contains("matches several runs"))
    }

    @Test func exportNPYAndTIFFMatchZarrPython() throws {
        for field in ["det", "flt"] {
            for format in ["npy", "tiff"] {
                let out = dir.file("\(field)-\(format)")
                let result = try frames(BrowseFixture.imagesUID, "--field", field, "--export", out, "--format", format, "--json")
                #expect(result.status == 0, "\(result.stderr)")
                let paths = try JSONValue(parsing: result.stdout).arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
                #expect(paths == (0..<(field == "det" ? 3 : 2)).map { out + "/\(field)-000\($0).\(format)" })
            }
        }
        let report = try runPython(FrameChecks.python + """

            import sys, json, zarr
            root, uid = sys.argv[1], sys.argv[2]
            out = []
            for field, dtype, bits, fmt in [("det", "uint16", 16, 1), ("flt", "float32", 32, 3)]:
                stack = zarr.open_array(root + "/bt.zarr/runs/%s/%s" % (uid, field), mode="r")[:]
                for k in range(stack.shape[0]):
                    n = np.load(root + "/%s-npy/%s-%04d.npy" % (field, field, k))
                    assert n.dtype == np.dtype(dtype) and n.shape == stack.shape[1:], (n.dtype, n.shape)
                    assert np.array_equal(n, stack[k], equal_nan=True)
                    path = root + "/%s-tiff/%s-%04d.tiff" % (field, field, k)
                    plain = _tiff_plain(path)  # the tags themselves
                    assert plain.dtype == np.dtype(dtype) and np.array_equal(plain, stack[k], equal_nan=True)
                    t = read_tiff(path)  # Pillow when installed
                    assert t.shape == stack.shape[1:] and np.array_equal(t.astype(stack.dtype), stack[k], equal_nan=True)
                out.append(field)
            print(" ".join(out), HAVE_PIL)
            """, [dir.path, BrowseFixture.imagesUID])
        #expect(report.hasPrefix("det flt "))
    }

    @Test func exportPNGQuickLook() throws {
        let out = dir.file("png")
        let result = try frames(BrowseFixture.imagesUID, "--field", "det", "--export", out, "--format", "png")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(out + "/det-0000.png"))
        let report = try runPython(FrameChecks.python + """

            import sys
            mode, w, h, px = read_png(sys.argv[1])
            print(mode, w, h, px[0], px[7], px[19] > px[1] > px[0])
            """, [out + "/det-0000.png"])
        // Pixel 0 is the minimum (black), pixel 7 saturated (white), brighter with value.
        #expect(report == "L 5 4 0 255 True\n")
    }

    /// The Python writer's reference beamtime: frames agree with expected.json.
    @Test func pythonWrittenReferenceBeamtime() throws {
        let ref = try copyReferenceBeamtime(to: dir)
        let expected = try JSONValue(parsing: String(contentsOfFile: fixturesDir + "/reference-beamtime/expected.json", encoding: .utf8))
        let ccd = try #require(expected["runs"]?["rsoxs"]?["images"]?["ccd"])
        let result = try resonance("frames", ref, "24b99aa4e600", "--json")  // its only image field
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(try JSONValue(parsing: result.stdout).arrayValue)
        #expect(.array(rows.compactMap { $0["sum"] }) == ccd["frame_sums"])
        #expect(.array(rows.compactMap { $0["min"] }) == ccd["frame_min"])
        #expect(.array(rows.compactMap { $0["max"] }) == ccd["frame_max"])
        #expect(rows.map { $0["seq_num"] } == [1, 2, 3, 4, 5])
        #expect(rows.allSatisfy { $0["saturated"] == 1 && $0["dtype"] == "uint16" && $0["shape"] == [64, 64] })

        let show = try resonance("show", ref, "24b99aa4e600", "--json")
        let field = try #require(try JSONValue(parsing: show.stdout)["frame_fields"]?.arrayValue?.first)
        #expect(field["codec"] == "blosc")  // what image_refs says
        #expect(field["zarr_codecs"] == ["bytes", "zstd"])  // what the array uses
    }

    /// Every pixel type exports to .npy and .tiff files numpy reads back exactly.
    @Test func everyDTypeExports() throws {
        let path = dir.file("types.db")
        var uid = ""
        try RunWriter(dbPath: path, sample: SampleMetadata(name: "types")).open { w in
            uid = try w.openRun("types")
            try w.openStream("primary")
            let event = try w.writeEvent(["n": 1])
            func add<T: FrameElement>(_ values: [T]) throws {
                try w.writeFrame(eventUID: event, field: T.frameDType.rawValue, frame: Frame(rows: 3, columns: 4, pixels: values))
            }
            try add((0..<12).map { UInt8($0 * 21) })
            try add((0..<12).map { Int8($0 * 21 - 128) })
            try add((0..<12).map { UInt16($0 * 5000) })
            try add((0..<12).map { Int16($0 * 5000 - 30000) })
            try add((0..<12).map { UInt32($0) * 300_000_000 })
            try add((0..<12).map { Int32($0 - 6) * 300_000_000 })
            try add((0..<12).map { UInt64($0) << 60 })
            try add((0..<12).map { Int64($0 - 6) << 59 })
            try add((0..<12).map { Float($0) * 0.25 - 1 })
            try add((0..<12).map { Double($0) * 1e300 })
            try w.closeRun()
        }
        for dtype in FrameDType.allCases {
            for format in ["npy", "tiff"] {
                let result = try resonance("frames", path, uid, "--field", dtype.rawValue, "--export", dir.file(format), "--format", format)
                #expect(result.status == 0, "\(dtype) \(format): \(result.stderr)")
            }
        }
        let report = try runPython(FrameChecks.python + """

            import sys, zarr
            root, uid = sys.argv[1], sys.argv[2]
            bad = []
            for dtype in ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64"]:
                expected = zarr.open_array(root + "/types.zarr/runs/%s/%s" % (uid, dtype), mode="r")[0]
                n = np.load(root + "/npy/%s-0000.npy" % dtype)
                t = _tiff_plain(root + "/tiff/%s-0000.tiff" % dtype)
                for name, got in [("npy", n), ("tiff", t)]:
                    if got.dtype != np.dtype(dtype) or not np.array_equal(got, expected):
                        bad.append("%s %s %s" % (dtype, name, got.dtype))
            print(bad)
            """, [dir.path, uid])
        #expect(report == "[]\n")
    }
}
