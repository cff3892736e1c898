#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds the release executable and runs the main job:
# a simulated beamtime written through RunWriter and summarized. Extra arguments go to
# `resonance demo` (e.g. --out DIR --frames 50 --size 2048).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product resonance
.build/release/resonance demo "$@"
