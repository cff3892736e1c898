"""Checks of `resonance ingest` / `resonance export --documents` against the documents
themselves, with Python's json, sqlite3, numpy, zarr and event_model.

    python3 bluesky_checks.py ingested DOCS.jsonl BEAMTIME.db
        every document's values are in the beamtime: runs, streams, events (uid, seq_num,
        time, data, timestamps), frames (from event arrays, NPY_SEQ and AD_TIFF files),
        stops; prints "ok runs=... events=... frames=..."
    python3 bluesky_checks.py exported EXPORT.jsonl ORIGINAL.jsonl
        every exported document validates against event-model's schemas, and gives back
        the original start, descriptors (but frame keys), events and stop
    python3 bluesky_checks.py valid EXPORT.jsonl
        every document validates against event-model's schemas
    python3 bluesky_checks.py same BEAMTIME_A.db BEAMTIME_B.db
        every run of B is in A with the same columns, streams, events and frames

Exits non-zero with the first difference.
"""
import json
import math
import os
import sqlite3
import sys

import numpy as np


def same(a, b):
    """Equal as JSON values: NaN equals NaN, an int is not a float, key order ignored."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def expect(condition, message):
    if not condition:
        raise SystemExit("MISMATCH: " + message)


def read_docs(path):
    with open(path) as f:
        return [tuple(json.loads(line)) for line in f if line.strip()]


def hex32(uid):
    return uid.replace("-", "").lower()


def events_of(docs):
    """(descriptor uid, event doc) for every event, event_pages unpacked."""
    from event_model import unpack_event_page
    out = []
    for name, doc in docs:
        if name == "event":
            out.append(doc)
        elif name == "event_page":
            out.extend(unpack_event_page(doc))
    return out


def datums_of(docs):
    from event_model import unpack_datum_page
    out = {}
    for name, doc in docs:
        if name == "datum":
            out[doc["datum_id"]] = doc
        elif name == "datum_page":
            for d in unpack_datum_page(doc):
                out[d["datum_id"]] = d
    return out


def read_external(resource, datum):
    base = os.path.join(resource["root"], resource["resource_path"])
    if resource["spec"] == "NPY_SEQ":
        return np.load("{}_{}.npy".format(base, datum["datum_kwargs"]["index"]))
    if resource["spec"] == "AD_TIFF":
        import tifffile
        kw = resource["resource_kwargs"]
        return tifffile.imread(kw["template"] % (os.path.join(base, ""), kw["filename"], datum["datum_kwargs"]["point_number"]))
    raise SystemExit("unexpected spec " + resource["spec"])


class Beamtime:
    def __init__(self, db):
        self.db = db
        self.con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        self.zarr_path = os.path.splitext(db)[0] + ".zarr"
        self._arrays = {}

    def rows(self, sql, *args):
        return self.con.execute(sql, args).fetchall()

    def frame(self, group, index):
        import zarr
        if group not in self._arrays:
            self._arrays[group] = zarr.open_array(self.zarr_path + "/" + group, mode="r")
        return self._arrays[group][index]

    def frames_of(self, event_uid, field):
        return [self.frame(g, i) for g, i in self.rows(
            "SELECT zarr_group, index_in_stack FROM image_refs WHERE event_uid = ? AND field_name = ? ORDER BY id", event_uid, field)]


def check_ingested(docs_path, db_path):
    docs = read_docs(docs_path)
    bt = Beamtime(db_path)
    datums = datums_of(docs)
    resources = {d["uid"]: d for n, d in docs if n == "resource"}
    descriptors = {d["uid"]: d for n, d in docs if n == "descriptor"}
    counts = {"runs": 0, "events": 0, "frames": 0}
    for name, doc in docs:
        if name == "start":
            uid = hex32(doc["uid"])
            rows = bt.rows("SELECT plan_name, time_start, metadata, sample_id FROM runs WHERE uid = ?", uid)
            expect(len(rows) == 1, f"run {uid} not recorded once")
            plan, t, md, sample_id = rows[0]
            expect(plan == doc.get("plan_name", "unknown"), f"plan_name {plan}")
            expect(t == doc["time"], f"time_start {t} != {doc['time']}")
            expected_md = {k: v for k, v in doc.items() if k != "plan_name"}
            expect(same(json.loads(md), expected_md), f"metadata of {uid}: {md} != {expected_md}")
            stored = bt.rows("SELECT doc FROM bluesky_documents WHERE uid = ? AND kind = 'start'", doc["uid"])
            expect(len(stored) == 1 and same(json.loads(stored[0][0]), doc), f"start {uid} not kept verbatim")
            sample = doc.get("sample")
            want = sample["name"] if isinstance(sample, dict) else sample or doc.get("sample_name")
            if want:
                got = bt.rows("SELECT name FROM samples WHERE id = ?", sample_id)[0][0]
                expect(got == want, f"sample {got} != {want}")
            counts["runs"] += 1
        elif name == "descriptor":
            run = hex32(doc["run_start"])
            streams = bt.rows("SELECT name FROM streams WHERE run_uid = ? AND name = ?", run, doc.get("name", "primary"))
            expect(len(streams) == 1, f"stream {doc.get('name')} of {run}")
            stored = bt.rows("SELECT doc FROM bluesky_documents WHERE uid = ?", doc["uid"])
            expect(len(stored) == 1 and same(json.loads(stored[0][0]), doc), f"descriptor {doc['uid']} not kept verbatim")
        elif name == "stop":
            run = hex32(doc["run_start"])
            status, t = bt.rows("SELECT exit_status, time_stop FROM runs WHERE uid = ?", run)[0]
            expect(status == {"success": "success", "abort": "aborted", "fail": "failed"}[doc["exit_status"]], f"exit_status {status}")
            expect(t == doc["time"], f"time_stop {t} != {doc['time']}")
            stored = bt.rows("SELECT doc FROM bluesky_documents WHERE uid = ?", doc["uid"])
            expect(len(stored) == 1 and json.loads(stored[0][0]).get("reason") == doc.get("reason"), "stop reason not kept")
    for ev in events_of(docs):
        desc = descriptors[ev["descriptor"]]
        uid = hex32(ev["uid"])
        rows = bt.rows("""SELECT e.seq_num, e.time, e.data, e.timestamps, s.name, s.data_keys FROM events e
                          JOIN streams s ON s.uid = e.stream_uid WHERE e.uid = ?""", uid)
        expect(len(rows) == 1, f"event {uid} recorded {len(rows)} times")
        seq, t, data, ts, stream, stream_keys = rows[0]
        expect(seq == ev["seq_num"] and t == ev["time"] and stream == desc.get("name", "primary"), f"event {uid} seq/time/stream")
        expect(same(json.loads(ts), ev["timestamps"]), f"timestamps of {uid}")
        data = json.loads(data)
        keys = desc["data_keys"]
        for field, value in ev["data"].items():
            key = keys[field]
            if key.get("external"):
                resource = resources[datums[value]["resource"]]
                frames = bt.frames_of(uid, field)
                expect(field not in data and len(frames) == 1, f"{field} of {uid}: frames {len(frames)}")
                want = read_external(resource, datums[value])
                expect(frames[0].dtype == want.dtype and np.array_equal(frames[0], want), f"frame {field} of {uid}")
                counts["frames"] += 1
            elif len(key.get("shape", [])) == 2:
                frames = bt.frames_of(uid, field)
                expect(field not in data and len(frames) == 1, f"{field} of {uid}: frames {len(frames)}")
                expect(np.array_equal(frames[0], np.array(value)), f"frame {field} of {uid}")
                counts["frames"] += 1
            elif key.get("shape") or key.get("dtype") == "array":
                expect(json.loads(stream_keys)[field].get("resonance_encoding") == "json", f"{field} not marked json")
                expect(same(json.loads(data[field]), value), f"array {field} of {uid}: {data[field]} != {value}")
            else:
                expect(same(data[field], value), f"{field} of {uid}: {data.get(field)!r} != {value!r}")
        expect(set(data) <= set(ev["data"]), f"extra fields in {uid}")
        counts["events"] += 1
    n_events = bt.rows("SELECT COUNT(*) FROM events")[0][0]
    expect(n_events == counts["events"], f"{n_events} events in the beamtime, {counts['events']} in the documents")
    n_frames = bt.rows("SELECT COUNT(*) FROM image_refs")[0][0]
    expect(n_frames == counts["frames"], f"{n_frames} frames in the beamtime, {counts['frames']} in the documents")
    print("ok " + " ".join(f"{k}={v}" for k, v in counts.items()))


def check_exported(export_path, original_path):
    from event_model import schema_validators, DocumentNames
    exported = read_docs(export_path)
    original = read_docs(original_path)
    for name, doc in exported:
        schema_validators[DocumentNames[name]].validate(doc)
    names = [n for n, _ in exported]
    expect(names[0] == "start", "first is not start")
    start = exported[0][1]
    orig_start = [d for n, d in original if n == "start" and d["uid"] == start["uid"]]
    expect(len(orig_start) == 1 and same(orig_start[0], start), "start differs")
    run_docs = []
    inside = False
    for n, d in original:
        if n == "start":
            inside = d["uid"] == start["uid"]
        if inside:
            run_docs.append((n, d))
        if n == "stop" and inside:
            break
    orig_desc = {d["uid"]: d for n, d in run_docs if n == "descriptor"}
    frame_fields = {d["data_key"] for n, d in exported if n == "stream_resource"}
    for n, d in exported:
        if n == "descriptor":
            o = orig_desc[d["uid"]]
            expect(same({k: v for k, v in d.items() if k != "data_keys"}, {k: v for k, v in o.items() if k != "data_keys"}), "descriptor differs")
            for field, key in d["data_keys"].items():
                if field in frame_fields:
                    expect(key["external"] == "STREAM:" and key["shape"] == o["data_keys"][field]["shape"], f"frame key {field}")
                else:
                    expect(same(key, o["data_keys"][field]), f"data key {field}")
    got = {e["uid"]: e for e in events_of(exported)}
    want = events_of(run_docs)
    expect(len(got) == len(want), f"{len(got)} events exported, {len(want)} recorded")
    for e in want:
        g = got[e["uid"]]
        expect(g["seq_num"] == e["seq_num"] and g["time"] == e["time"] and g["descriptor"] == e["descriptor"], f"event {e['uid']}")
        expect(same(g["timestamps"], e["timestamps"]), f"timestamps of {e['uid']}")
        expect(same(g["data"], {k: v for k, v in e["data"].items() if k not in frame_fields}), f"data of {e['uid']}")
    datum_seqs = sorted(s for n, d in exported if n == "stream_datum"
                        for s in range(d["seq_nums"]["start"], d["seq_nums"]["stop"]))
    frames_wanted = sorted(e["seq_num"] for e in want for f in frame_fields if f in e["data"])
    expect(datum_seqs == frames_wanted, f"stream_datums cover seq_nums {datum_seqs}, frames are at {frames_wanted}")
    orig_stop = [d for n, d in run_docs if n == "stop"]
    if orig_stop:
        expect(names[-1] == "stop" and same(exported[-1][1], orig_stop[0]), "stop differs")
    print(f"ok documents={len(exported)} events={len(got)}")


def check_valid(export_path):
    from event_model import schema_validators, DocumentNames
    docs = read_docs(export_path)
    for name, doc in docs:
        schema_validators[DocumentNames[name]].validate(doc)
    expect(docs[0][0] == "start" and docs[-1][0] == "stop", "not start ... stop")
    print(f"ok documents={len(docs)}")


def check_same(a_path, b_path):
    a, b = Beamtime(a_path), Beamtime(b_path)
    runs = b.rows("SELECT uid, plan_name, time_start, time_stop, exit_status, num_events, metadata FROM runs ORDER BY uid")
    expect(runs, "no runs in B")
    for run in runs:
        other = a.rows("SELECT uid, plan_name, time_start, time_stop, exit_status, num_events, metadata FROM runs WHERE uid = ?", run[0])
        # Metadata: B keeps every key of A (a run that did not come from Bluesky gains the
        # start document's uid, time and sample on the way through export).
        expect(len(other) == 1 and other[0][:6] == run[:6], f"run {run[0]}: {other} != {run}")
        ma, mb = json.loads(other[0][6]), json.loads(run[6])
        expect(all(k in mb and same(v, mb[k]) for k, v in ma.items()), f"metadata of {run[0]}: {ma} not in {mb}")
        q = """SELECT s.name, e.uid, e.seq_num, e.time, e.data, e.timestamps FROM events e JOIN streams s ON s.uid = e.stream_uid
               WHERE s.run_uid = ? ORDER BY s.name, e.seq_num"""
        ea, eb = a.rows(q, run[0]), b.rows(q, run[0])
        expect(len(ea) == len(eb), f"run {run[0]}: {len(ea)} != {len(eb)} events")
        for x, y in zip(ea, eb):
            expect(x[:4] == y[:4] and same(json.loads(x[4]), json.loads(y[4])) and same(json.loads(x[5]), json.loads(y[5])), f"event {x} != {y}")
            q2 = "SELECT field_name FROM image_refs WHERE event_uid = ? ORDER BY id"
            fa, fb = a.rows(q2, x[1]), b.rows(q2, y[1])
            expect(fa == fb, f"frame fields of {x[1]}")
            for (field,) in fa:
                for fx, fy in zip(a.frames_of(x[1], field), b.frames_of(y[1], field)):
                    expect(fx.dtype == fy.dtype and np.array_equal(fx, fy), f"frame {field} of {x[1]}")
        ka = a.rows("SELECT name, data_keys FROM streams WHERE run_uid = ? ORDER BY name", run[0])
        kb = b.rows("SELECT name, data_keys FROM streams WHERE run_uid = ? ORDER BY name", run[0])
        expect([k[0] for k in ka] == [k[0] for k in kb], "stream names")
    print(f"ok runs={len(runs)}")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"ingested": check_ingested, "exported": check_exported, "valid": check_valid, "same": check_same}[command](*args)
