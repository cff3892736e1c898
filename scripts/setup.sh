#!/usr/bin/env bash
# Installs the C libraries and chromium (Debian) and the Python packages used by the interop tests and
# by scripts/bench_peer.py (tensorstore, the peer benchmark).
# Idempotent; fast when everything is already there.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
need=()
# chromium: the web viewer's browser test (Tests/ViewerTests) drives it headless.
for pkg in libzstd-dev libblosc-dev libsqlite3-dev zlib1g-dev pkg-config chromium; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! python3 -c 'import zarr, numpy, pandas; assert zarr.__version__ == "3.1.5"' 2>/dev/null; then
    python3 -m pip install -q --disable-pip-version-check "zarr==3.1.5" numpy pandas
fi
# The Bluesky tests run real plans on ophyd's simulated devices (Tests/BlueskyTests).
if ! python3 -c 'import bluesky, ophyd, event_model, tifffile
assert (bluesky.__version__, ophyd.__version__, event_model.__version__) == ("1.15.1", "1.11.2", "1.24.0")' 2>/dev/null; then
    python3 -m pip install -q --disable-pip-version-check "bluesky==1.15.1" "ophyd==1.11.2" "event-model==1.24.0" tifffile
fi
# The tensorstore peer of the frame benchmark (scripts/bench_peer.py).
if ! python3 -c 'import tensorstore' 2>/dev/null; then
    python3 -m pip install -q --disable-pip-version-check tensorstore
fi
# Tiled's Python client, which TiledTests drive against `resonance serve` (docs/tiled.md).
if ! python3 -c 'import tiled, httpx; assert tiled.__version__ == "0.2.20"' 2>/dev/null; then
    python3 -m pip install -q --disable-pip-version-check "tiled[client]==0.2.20"
fi
