"""Drives `resonance serve` with Tiled's own Python client (tiled 0.2.20), as a beamline's
analysis code would, and compares every value with what the Swift Catalog read from the
same files (written by TiledTests into expected.json / *.bin).

Usage: python3 tiled_client_check.py CONFIG.json   -- prints one "ok ..." line per check.
"""
import json
import os
import sqlite3
import sys
import time

import httpx
import numpy as np
from tiled.client import from_uri
from tiled.queries import Key

cfg = json.load(open(sys.argv[1]))
url, key, label, uid = cfg["url"], cfg["api_key"], cfg["label"], cfg["run_uid"]


def ok(what):
    print("ok", what, flush=True)


def raises(exc, fn):
    try:
        fn()
    except exc as e:
        return e
    raise AssertionError(f"expected {exc.__name__}")


# --- The example, line by line -------------------------------------------------
c = from_uri(url, api_key=key)
bt = c[label]
run = bt[uid]
assert run.metadata["start"]["plan_name"] == cfg["plan_name"], run.metadata["start"]
assert run.metadata["stop"]["exit_status"] == "success", run.metadata["stop"]
assert run.specs[0].name == "BlueskyRun", run.specs
ok("run.metadata['start']['plan_name'] == %r" % cfg["plan_name"])

data = run["primary"]["data"]
assert run["primary"].specs[0].name == "BlueskyEventStream"
descriptor = run["primary"].metadata["descriptors"][0]
assert descriptor["name"] == "primary" and "energy" in descriptor["data_keys"], descriptor
assert descriptor["data_keys"]["energy"].get("units") == "eV", descriptor
ok("stream metadata: descriptors with data_keys")

for name, spec in cfg["columns"].items():
    got = data[name].read()
    want_dtype = np.dtype(spec["dtype"])
    assert got.dtype == want_dtype, (name, got.dtype, want_dtype)
    if want_dtype.kind == "U":
        assert list(got) == spec["values"], (name, list(got), spec["values"])
    else:
        want = np.array([np.nan if v is None else v for v in spec["values"]], dtype=want_dtype)
        assert got.tobytes() == want.tobytes(), (name, got, want)
    ok(f"column {name}: {len(got)} values, dtype {got.dtype}, bit for bit")

frames = np.fromfile(cfg["frames_bin"], dtype=cfg["frames_dtype"]).reshape(cfg["frames_shape"])
image = data["detector_image"]
assert image.shape == tuple(cfg["frames_shape"]) and image.dtype == frames.dtype, (image.shape, image.dtype)
assert image.chunks == ((1,) * frames.shape[0], (frames.shape[1],), (frames.shape[2],)), image.chunks
region = image[5, 100:356, 100:356]
assert region.shape == (256, 256) and region.tobytes() == frames[5, 100:356, 100:356].tobytes()
ok("detector_image[5, 100:356, 100:356] bit for bit")
assert image.read().tobytes() == frames.tobytes()
assert image[-1, ::7, 3:-2:3].tobytes() == frames[-1, ::7, 3:-2:3].tobytes()
assert image[2:6:2, 10, :].tobytes() == frames[2:6:2, 10, :].tobytes()
assert np.asarray(image.read_block((3, 0, 0))).tobytes() == frames[3:4].tobytes()
ok("detector_image: whole, strided, block reads bit for bit")

found = sorted(bt.search(Key("sample_name") == "PS").keys())
assert found == sorted(cfg["ps_uids"]), (found, cfg["ps_uids"])
ok(f"bt.search(Key('sample_name') == 'PS'): {len(found)} runs")
assert sorted(bt.search(Key("plan_name") == "count").search(Key("sample_name") == "PMMA").keys()) == sorted(cfg["pmma_count_uids"])
assert len(bt.search(Key("start.plan_name") == "count")) == cfg["count_runs"]
assert len(bt.search(Key("edge") == "C K")) == 1
ok("chained searches, start.-prefixed keys, run metadata keys")

