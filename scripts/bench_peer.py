#!/usr/bin/env python3
"""Resonance's writer beside tensorstore (Google's C++ Zarr library) on the same frames.

Both write the same uint16 frames (made here with numpy: Poisson counts around a ring and
a beam stop, like `resonance bench`'s synthetic detector) with the same codec (bytes +
blosc zstd level 1, byte shuffle, 256 KiB blocks) into Zarr v3, each frame written as it
arrives (as a detector writer must), and both end with the data on disk:

  resonance  `resonance bench --frames-file`: writeEvent + writeFrame per frame, closeRun
             (a SQLite database beside the store; default frame layout)
  tensorstore  one chunk per frame (c/k/0/0), `array[k].write(frame).result()` per frame,
             then syncfs of the file system (tensorstore does not sync by itself)

Repetitions alternate the two, so a change in the machine's load hits both alike.

  python3 scripts/bench_peer.py --resonance .build/release/resonance [--dir D] [--sizes 2048,512,128] [--quick]
"""
import argparse, ctypes, json, os, shutil, subprocess, sys, tempfile, time

import numpy as np
import tensorstore as ts

COUNTS = {2048: 60, 512: 1000, 128: 10000}
QUICK = {2048: 2, 512: 20, 128: 100}


def frames(size, count, seed=1):
    """Detector-like frames: Poisson counts (mean ~100, a ring of ~1000) and a dark beam stop."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    d = np.hypot(y - size / 2, x - size / 2)
    out = np.empty((count, size, size), np.uint16)
    for k in range(count):
        radius = size * 0.3 * 285 / (280 + 15 * k / max(count - 1, 1))
        width = max(2.0, size * 0.015)
        mean = 100 * (1 + 0.2 * np.exp(-d / (2 * radius))) + 900 * np.exp(-((d - radius) / width) ** 2)
        mean[d < size * 0.05] *= 0.02
        out[k] = np.minimum(rng.poisson(mean), 65535)
    return out


def syncfs(path):
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if libc.syncfs(fd) != 0:
            raise OSError(ctypes.get_errno(), "syncfs")
    finally:
        os.close(fd)


def tensorstore_write(data, path):
    count, size, _ = data.shape
    spec = {
        "driver": "zarr3",
        "kvstore": {"driver": "file", "path": path},
        "metadata": {
            "shape": [count, size, size],
            "data_type": "uint16",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, size, size]}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "codecs": [
                {"name": "bytes", "configuration": {"endian": "little"}},
                {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 1, "shuffle": "shuffle",
                                                    "typesize": 2, "blocksize": 262144}},
            ],
            "fill_value": 0,
        },
        "create": True,
        "delete_existing": True,
    }
    start = time.perf_counter()
    cpu = time.process_time()
    array = ts.open(spec).result()
    for k in range(count):
        array[k].write(data[k]).result()
    syncfs(path)
    return time.perf_counter() - start, time.process_time() - cpu


def resonance_write(binary, raw, size, workdir):
    out = subprocess.run([binary, "bench", "--frames-file", raw, "--frame-size", str(size), "--dir", workdir],
                         check=True, capture_output=True, text=True)
    result = json.loads(out.stdout)
    return result["seconds"], result["cpu_s"], result["layout"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resonance", default=".build/release/resonance")
    parser.add_argument("--dir", default=None, help="folder on the file system to measure (default: a temporary folder)")
    parser.add_argument("--sizes", default="2048,512,128")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a few frames per size: proves the script works (CI)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="resonance-peer-", dir=args.dir)
    rows = []
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            count = (QUICK if args.quick else COUNTS).get(size, 100)
            data = frames(size, count)
            raw = os.path.join(root, f"frames-{size}.u16")
            data.tofile(raw)
            res, peer, layout = [], [], ""
            for rep in range(args.repetitions):
                seconds, cpu, layout = resonance_write(args.resonance, raw, size, root)
                res.append((seconds, cpu))
                path = os.path.join(root, f"tensorstore-{size}-{rep}.zarr")
                peer.append(tensorstore_write(data, path))
                shutil.rmtree(path)
            r = sorted(res)[len(res) // 2]
            p = sorted(peer)[len(peer) // 2]
            rows.append({"size": size, "frames": count, "layout": layout,
                         "resonance_fps": count / r[0], "resonance_cpu_s": r[1],
                         "tensorstore_fps": count / p[0], "tensorstore_cpu_s": p[1],
                         "ratio": p[0] / r[0]})
            os.remove(raw)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"Resonance vs tensorstore {ts.__name__}, same frames and codec (blosc-zstd 1, shuffle, 256 KiB blocks), "
          f"median of {args.repetitions}, alternating; load {os.getloadavg()[0]:.2f}")
    print(f"{'frames':>18}  {'resonance fps':>13}  {'CPU s':>6}  {'tensorstore fps':>15}  {'CPU s':>6}  {'resonance / tensorstore':>23}  layout")
    for row in rows:
        print(f"{row['frames']:>7} x {row['size']:>4}^2  {row['resonance_fps']:>13.1f}  {row['resonance_cpu_s']:>6.2f}  "
              f"{row['tensorstore_fps']:>15.1f}  {row['tensorstore_cpu_s']:>6.2f}  {row['ratio']:>23.2f}  {row['layout']}")


if __name__ == "__main__":
    sys.exit(main())
