"""Runs real Bluesky plans on ophyd's simulated devices and writes their documents as
JSON lines ([name, doc] per line, as suitcase-jsonl writes them).

    python3 run_plans.py OUT.jsonl FILES_DIR [SCENARIO ...]

Scenarios (default: all, in this order): count, scan, grid_scan, list_scan_pages,
config_change (two descriptors of one stream), arrays (a 1-D array and NaN per point),
image (2-D arrays in events), npy (ophyd.sim's NPY_SEQ files), tiff (AD_TIFF files),
fail, abort. list_scan_pages sends its events as one
event_page per descriptor and its datums as datum_pages, as a buffering producer would.
"""
import json
import os
import sys

import numpy as np
import bluesky.plan_stubs as bps
import bluesky.plans as bp
from bluesky import RunEngine
from bluesky.utils import RequestAbort
from event_model import NumpyEncoder, pack_event_page, pack_datum_page
from ophyd.sim import hw, SynSignal, SynSignalWithRegistry


def main():
    out_path, files_dir = sys.argv[1], sys.argv[2]
    os.makedirs(files_dir, exist_ok=True)
    scenarios = sys.argv[3:] or ["count", "scan", "grid_scan", "list_scan_pages", "config_change",
                                 "arrays", "image", "npy", "tiff", "fail", "abort"]
    h = hw(save_path=files_dir)
    RE = RunEngine({})
    out = open(out_path, "w")

    def write(name, doc):
        out.write(json.dumps([name, doc], cls=NumpyEncoder) + "\n")

    # Pages: events and datums of a run are held until its stop, then sent as pages.
    held = {"events": {}, "datums": []}

    def paging(name, doc):
        if name == "event":
            held["events"].setdefault(doc["descriptor"], []).append(doc)
            return
        if name == "datum":
            held["datums"].append(doc)
            return
        if name == "stop":
            if held["datums"]:
                write("datum_page", pack_datum_page(*held["datums"]))
            for events in held["events"].values():
                write("event_page", pack_event_page(*events))
            held["events"].clear()
            held["datums"].clear()
        write(name, doc)

    tiff_det = TiffDetector(func=lambda: (np.arange(48, dtype=np.uint16).reshape(6, 8) * 7),
                            name="tiff_img", save_path=files_dir, save_spec="AD_TIFF")

    # A 1-D array per point (kept as JSON text) and a channel reading NaN.
    spectrum = SynSignal(func=lambda: np.linspace(0.0, 1.0, 5), name="spectrum")
    nan_sig = SynSignal(func=lambda: float("nan"), name="nan_sig")

    for scenario in scenarios:
        cb = paging if scenario == "list_scan_pages" else write
        md = {"scenario": scenario}
        if scenario == "count":
            RE(bp.count([h.det1, h.det2, h.bool_sig], num=5), cb,
               sample={"name": "PS", "formula": "C8H8"}, operator_note="first", nan_value=float("nan"))
        elif scenario == "scan":
            RE(bp.scan([h.det], h.motor, -1, 1, 7), cb, sample_name="PMMA", **md)
        elif scenario == "grid_scan":
            RE(bp.grid_scan([h.det4], h.motor1, -1, 1, 3, h.motor2, -2, 2, 4), cb, **md)
        elif scenario == "list_scan_pages":
            RE(bp.list_scan([h.det, h.img], h.motor, [0.5, 1.5, 2.5, 3.5]), cb, sample="PS", **md)
        elif scenario == "config_change":
            RE(config_change(h), cb, **md)
        elif scenario == "arrays":
            RE(bp.count([spectrum, nan_sig, h.det1], num=3), cb, **md)
        elif scenario == "image":
            RE(bp.count([h.direct_img, h.det1], num=3), cb, **md)
        elif scenario == "npy":
            RE(bp.scan([h.img, h.det], h.motor, 0, 1, 4), cb, **md)
        elif scenario == "tiff":
            RE(bp.count([tiff_det], num=3), cb, **md)
        elif scenario == "fail":
            try:
                RE(failing(h), cb, **md)
            except RuntimeError:
                pass
        elif scenario == "abort":
            try:
                RE(aborted(h), cb, **md)
            except RequestAbort:
                pass
        else:
            raise SystemExit(f"unknown scenario {scenario}")
    out.close()


def config_change(h):
    """Two descriptors of one stream: det's configuration changes mid-run."""
    yield from bps.open_run(md={"plan_name": "config_change"})
    for k in range(2):
        yield from bps.trigger_and_read([h.det_with_conf])
    yield from bps.configure(h.det_with_conf, {"c": 42})
    for k in range(2):
        yield from bps.trigger_and_read([h.det_with_conf])
    yield from bps.close_run()


def failing(h):
    yield from bps.open_run(md={"plan_name": "failing"})
    yield from bps.trigger_and_read([h.det1])
    raise RuntimeError("the sample holder jammed")


def aborted(h):
    yield from bps.open_run(md={"plan_name": "aborted"})
    yield from bps.trigger_and_read([h.det1])
    yield from bps.trigger_and_read([h.det1])
    raise RequestAbort()


class TiffDetector(SynSignalWithRegistry):
    """Writes each frame as a TIFF file and announces it the way areaDetector's TIFF
    plugin does: an AD_TIFF resource (template, filename, frame_per_point) and one datum
    per point (point_number)."""

    def __init__(self, *args, **kwargs):
        import tifffile
        super().__init__(*args, save_func=lambda path, a: tifffile.imwrite(path, a), save_ext="tiff", **kwargs)

    def stage(self):
        super().stage()
        # Replace the resource SynSignalWithRegistry queued with an AD_TIFF one.
        name, resource = self._asset_docs_cache.pop()
        resource["resource_kwargs"] = {"template": "%s%s_%6.6d.tiff", "filename": "frame", "frame_per_point": 1}
        resource["resource_path"] = self._file_stem
        self._asset_docs_cache.append((name, resource))
        os.makedirs(self._path_stem, exist_ok=True)
        self._path_stem = os.path.join(self._path_stem, "frame")

    def trigger(self):
        super().trigger()
        # Datum kwargs as AD_TIFF wants them, and the file name as its template makes it.
        fixed = []
        for name, doc in self._asset_docs_cache:
            if name == "datum":
                index = doc["datum_kwargs"].pop("index")
                doc["datum_kwargs"]["point_number"] = index
                os.rename("{}_{}.tiff".format(self._path_stem, index), "{}_{:06d}.tiff".format(self._path_stem, index))
            fixed.append((name, doc))
        self._asset_docs_cache.clear()
        self._asset_docs_cache.extend(fixed)
        from ophyd.sim import NullStatus
        return NullStatus()


if __name__ == "__main__":
    main()
