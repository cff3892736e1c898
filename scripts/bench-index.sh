#!/usr/bin/env bash
# Times master index searches on a synthetic index (1,000,000 runs by default, built once
# in $TMPDIR and reused) on both backends in one run: SQLite, and PostgreSQL on a private
# server that scripts/postgres.sh starts (fsync on) and stops. One line per filter kind with
# the median and 95th percentile of each backend, and whether their hits are the same.
# Usage: scripts/bench-index.sh [--runs N] [--path FILE] [--repeats R]
#        RESONANCE_BENCH_POSTGRES=URL scripts/bench-index.sh ...   (an existing server instead)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product resonance-bench
if [ -n "${RESONANCE_BENCH_POSTGRES:-}" ]; then
    exec .build/release/resonance-bench index --postgres "$RESONANCE_BENCH_POSTGRES" "$@"
fi
RESONANCE_PG_FSYNC=on exec bash scripts/postgres.sh \
    bash -c '.build/release/resonance-bench index --postgres "$RESONANCE_TEST_POSTGRES_URL" "$@"' bench "$@"
