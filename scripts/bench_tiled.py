#!/usr/bin/env python3
"""Tiled's Python client against `resonance serve` (docs/benchmarks.md, "Tiled").

1. One 2048x2048 int32 frame through the tiled client (`arr[k]`, /api/v1/array/full with a
   slice) vs the server's own raw endpoint (GET /api/runs/{uid}/frames/{field}/{k}?format=raw),
   same server, same frames, median of N reads each.
2. A beamtime of 10,000 runs: len(bt), list(bt.keys()) (pages of 100 the client follows),
   one page of 10 with metadata (bt.values()[:10]), and a search.

Usage: python3 scripts/bench_tiled.py [--resonance .build/release/resonance] [--repeat 20]
Builds its data in a temporary folder with `resonance demo` and `resonance ingest`.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import httpx
import numpy as np
from tiled.client import from_uri
from tiled.queries import Key


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resonance", default=".build/release/resonance")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--root", help="reuse a folder an earlier run of this script filled")
    args = ap.parse_args()
    exe = os.path.abspath(args.resonance)
    root = args.root or tempfile.mkdtemp(prefix="bench-tiled-")
    if not args.root:
        make_data(exe, root, args.runs)

    serve(exe, root, args)


def make_data(exe, root, runs):
    subprocess.run([exe, "demo", "--out", root, "--label", "frames", "--points", "2", "--frames", "6", "--size", "2048"],
                   check=True, stdout=subprocess.DEVNULL)
    docs = os.path.join(root, "runs.jsonl")
    with open(docs, "w") as f:
        for k in range(runs):
            start = str(uuid.UUID(int=k + 1))
            desc = str(uuid.UUID(int=(1 << 64) + k))
            t = 1.7e9 + k
            sample = "PS" if k % 10 == 0 else "PMMA"
            f.write(json.dumps(["start", {"uid": start, "time": t, "plan_name": "count", "scan_id": k, "sample_name": sample}]) + "\n")
            f.write(json.dumps(["descriptor", {"uid": desc, "run_start": start, "time": t, "name": "primary",
                                               "data_keys": {"x": {"dtype": "number", "shape": [], "source": "sim"}}}]) + "\n")
            f.write(json.dumps(["event", {"uid": str(uuid.UUID(int=(2 << 64) + k)), "descriptor": desc, "seq_num": 1, "time": t,
                                          "data": {"x": float(k)}, "timestamps": {"x": t}}]) + "\n")
            f.write(json.dumps(["stop", {"uid": str(uuid.UUID(int=(3 << 64) + k)), "run_start": start, "time": t + 1,
                                         "exit_status": "success", "num_events": {"primary": 1}}]) + "\n")
    t = time.perf_counter()
    subprocess.run([exe, "ingest", os.path.join(root, "runs.db"), docs], check=True, stdout=subprocess.DEVNULL)
    print(f"ingested {runs} runs in {time.perf_counter() - t:.1f} s", file=sys.stderr)


def serve(exe, root, args):
    port = free_port()
    server = subprocess.Popen([exe, "serve", root, "--port", str(port)], stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(base + "/api/v1/").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        c = from_uri(base + "/api")
        frames_bt = c["frames"]
        uid = next(k for k in frames_bt if "detector_image" in frames_bt[k]["primary"]["data"])
        arr = frames_bt[uid]["primary"]["data"]["detector_image"]
        n = arr.shape[0]
        http = httpx.Client()
        raw_url = f"{base}/api/runs/{uid}/frames/detector_image"

        def via_tiled(state={"k": 0}):
            state["k"] = (state["k"] + 1) % n
            return arr[state["k"]]

        def via_raw(state={"k": 0}):
            state["k"] = (state["k"] + 1) % n
            r = http.get(f"{raw_url}/{state['k']}?format=raw")
            r.raise_for_status()
            return np.frombuffer(r.content, dtype=arr.dtype).reshape(arr.shape[1:])

        assert np.array_equal(via_tiled(), via_raw())
        tiled_med, tiled_min = timed(via_tiled, args.repeat)
        raw_med, raw_min = timed(via_raw, args.repeat)

        bt = c["runs"]
        t = time.perf_counter(); count = len(bt); t_len = time.perf_counter() - t
        t = time.perf_counter(); keys = list(bt.keys()); t_keys = time.perf_counter() - t
        assert len(keys) == count == args.runs, (len(keys), count)
        t = time.perf_counter(); page = list(bt.values()[:10]); t_page = time.perf_counter() - t
        assert len(page) == 10 and page[0].metadata["start"]["plan_name"] == "count"
        t = time.perf_counter(); found = list(bt.search(Key("sample_name") == "PS").keys()); t_search = time.perf_counter() - t
        assert len(found) == args.runs // 10
        t = time.perf_counter(); last = list(bt.keys()[-1:-11:-1]); t_last = time.perf_counter() - t

        mib = arr.shape[1] * arr.shape[2] * arr.dtype.itemsize / 2**20
        print("| Measure | Time |")
        print("|---|---|")
        print(f"| one {arr.shape[1]}x{arr.shape[2]} {arr.dtype} frame ({mib:.0f} MiB), tiled client `arr[k]` | {tiled_med*1e3:.1f} ms median ({tiled_min*1e3:.1f} min) |")
        print(f"| same frame, `GET /api/runs/.../frames/...?format=raw` + `np.frombuffer` | {raw_med*1e3:.1f} ms median ({raw_min*1e3:.1f} min) |")
        print(f"| ratio tiled / raw (median) | {tiled_med / raw_med:.2f} |")
        print(f"| `len(bt)`, {count} runs | {t_len*1e3:.0f} ms |")
        print(f"| `list(bt.keys())`, {count} runs in pages of 100 | {t_keys:.2f} s ({t_keys / (count / 100) * 1e3:.0f} ms per page) |")
        print(f"| `list(bt.keys()[-1:-11:-1])` (the last 10: one page, newest first) | {t_last*1e3:.0f} ms |")
        print(f"| `list(bt.values()[:10])` (metadata: start/stop documents) | {t_page*1e3:.0f} ms |")
        print(f"| `bt.search(Key('sample_name') == 'PS')`, {len(found)} keys | {t_search:.2f} s |")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
