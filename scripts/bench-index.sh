#!/usr/bin/env bash
# Times master index searches on a synthetic index (1,000,000 runs by default, built once
# in $TMPDIR and reused): one line per filter kind with the median time and SQLite's plan.
# Usage: scripts/bench-index.sh [--runs N] [--path FILE] [--repeats R]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product resonance
exec .build/release/resonance index bench "$@"
