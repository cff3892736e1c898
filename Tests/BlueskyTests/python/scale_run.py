"""Makes a long run from a real one, for the kill test: runs bluesky's `count` on
ophyd.sim's 2-D image detector and a scalar detector for 3 points, then repeats its event
N times (new uids, seq_nums 1..N, the same data) before the stop.

    python3 scale_run.py OUT.jsonl N
"""
import json
import sys
import uuid

import bluesky.plans as bp
from bluesky import RunEngine
from event_model import NumpyEncoder
from ophyd.sim import hw


def main():
    out_path, n = sys.argv[1], int(sys.argv[2])
    h = hw()
    docs = []
    RunEngine({})(bp.count([h.direct_img, h.det1], num=3), lambda name, doc: docs.append((name, doc)))
    event = next(d for name, d in docs if name == "event")
    with open(out_path, "w") as out:
        for name, doc in docs:
            if name == "event":
                continue
            if name == "stop":
                for k in range(1, n + 1):
                    e = dict(event, uid=str(uuid.uuid4()), seq_num=k, time=event["time"] + k * 1e-3)
                    e["data"] = dict(event["data"], det1=float(k))
                    out.write(json.dumps(["event", e], cls=NumpyEncoder) + "\n")
                doc = dict(doc, num_events={"primary": n})
            out.write(json.dumps([name, doc], cls=NumpyEncoder) + "\n")


if __name__ == "__main__":
    main()
