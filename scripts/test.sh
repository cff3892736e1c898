#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: unit, interop with zarr-python and
# Python's sqlite3, kill tests, and the command-line end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build
