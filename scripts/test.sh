#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: unit, interop with zarr-python and
# Python's sqlite3, kill tests, the command-line end-to-end tests, and the PostgreSQL
# master index tests against a private server (scripts/postgres.sh starts it and stops
# it afterwards, even when tests fail); then the tensorstore peer benchmark in quick mode.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
bash scripts/postgres.sh swift test --skip-build --skip ServerTests
# The server's network tests (1,000 connections, slow clients, latency bounds) run alone,
# not beside the kill and disk tests that load the machine.
swift test --skip-build --filter ServerTests
# The tensorstore peer benchmark, quick mode: proves the script and the writer's
# --frames-file entry work (its figures mean little in a debug build).
python3 scripts/bench_peer.py --quick --repetitions 1 --resonance-bench .build/debug/resonance-bench
