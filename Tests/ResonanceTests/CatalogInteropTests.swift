import Foundation
import GRDB
@testable import Resonance
import Testing

/// A beamtime as the Python writer (`resonance` with sqlite3, json and zarr-python 3.1)
/// would leave it, with the quirks of writers other than ours: rollback-journal mode, uuid4
/// uids, seq_num continuing across streams, a run left open, ints / strings / bools / NaN
/// in events, fields missing from some events, an all-zero frame (no chunk file) and float
/// frames holding NaN.
let pythonWriterScript = #"""
import json, os, sqlite3, sys, time, uuid
import numpy as np
import zarr

db_path = sys.argv[1]
store = os.path.splitext(db_path)[0] + ".zarr"
con = sqlite3.connect(db_path)
con.execute("PRAGMA foreign_keys = ON")
con.executescript("""
CREATE TABLE IF NOT EXISTS samples (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, formula TEXT, serial TEXT,
    tags TEXT, beamline_pos TEXT, extra TEXT);
CREATE INDEX IF NOT EXISTS idx_samples_name ON samples(name);
CREATE TABLE IF NOT EXISTS runs (uid TEXT PRIMARY KEY, sample_id INTEGER REFERENCES samples(id) ON DELETE SET NULL,
    plan_name TEXT NOT NULL, time_start REAL NOT NULL, time_stop REAL, exit_status TEXT, num_events INTEGER DEFAULT 0,
    operator TEXT, metadata TEXT);
CREATE INDEX IF NOT EXISTS idx_runs_sample ON runs(sample_id);
CREATE INDEX IF NOT EXISTS idx_runs_plan ON runs(plan_name);
CREATE INDEX IF NOT EXISTS idx_runs_tstart ON runs(time_start);
CREATE TABLE IF NOT EXISTS streams (uid TEXT PRIMARY KEY, run_uid TEXT NOT NULL REFERENCES runs(uid) ON DELETE CASCADE,
    name TEXT NOT NULL, data_keys TEXT NOT NULL, time_created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS idx_streams_run ON streams(run_uid);
CREATE UNIQUE INDEX IF NOT EXISTS idx_streams_run_name ON streams(run_uid, name);
CREATE TABLE IF NOT EXISTS events (uid TEXT PRIMARY KEY, stream_uid TEXT NOT NULL REFERENCES streams(uid) ON DELETE CASCADE,
    seq_num INTEGER NOT NULL, time REAL NOT NULL, data TEXT NOT NULL, timestamps TEXT);
CREATE INDEX IF NOT EXISTS idx_events_stream ON events(stream_uid);
CREATE UNIQUE INDEX IF NOT EXISTS idx_events_seq ON events(stream_uid, seq_num);
CREATE TABLE IF NOT EXISTS image_refs (id INTEGER PRIMARY KEY AUTOINCREMENT, event_uid TEXT NOT NULL REFERENCES events(uid) ON DELETE CASCADE,
    field_name TEXT NOT NULL, zarr_group TEXT NOT NULL, index_in_stack INTEGER NOT NULL, shape_x INTEGER NOT NULL,
    shape_y INTEGER NOT NULL, dtype TEXT NOT NULL, compression_codec TEXT);
CREATE INDEX IF NOT EXISTS idx_image_refs_event ON image_refs(event_uid);
PRAGMA user_version = 2;
""")
root = zarr.open_group(store, mode="a")
cur = con.execute("INSERT INTO samples (name, formula, tags, extra) VALUES (?, ?, ?, ?)",
                  ("P3HT", "C10H14S", json.dumps(["polymer", "donor"]), json.dumps({"thickness_nm": 80.5})))
sample_id = cur.lastrowid
out = {}

def event(stream_uid, seq, data, t):
    uid = uuid.uuid4().hex
    con.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                (uid, stream_uid, seq, t, json.dumps(data), json.dumps({k: t for k in data})))
    return uid

# Run 1: closed; baseline + primary with seq_num continuing across streams; odd values.
run1 = uuid.uuid4().hex
t0 = 1.7e9
con.execute("INSERT INTO runs VALUES (?, ?, 'nexafs', ?, ?, 'success', ?, 'alice', ?)",
            (run1, sample_id, t0, t0 + 60, 8, json.dumps({"edge": "S L", "scan_id": 42, "nan_md": float("nan")})))
