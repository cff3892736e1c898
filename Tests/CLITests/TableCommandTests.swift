import Foundation
import JSONValue
import Testing

@Suite("resonance table")
struct TableCommandTests {
    let dir = TempDir()
    var db: String { dir.file("bt.db") }

    init() throws { try BrowseFixture.write(to: dir.file("bt.db")) }

    @Test func csvTextIsExact() throws {
        let result = try resonance("table", db, BrowseFixture.scanUID)
        #expect(result.status == 0, "\(result.stderr)")
        let t = BrowseFixture.times.map { JSONValue.double($0).jsonText }
        let expected = [
            "seq_num,time,energy,signal,count,label,flag",
            "1,\(t[0]),270.0,1.5,1,plain,True",
            "2,\(t[1]),271.0,NaN,2,\"a,b\",False",
            "3,\(t[2]),272.0,inf,3,\"say \"\"hi\"\"\",True",
            "4,\(t[3]),273.0,-inf,4,\"two\nlines\",",
            "5,\(t[4]),274.0,0.30000000000000004,5,\"\",False",
            "6,\(t[5]),275.0,1e-300,6,,True",
        ]
        #expect(result.stdout == expected.joined(separator: "\n") + "\n")
    }

    @Test func pandasReadsTheCSVBackWithTheRightDtypesAndNaN() throws {
        let csv = dir.file("scan.csv")
        let result = try resonance("table", db, BrowseFixture.scanUID, "--output", csv)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == csv + "\n")
        let out = try runPython("""
            import sys, math, json
            import pandas as pd
            df = pd.read_csv(sys.argv[1])
            times = json.loads(sys.argv[2])
            assert list(df.columns) == ["seq_num", "time", "energy", "signal", "count", "label", "flag"], list(df.columns)
            assert str(df["seq_num"].dtype) == "int64" and str(df["count"].dtype) == "int64"
            assert str(df["time"].dtype) == "float64" and str(df["energy"].dtype) == "float64"
            assert str(df["signal"].dtype) == "float64", df["signal"].dtype
            s = df["signal"].tolist()
            assert s[0] == 1.5 and math.isnan(s[1]) and s[2] == math.inf and s[3] == -math.inf, s
            assert s[4] == 0.1 + 0.2 and s[5] == 1e-300, s
            assert df["time"].tolist() == times, (df["time"].tolist(), times)
            labels = df["label"].tolist()
            assert labels[:4] == ["plain", "a,b", 'say "hi"', "two\\nlines"], labels
            assert all(isinstance(v, float) and math.isnan(v) for v in labels[4:]), labels  # pandas: "" and missing are NaN
            flags = df["flag"].tolist()
            assert flags[:3] == [True, False, True] and flags[4:] == [False, True] and math.isnan(flags[3]), flags
            print("ok")
            """, [csv, JSONValue.array(BrowseFixture.times.map(JSONValue.double)).jsonText])
        #expect(out == "ok\n")
    }

    @Test func pythonCSVModuleSeesTheQuotedStrings() throws {
        let csv = dir.file("scan.csv")
        #expect(try resonance("table", db, BrowseFixture.scanUID, "--output", csv).status == 0)
        let out = try runPython("""
            import csv, sys, json
            rows = list(csv.reader(open(sys.argv[1], newline="")))
            print(json.dumps([r[5] for r in rows[1:]]))
            """, [csv])
        #expect(try JSONValue(parsing: out) == ["plain", "a,b", "say \"hi\"", "two\nlines", "", ""])
    }

    @Test func jsonIsAnArrayOfRowObjects() throws {
        let result = try resonance("table", db, BrowseFixture.scanUID, "--format", "json")
        #expect(result.status == 0, "\(result.stderr)")
        let out = try runPython("""
            import json, sys, math
            rows = json.loads(sys.argv[1])
            assert len(rows) == 6
            assert list(rows[0].keys()) == ["seq_num", "time", "energy", "signal", "count", "label", "flag"]
            assert math.isnan(rows[1]["signal"]) and rows[2]["signal"] == math.inf and rows[3]["signal"] == -math.inf
            assert rows[3]["flag"] is None and rows[5]["label"] is None and rows[4]["label"] == ""
            assert rows[0]["count"] == 1 and isinstance(rows[0]["count"], int) and rows[0]["energy"] == 270.0
            print("ok")
            """, [result.stdout])
        #expect(out == "ok\n")
    }

    @Test func otherStreamAndEmptyRun() throws {
        let baseline = try resonance("table", db, BrowseFixture.scanUID, "--stream", "baseline")
        #expect(baseline.status == 0, "\(baseline.stderr)")
        let lines = baseline.stdout.split(separator: "\n")
        #expect(lines.first == "seq_num,time,ring_current")
        #expect(lines.dropFirst().map { $0.split(separator: ",").last } == ["500.25", "499.75"])
        let json = try resonance("table", db, BrowseFixture.scanUID, "--stream", "baseline", "--format", "json")
        #expect(try JSONValue(parsing: json.stdout).arrayValue?.map { $0["ring_current"] } == [500.25, 499.75])
    }

    /// The Python writer's reference beamtime: the NaN it wrote reads back through pandas.
    @Test func pythonWrittenReferenceBeamtime() throws {
        let ref = try copyReferenceBeamtime(to: dir)
        let csv = dir.file("ref.csv")
        let result = try resonance("table", ref, "79c8c2926b9445b5b49882321e35049e", "--output", csv)
        #expect(result.status == 0, "\(result.stderr)")
        let out = try runPython("""
            import sys, json, math
            import pandas as pd
            spec = json.load(open(sys.argv[2]))["runs"]["nexafs"]
            df = pd.read_csv(sys.argv[1])
            assert list(df.columns) == spec["columns"], list(df.columns)
            assert len(df) == spec["num_events"]
            assert int(df["seq_num"].sum()) == spec["sums"]["seq_num"]
            assert df["Energy"].sum() == spec["sums"]["Energy"] and df["I0"].sum() == spec["sums"]["I0"]
            assert df["sample_current"].sum() == spec["sums"]["sample_current_nansum"]  # pandas skips NaN
            nan = df[df["sample_current"].isna()]["seq_num"].tolist()
            assert nan == [spec["nan_seq_num"]], nan
            print("ok")
            """, [csv, fixturesDir + "/reference-beamtime/expected.json"])
        #expect(out == "ok\n")
    }

    /// Columnar JSON is written batch by batch through temporary files: whatever the batch
    /// size, it holds the same values as the rows of the JSON export, column by column.
    @Test(arguments: [1, 2, 5, 65_536])
    func columnsAcrossBatchesMatchTheRows(batchRows: Int) throws {
        let ref = try copyReferenceBeamtime(to: dir)
        let uid = "79c8c2926b9445b5b49882321e35049e"
        let rows = try resonance("table", ref, uid, "--format", "json")
        // Its own temporary folder, to see that the column files are removed.
        let tmp = dir.file("tmp-\(batchRows)")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: false)
        let columns = try runCommand("/usr/bin/env", ["TMPDIR=\(tmp)", builtExecutable("resonance"),
                                                      "table", ref, uid, "--format", "columns", "--batch-rows", "\(batchRows)"])
        #expect(rows.status == 0 && columns.status == 0, "\(rows.stderr)\(columns.stderr)")
        let objects = try #require(try JSONValue(parsing: rows.stdout).arrayValue)
        let table = try #require(try JSONValue(parsing: columns.stdout).objectValue)
        #expect(objects.count > 5)
        #expect(table.keys.map { $0 } == objects[0].objectValue!.keys.map { $0 })
        for (name, values) in table {
            #expect(values.arrayValue?.map(\.jsonText) == objects.map { ($0[name] ?? .null).jsonText }, "\(name)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp) == [])
    }

    @Test func errorsNameTheValue() throws {
        let stream = try resonance("table", db, BrowseFixture.scanUID, "--stream", "dark")
        #expect(stream.status == 1)
        #expect(stream.stderr.contains("no stream \"dark\" (its streams: primary, baseline)"))

        let format = try resonance("table", db, BrowseFixture.scanUID, "--format", "xlsx")
        #expect(format.status == 64)
        #expect(format.stderr.contains("xlsx"))

        let unknown = try resonance("table", db, "0123456789abcdef")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no run with uid \"0123456789abcdef\""))

        let ambiguous = try resonance("table", db, "0193ab12cd")
        #expect(ambiguous.status == 1)
        #expect(ambiguous.stderr.contains("matches several runs"))

        let missing = try resonance("table", dir.file("nope.db"), "0123456789")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nope.db: no such file"))

        let folder = try resonance("table", db, BrowseFixture.scanUID, "--output", dir.file("no/such/folder.csv"))
        #expect(folder.status == 1)
        #expect(folder.stderr.contains("no/such/folder.csv: cannot create the file"))
    }
}
