"""A RunEngine with the resonance_bluesky Recorder subscribed (from the checkout's python/).

    python3 record_live.py RESONANCE_EXECUTABLE DEST DOCS.jsonl
        runs count (2-D images and NaN-free scalars) and scan with the Recorder subscribed
        and a plain JSON-lines copy of the same documents in DOCS.jsonl; prints the
        Recorder's exit status
    python3 record_live.py RESONANCE_EXECUTABLE DEST DOCS.jsonl --kill-child
        kills the child with SIGKILL after the first plan; the second plan must fail with
        RecorderError on its first document; prints what it said
"""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "python"))

import bluesky.plans as bp
import numpy as np
from bluesky import RunEngine
from event_model import NumpyEncoder
from ophyd.sim import hw, SynSignal
from resonance_bluesky import Recorder, RecorderError


def main():
    exe, dest, docs_path = sys.argv[1:4]
    kill_child = "--kill-child" in sys.argv
    h = hw()
    RE = RunEngine({})
    out = open(docs_path, "w")
    RE.subscribe(lambda name, doc: out.write(json.dumps([name, doc], cls=NumpyEncoder) + "\n"))
    recorder = Recorder(dest, sample="live-sample", executable=exe)
    RE.subscribe(recorder)
    ints = SynSignal(func=lambda: np.arange(12, dtype=np.uint16).reshape(3, 4), name="ints")
    RE(bp.count([h.direct_img, ints, h.det1], num=4))
    if kill_child:
        os.kill(recorder.pid, signal.SIGKILL)
        time.sleep(0.5)
        try:
            RE(bp.scan([h.det], h.motor, -1, 1, 5))
        except RecorderError as error:
            print("RecorderError:", error)
            return
        raise SystemExit("no RecorderError after the child died")
    RE(bp.scan([h.det], h.motor, -1, 1, 5))
    out.close()
    print("exit status", recorder.close())


if __name__ == "__main__":
    main()