base = uuid.uuid4().hex
prim = uuid.uuid4().hex
con.execute("INSERT INTO streams VALUES (?, ?, 'baseline', ?, ?)", (base, run1, json.dumps({"ring_current": {"dtype": "number"}}), t0))
con.execute("INSERT INTO streams VALUES (?, ?, 'primary', ?, ?)", (prim, run1, json.dumps({"Energy": {"dtype": "number", "units": "eV"}}), t0 + 1))
seq = 1
event(base, seq, {"ring_current": 500.2}, t0); seq += 1
for i in range(6):
    data = {"Energy": 160.0 + i, "counts": i * 10, "shutter": "open" if i % 2 == 0 else "closed", "ok": i != 3}
    if i == 2:
        data["I0"] = float("nan")
    if i != 4:
        data["I0"] = data.get("I0", 1000.0 + i)
    event(prim, seq, data, t0 + 2 + i); seq += 1
event(base, seq, {"ring_current": 499.9}, t0 + 30)

# Run 2: left open (its writer died): no time_stop, no exit_status, num_events still 0; frames.
run2 = uuid.uuid4().hex
con.execute("INSERT INTO runs (uid, sample_id, plan_name, time_start, num_events, metadata) VALUES (?, ?, 'rsoxs', ?, 0, ?)",
            (run2, sample_id, t0 + 100, json.dumps({"detector": "ccd"})))
prim2 = uuid.uuid4().hex
con.execute("INSERT INTO streams VALUES (?, ?, 'primary', ?, ?)", (prim2, run2, json.dumps({"ccd": {"dtype": "array", "shape": [6, 5]}}), t0 + 100))
frames = np.zeros((4, 6, 5), dtype=np.uint16)
for k in range(4):
    if k != 2:  # frame 2 stays all zero: zarr-python writes no chunk for it
        frames[k] = (np.arange(30, dtype=np.uint16).reshape(6, 5) * (k + 1)) + k
hot = np.full((3, 6, 5), 1.5, dtype=np.float32)
hot[1, 2, 3] = np.nan
ccd = root.create_array(f"runs/{run2}/ccd", shape=frames.shape, chunks=(1, 6, 5), dtype="uint16", fill_value=0)
ccd[:] = frames
diff = root.create_array(f"runs/{run2}/diff", shape=hot.shape, chunks=(1, 6, 5), dtype="float32", fill_value=0)
diff[:] = hot
for k in range(4):
    ev = event(prim2, k + 1, {"Energy": 270.0 + k, "exposure": 1}, t0 + 101 + k)
    con.execute("INSERT INTO image_refs (event_uid, field_name, zarr_group, index_in_stack, shape_x, shape_y, dtype, compression_codec) VALUES (?, 'ccd', ?, ?, 6, 5, 'uint16', 'zstd')",
                (ev, f"runs/{run2}/ccd", k))
    if k < 3:
        con.execute("INSERT INTO image_refs (event_uid, field_name, zarr_group, index_in_stack, shape_x, shape_y, dtype, compression_codec) VALUES (?, 'diff', ?, ?, 6, 5, 'float32', 'zstd')",
                    (ev, f"runs/{run2}/diff", k))
