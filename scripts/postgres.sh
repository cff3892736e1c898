#!/usr/bin/env bash
# Runs a command beside a private PostgreSQL cluster, then stops the cluster, whatever the
# command's outcome (its exit status is this script's):
#
#   bash scripts/postgres.sh swift test --skip-build --filter ResonancePostgresTests
#
# The cluster lives in a temporary folder (initdb, run by the unprivileged `postgres` user
# when this runs as root), listens on 127.0.0.1 on the first free port from 55432 (and on a
# socket in that folder), and has a role `resonance` (CREATEDB, random password). The
# command gets RESONANCE_TEST_POSTGRES_URL=postgres://resonance@127.0.0.1:PORT/postgres
# and PGPASSWORD; tests create databases of their own. Installs PostgreSQL from Debian
# when it is missing. RESONANCE_PG_FSYNC=on keeps fsync on (benchmarks); tests run without.
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    SUDO=""; if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

dir=$(mktemp -d /tmp/resonance-postgres.XXXXXX)
as_owner=()
if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    as_owner=(runuser -u postgres --)
fi
stop() {
    "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

port=55432
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done

password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
"${as_owner[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
fsync=off; if [ "${RESONANCE_PG_FSYNC:-off}" = on ]; then fsync=on; fi
"${as_owner[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=$fsync -c max_connections=200" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
"${as_owner[@]}" "$PGBIN/psql" -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE resonance LOGIN CREATEDB PASSWORD '$password'" >/dev/null

export RESONANCE_TEST_POSTGRES_URL="postgres://resonance@127.0.0.1:$port/postgres"
export PGPASSWORD="$password"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir): RESONANCE_TEST_POSTGRES_URL=$RESONANCE_TEST_POSTGRES_URL" >&2
status=0
"$@" || status=$?
exit "$status"
