import Foundation
import JSONValue
import Testing

/// `resonance demo`, then the browsing commands: what they report agrees with what was
/// written, checked independently with pandas, numpy and zarr-python.
@Suite("resonance demo, end to end")
struct DemoCommandTests {
    let dir = TempDir()

    @Test func demoThenRunsTableAndFramesAgree() throws {
        let demo = try resonance("demo", "--out", dir.path, "--label", "bt", "--points", "30", "--frames", "4", "--size", "64")
        #expect(demo.status == 0, "\(demo.stderr)")
        let db = dir.file("bt.db")

        let runs = try #require(try JSONValue(parsing: try resonance("runs", db, "--json").stdout).arrayValue)
        #expect(runs.count == 2)
        #expect(runs.map { $0["plan_name"] } == ["rsoxs_scan", "nexafs"])  // newest first
        #expect(runs.map { $0["num_events"] } == [4, 32])  // 30 primary + 2 baseline
        #expect(runs.allSatisfy { $0["exit_status"] == "success" && $0["sample_name"] == "PS-b-PMMA" })
        let rsoxs = try #require(runs[0]["uid"]?.stringValue)
        let nexafs = try #require(runs[1]["uid"]?.stringValue)

        let csv = dir.file("nexafs.csv")
        #expect(try resonance("table", db, nexafs, "--output", csv).status == 0)
        let table = try runPython("""
            import sys
            import numpy as np, pandas as pd
            df = pd.read_csv(sys.argv[1])
            assert list(df.columns) == ["seq_num", "time", "energy", "i0", "sample_current", "normalized"], list(df.columns)
            assert df["seq_num"].tolist() == list(range(1, 31))
            assert np.allclose(df["energy"], np.linspace(270, 320, 30), rtol=0, atol=1e-9)
            assert df["energy"].iloc[0] == 270.0 and df["energy"].iloc[-1] == 320.0
            assert df.notna().all().all()
            print(len(df))
            """, [csv])
        #expect(table == "30\n")

        let frames = try resonance("frames", db, rsoxs, "--json", "--export", dir.file("npy"))
        #expect(frames.status == 0, "\(frames.stderr)")
        let check = try runPython("""
            import sys, json
            import numpy as np, zarr
            root, uid, report = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
            import sqlite3
            # The beamline's conventions: the camera is detector_image, described as its scan code does.
            c = sqlite3.connect("file:" + root + "/bt.db?mode=ro", uri=True)
            assert {r[0] for r in c.execute("SELECT field_name FROM image_refs")} == {"detector_image"}
            keys = json.loads(c.execute("SELECT data_keys FROM streams WHERE run_uid = ? AND name = 'primary'", (uid,)).fetchone()[0])
            assert keys["detector_image"] == {"dtype": "array", "shape": [64, 64], "source": "detector", "external": True}, keys
            stack = zarr.open_array(root + "/bt.zarr/runs/%s/detector_image" % uid, mode="r")[:]
            assert stack.shape == (4, 64, 64) and stack.dtype == np.int32, (stack.shape, stack.dtype)
            assert [r["index"] for r in report] == [0, 1, 2, 3]
            assert [r["seq_num"] for r in report] == [1, 2, 3, 4]
            for r, frame in zip(report, stack):
                assert r["shape"] == [64, 64] and r["dtype"] == "int32"
                assert r["sum"] == int(frame.sum(dtype=np.int64)), (r["sum"], int(frame.sum()))
                assert r["min"] == int(frame.min()) and r["max"] == int(frame.max())
                assert abs(r["mean"] - float(frame.mean())) < 1e-9
                assert r["saturated"] == int((frame == np.iinfo(np.int32).max).sum())
                assert np.array_equal(np.load(r["path"]), frame)
            print("ok")
            """, [dir.path, rsoxs, frames.stdout])
        #expect(check == "ok\n")
    }
}