con.commit()
con.close()
out["run1"] = run1
out["run2"] = run2
out["ccd_sums"] = [int(frames[k].sum()) for k in range(4)]
out["chunk2_exists"] = os.path.exists(f"{store}/runs/{run2}/ccd/c/2/0/0")
print(json.dumps(out))
"""#

@Suite("Catalog interop with Python")
struct CatalogInteropTests {
    let dir = TempDir()
    var db: String { dir.file("python_beamtime.db") }

    @Test func readsABeamtimeThePythonWriterWrote() throws {
        let out = try JSONValue(parsing: runPython(pythonWriterScript, [db]))
        let run1 = try #require(out["run1"]?.stringValue)
        let run2 = try #require(out["run2"]?.stringValue)
        #expect(out["chunk2_exists"] == false)

        let catalog = try Catalog(dbPath: db)
        defer { try? catalog.close() }
        #expect(try catalog.recent().map(\.uid) == [run2, run1])
        #expect(try catalog.bySample("P3HT").count == 2)
        let sample = try #require(try catalog.samples().first)
        #expect(sample.tags == ["polymer", "donor"])
        #expect(sample.extra["thickness_nm"] == .double(80.5))

        let r1 = try catalog.run(String(run1.prefix(8)))
        #expect(r1.uid == run1)
        #expect(r1.exitStatus == .success)
        #expect(r1.operator == "alice")
        #expect(r1.numEvents == 8)
        #expect(r1.metadata["scan_id"] == .int(42))
        #expect(r1.metadata["nan_md"]?.doubleValue?.isNaN == true)
        #expect(r1.streamNames == ["baseline", "primary"])
        #expect(r1.stream("primary")?.dataKeys["Energy"]?["units"] == "eV")
        let t = try r1.table()
        #expect(t.columnNames == ["seq_num", "time", "Energy", "counts", "shutter", "ok", "I0"])
        #expect(t.seqNums == [2, 3, 4, 5, 6, 7])
        #expect(try t.doubles("Energy") == [160, 161, 162, 163, 164, 165])
        #expect(try t.int64s("counts") == [0, 10, 20, 30, 40, 50])
        #expect(try t.strings("shutter") == ["open", "closed", "open", "closed", "open", "closed"])
        #expect(try t.bools("ok") == [true, true, true, false, true, true])
        let i0 = try t.doubles("I0")
        #expect(i0[0] == 1000 && i0[1] == 1001 && i0[3] == 1003 && i0[5] == 1005)
        #expect(i0[2]?.isNaN == true)
        #expect(i0[4] == nil)
        #expect(try r1.table(stream: "baseline").seqNums == [1, 8])

        let r2 = try catalog.run(run2)
        #expect(r2.isOpen)
        #expect(r2.exitStatus == nil)
        #expect(r2.numEvents == 4)  // counted: the dead writer never recorded it
        #expect(r2.frameFields.map(\.name) == ["ccd", "diff"])
        let ccd = try #require(r2.frameField("ccd"))
        #expect(ccd.frameCount == 4 && ccd.rows == 6 && ccd.columns == 5 && ccd.dtype == "uint16" && ccd.codec == "zstd")
        #expect(ccd.zarrGroup == "runs/\(run2)/ccd")
        #expect(r2.frameField("diff")?.frameCount == 3)
        #expect(r2.frameField("diff")?.dtype == "float32")
        #expect(try r2.table().int64s("exposure") == [1, 1, 1, 1])

        // Frames: frame 2 was all zero, so zarr-python stored no chunk for it.
        let frames = try r2.frames(field: "ccd")
        #expect(frames.shape == [4, 6, 5])
        let stack = try frames.frames(0..<4, as: UInt16.self)
        let sums = (0..<4).map { JSONValue.int(Int64(stack[$0].reduce(0) { $0 + Int($1) })) }
        #expect(JSONValue.array(sums) == out["ccd_sums"])
        #expect(stack[2].allSatisfy { $0 == 0 })
        #expect(try frames.frame(1, as: UInt16.self)[2, 3] == UInt16(13 * 2 + 1))
        let diff = try r2.frames(field: "diff").frames(0..<3, as: Float.self)
        #expect(diff[1][diff[1].startIndex + 2 * 5 + 3].isNaN)
        #expect(diff.pixels.filter(\.isNaN).count == 1)
        #expect(diff[0].allSatisfy { $0 == 1.5 })
    }

    @Test func pythonReadsWhatRunWriterWrote() throws {
        let path = dir.file("swift_beamtime.db")
        let writer = RunWriter(dbPath: path, sample: SampleMetadata(name: "PS", formula: "C8H8", tags: ["polymer"], extra: ["note": "π"]))
        var uid = ""
        try writer.open { w in
            uid = try w.openRun("nexafs", metadata: ["edge": "C K", "count": 3, "nan": .double(.nan)], operator: "bob")
            try w.openStream("primary", dataKeys: ["Energy": ["dtype": "number", "units": "eV"]])
            for i in 0..<5 {
                var data: JSONObject = ["Energy": .double(270 + 0.5 * Double(i)), "I0": .int(Int64(1000 + i)),
                                        "shutter": .string(i % 2 == 0 ? "open" : "closed"), "ok": .bool(i != 1)]
                if i == 3 { data["I0"] = .double(.nan) }
                if i == 4 { data["sample_current"] = .double(-.infinity) }
                let event = try w.writeEvent(data, timestamps: ["Energy": 1.7e9 + Double(i)])
                // uint16 frames, frame 1 all zero; float32 frames with a NaN.
                let pixels = (0..<12).map { i == 1 ? 0 : UInt16(100 * i + $0) }
                try w.writeFrame(eventUID: event, field: "ccd", frame: Frame(rows: 3, columns: 4, pixels: pixels))
                let floats = (0..<12).map { $0 == i ? Float.nan : Float($0) * 0.5 }
                try w.writeFrame(eventUID: event, field: "diff", frame: Frame(rows: 3, columns: 4, pixels: floats))
            }
        }
        let out = try runPython(#"""
            import json, math, sqlite3, sys
            con = sqlite3.connect(sys.argv[1])
            assert con.execute("PRAGMA user_version").fetchone()[0] == 2
            run = con.execute("SELECT uid, plan_name, exit_status, num_events, operator, metadata, time_stop FROM runs").fetchone()
            md = json.loads(run[5])
            assert md["edge"] == "C K" and md["count"] == 3 and isinstance(md["count"], int) and math.isnan(md["nan"]), md
            tags, extra = con.execute("SELECT tags, extra FROM samples").fetchone()
            assert json.loads(tags) == ["polymer"] and json.loads(extra) == {"note": "π"}, (tags, extra)
            rows = con.execute("SELECT e.seq_num, e.data, e.timestamps FROM events e JOIN streams s ON s.uid = e.stream_uid "
                               "WHERE s.run_uid = ? AND s.name = 'primary' ORDER BY e.seq_num", (run[0],)).fetchall()
            data = [json.loads(r[1]) for r in rows]
            assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
            assert [d["Energy"] for d in data] == [270.0, 270.5, 271.0, 271.5, 272.0]
            assert all(isinstance(d["Energy"], float) for d in data)
            assert [type(d["I0"]).__name__ for d in data] == ["int", "int", "int", "float", "int"]
            assert math.isnan(data[3]["I0"]) and data[4]["I0"] == 1004
            assert data[4]["sample_current"] == -math.inf and "sample_current" not in data[0]
            assert [d["ok"] for d in data] == [True, False, True, True, True]
            assert json.loads(rows[2][2]) == {"Energy": 1.7e9 + 2}
            # Frames, located through image_refs, read with zarr-python.
            import os, numpy as np, zarr
            store = os.path.splitext(sys.argv[1])[0] + ".zarr"
            refs = con.execute("SELECT field_name, zarr_group, index_in_stack, shape_x, shape_y, dtype FROM image_refs ORDER BY id").fetchall()
            assert len(refs) == 10, refs
            root = zarr.open_group(store, mode="r")
            for field, group, k, sx, sy, dtype in refs:
                a = root[group]
                assert a.shape[1:] == (sx, sy) and str(a.dtype) == dtype, (a.shape, a.dtype)
                frame = a[k]
                if field == "ccd":
                    want = np.zeros(12, np.uint16) if k == 1 else np.arange(12, dtype=np.uint16) + 100 * k
                    assert (frame.ravel() == want).all(), (k, frame)
                else:
                    assert np.isnan(frame.ravel()[k]) and np.isnan(frame).sum() == 1, frame
            assert not os.path.exists(f"{store}/{refs[2][1]}/c/1/0/0")  # the all-zero ccd frame
            print(json.dumps({"uid": run[0], "plan": run[1], "status": run[2], "n": run[3], "op": run[4], "stopped": run[6] is not None}))
            """#, [path])
        let result = try JSONValue(parsing: out)
        #expect(result == ["uid": .string(uid), "plan": "nexafs", "status": "success", "n": 5, "op": "bob", "stopped": true])
        // And the catalog reads the same file the same way.
        let table = try Catalog(dbPath: path).run(uid).table()
        #expect(table.column("I0")?.kind == .double)
        #expect(try table.doubles("sample_current")[4] == -.infinity)
        #expect(try Catalog(dbPath: path).run(uid).frames(field: "ccd").frame(-1, as: UInt16.self).pixels == (0..<12).map { UInt16(400 + $0) })
    }
}