assert len(bt) == cfg["run_count"], (len(bt), cfg["run_count"])
keys = list(bt.keys())
assert keys[:10] == cfg["first_keys"] and len(keys) == cfg["run_count"]
assert list(bt.keys()[:10]) == cfg["first_keys"]
assert list(bt.keys()[-1:-4:-1]) == cfg["last_keys"][::-1], (list(bt.keys()[-1:-4:-1]), cfg["last_keys"])
ok(f"len(bt) == {len(bt)}, keys paged in pages of at most 300")
first = bt.values().first()
assert first.metadata["start"]["uid"].replace("-", "") == cfg["first_keys"][0]
ok("values().first() with metadata")

# With bluesky-tiled-plugins installed (pyhyperscattering[bluesky] brings it), runs come
# back as its BlueskyRun (v2, databroker's layout): start / stop / descriptors / documents().
try:
    import bluesky_tiled_plugins  # noqa: F401
except ImportError:
    bluesky_tiled_plugins = None
if bluesky_tiled_plugins is not None:
    assert type(run).__name__ == "BlueskyRunV2Mongo", type(run)
    assert run.start["plan_name"] == cfg["plan_name"] and run.stop["exit_status"] == "success"
    assert [d["name"] for d in run["primary"].descriptors] == ["primary"]
    names = [name for name, _ in run.documents()]
    assert names[0] == "start" and names[-1] == "stop" and "descriptor" in names and "event_page" in names, names
    ok("bluesky-tiled-plugins: run.start, run.stop, stream.descriptors, run.documents()")

# --- Negative cases ----------------------------------------------------------------------
raises(KeyError, lambda: bt["0" * 32])
raises(KeyError, lambda: c["no-such-beamtime"])
raises(KeyError, lambda: run["no-such-stream"])
raises(KeyError, lambda: data["no-such-field"])
raises(KeyError, lambda: bt.search(Key("sample_name") == "PMMA")[uid])
ok("unknown keys raise KeyError")

e = raises(Exception, lambda: from_uri(url, api_key="not-a-key")["x"])
ok(f"a wrong key is refused ({type(e).__name__})")

# A run, then its whole beamtime, deleted while browsed.
sc = c[cfg["scratch_label"]]
doomed = sc[cfg["scratch_uid"]]
doomed_energy = doomed["primary"]["data"]["energy"]
db = sqlite3.connect(cfg["scratch_db"])
db.execute("PRAGMA foreign_keys = ON")
db.execute("DELETE FROM runs WHERE uid = ?", (cfg["scratch_uid"],))
db.commit()
db.close()
raises(KeyError, lambda: sc[cfg["scratch_uid"]])
raises(KeyError, lambda: doomed["primary"])
e = raises(httpx.HTTPStatusError, lambda: doomed_energy.read())
assert e.response.status_code == 404
assert cfg["scratch_uid"] not in list(sc)
ok("a run deleted while browsed: KeyError, 404 on reads, gone from listings")
os.remove(cfg["scratch_db"])
raises(KeyError, lambda: c[cfg["scratch_label"]])
e = raises(httpx.HTTPStatusError, lambda: list(sc))
assert e.response.status_code == 404
assert cfg["scratch_label"] not in list(c)
ok("a beamtime deleted while browsed: KeyError, 404")

# A live run whose table grows between two reads.
live = c[cfg["live_label"]][cfg["live_uid"]]
assert live.metadata["stop"] is None
energy = live["primary"]["data"]["energy"]
before = energy.read()
assert len(before) == cfg["live_first"], (len(before), cfg["live_first"])
open(os.path.join(cfg["markers"], "grow"), "w").close()
deadline = time.time() + 60
while not os.path.exists(os.path.join(cfg["markers"], "grown")):
    assert time.time() < deadline, "the writer did not grow the run"
    time.sleep(0.05)
after = c[cfg["live_label"]][cfg["live_uid"]]["primary"]["data"]["energy"].read()
assert len(after) == cfg["live_total"], (len(after), cfg["live_total"])
assert after[: len(before)].tobytes() == before.tobytes()
assert np.array_equal(after, np.array(cfg["live_values"], dtype="float64"))
assert energy.read().tobytes() == before.tobytes()  # an old handle reads what it saw
frames_live = c[cfg["live_label"]][cfg["live_uid"]]["primary"]["data"]["detector_image"]
assert frames_live.shape[0] == cfg["live_total"]
ok(f"a live run grew from {len(before)} to {len(after)} events between two reads")

print("ALL OK")
