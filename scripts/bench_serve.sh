#!/usr/bin/env bash
# Load benchmark of `resonance serve` (issue #15; figures in docs/benchmarks.md, "Serving").
#
# With CONNECTIONS (32) concurrent clients on loopback, wrk measures the latency of
#   run metadata          GET /api/runs/<uid>
#   a 1024x1024 int32     GET /api/runs/<uid>/frames/<field>/-1      (raw)
#   a 10,000-event table  GET /api/runs/<uid>/streams/primary/table  (columnar JSON)
# while a writer (`resonance demo`, another process) writes as fast as it can into the same
# folder, over and over; then `resonance-bench serve` makes the same reads in-process
# through one Catalog with as many threads, writer still running. The writer's time per
# batch alone and beside the readers tells whether serving slows it.
#
#   bash scripts/bench_serve.sh                   # release build, 10 s per endpoint
#   CONFIG=debug DURATION=5 bash scripts/bench_serve.sh
#   SERVE_NICE=10 bash scripts/bench_serve.sh       # server, wrk and in-process readers at nice 10
#                                                   # (on a beamline the clients are other machines)
#
# Needs wrk (apt-get install wrk). Not a test: it prints figures.
set -euo pipefail
CONFIG=${CONFIG:-release}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-18765}
SERVE_NICE=${SERVE_NICE:-0}
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { echo "bench_serve: wrk is missing (apt-get install wrk)" >&2; exit 1; }
[ -n "${SKIP_BUILD:-}" ] || { swift build -c "$CONFIG" --product resonance >&2 && swift build -c "$CONFIG" --product resonance-bench >&2; }
BIN="$(swift build -c "$CONFIG" --show-bin-path)/resonance"
BENCH="$(swift build -c "$CONFIG" --show-bin-path)/resonance-bench"

WORK=$(mktemp -d /tmp/bench-serve.XXXXXX)
SERVER=""; WRITER=""
cleanup() {
    [ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null || true
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ROOT="$WORK/root"
mkdir -p "$ROOT"

echo "== fixture: 10,000-event NEXAFS run and 1024x1024 int32 frames" >&2
"$BIN" demo --out "$ROOT" --label bench --points 10000 --frames 4 --size 1024 >/dev/null
read -r TABLE_UID FRAME_UID FIELD < <("$BIN" runs "$ROOT/bench.db" --json | python3 -c '
import json, subprocess, sys
runs = json.load(sys.stdin)
table = max(runs, key=lambda r: r["num_events"] if r["plan_name"] == "nexafs" else -1)
frames = [r for r in runs if r["plan_name"] != "nexafs"][0]
show = json.loads(subprocess.check_output([sys.argv[1], "show", sys.argv[2], frames["uid"], "--json"]))
print(table["uid"], frames["uid"], show["frame_fields"][0]["field"])' "$BIN" "$ROOT/bench.db")
echo "table run $TABLE_UID, frame run $FRAME_UID ($FIELD)" >&2

# The writer: a beamtime of 5,000 events and 100 frames of 512x512, written as fast as possible.
write_batch() { "$BIN" demo --out "$ROOT" --label "$1" --points 5000 --frames 100 --size 512 >/dev/null; }
seconds_of() { local start end; start=$(date +%s.%N); "$@"; end=$(date +%s.%N); python3 -c "print(f'{$end - $start:.2f}')"; }

echo "== writer alone" >&2
ALONE=()
for k in 1 2; do ALONE+=("$(seconds_of write_batch "alone$k")"); done
echo "writer alone: ${ALONE[*]} s per batch" >&2

nice -n "$SERVE_NICE" "$BIN" serve "$ROOT" --port "$PORT" 2>"$WORK/serve.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/beamtimes" >/dev/null && break; sleep 0.1; done

# Writer loop in the background for the whole measurement; each batch's time goes to a file.
( k=0; while true; do k=$((k + 1)); seconds_of write_batch "loaded$k" >> "$WORK/loaded.txt"; done ) &
WRITER=$!
sleep 1

run_wrk() {  # name url
    local out
    out=$(nice -n "$SERVE_NICE" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$2")
    local p50 p99 rps errors
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    errors=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    printf 'http       %-8s %8s req/s  p50 %9s  p99 %9s  non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "${errors:-0}"
}

echo "== over HTTP: $CONNECTIONS connections, ${DURATION}s each, writer running" >&2
BASE="http://127.0.0.1:$PORT/api/runs"
run_wrk metadata "$BASE/$TABLE_UID"
run_wrk frame "$BASE/$FRAME_UID/frames/$FIELD/-1"
run_wrk table "$BASE/$TABLE_UID/streams/primary/table"

echo "== in-process through Catalog: $CONNECTIONS threads, writer running" >&2
nice -n "$SERVE_NICE" "$BENCH" serve "$ROOT/bench.db" --table-run "$TABLE_UID" --frame-run "$FRAME_UID" --field "$FIELD" \
    --threads "$CONNECTIONS" --seconds "$DURATION"

kill "$WRITER" 2>/dev/null || true; wait "$WRITER" 2>/dev/null || true; WRITER=""
echo "writer alone:         ${ALONE[*]} s per batch (5,000 events + 100 frames of 512x512)"
echo "writer beside load:   $(tr '\n' ' ' < "$WORK/loaded.txt")s per batch (the last may be cut short)"
echo "frame size check: $(curl -s "$BASE/$FRAME_UID/frames/$FIELD/-1" | wc -c) bytes (1024*1024*4 = 4194304)"
echo "table size: $(curl -s "$BASE/$TABLE_UID/streams/primary/table" | wc -c) bytes"
echo "server log lines: $(wc -l < "$WORK/serve.log"); errors logged: $(grep -c ' 5[0-9][0-9] ' "$WORK/serve.log" || true)"
