#!/usr/bin/env bash
# A throwaway PostgreSQL on loopback for the history tests (tests/history).
#
#   bash tests/services/postgres.sh start   # install if missing, initdb, start, append env
#   bash tests/services/postgres.sh stop    # stop, delete the cluster, drop the env lines
#
# Run after `services.sh start` (which rewrites .services.env): `start` appends
# AIMSCHECK_TEST_PG_URL=postgresql://aimscheck@127.0.0.1:PORT/aimscheck_test to .services.env.
# PostgreSQL comes from Debian's `postgresql` package (apt-get) when no server binaries are
# found. Where it cannot be installed, `start` appends AIMSCHECK_TEST_PG_SKIP=<reason>
# instead, and the PostgreSQL history test is skipped with that reason — the only skip.
# The server refuses to run as root, so the cluster (in a fresh temp dir) belongs to the
# `postgres` system user (created by the package) or, failing that, `aimscheck-pg`.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
STATE="$ROOT/.services/postgres"
ENV_FILE="$ROOT/.services.env"
TIMEOUT="${AIMSCHECK_SERVICES_TIMEOUT:-60}"

log() { printf '[postgres] %s\n' "$*" >&2; }

pg_bin() {
    local d best=""
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && best="$d"
    done
    printf '%s' "$best"
}

ensure_installed() {
    [[ -n "$(pg_bin)" ]] && return 0
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        echo "no PostgreSQL server binaries and no root apt-get to install Debian's postgresql"
        return 1
    fi
    log "installing Debian's postgresql package (log: .services/postgres/install.log)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends postgresql; } >"$STATE/install.log" 2>&1; then
        echo "apt-get install postgresql failed: $(tail -n 1 "$STATE/install.log")"
        return 1
    fi
    [[ -n "$(pg_bin)" ]] || { echo "postgresql installed but no initdb found"; return 1; }
}

run_as() {  # run a server command as the cluster owner
    if [[ $(id -u) -eq 0 ]]; then runuser -u "$OWNER" -- "$@"; else "$@"; fi
}

pick_owner() {
    if [[ $(id -u) -ne 0 ]]; then OWNER=$(id -un); return; fi
    if id postgres >/dev/null 2>&1; then OWNER=postgres; return; fi
    id aimscheck-pg >/dev/null 2>&1 || useradd --system --no-create-home aimscheck-pg
    OWNER=aimscheck-pg
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

drop_env_lines() {
    [[ -f "$ENV_FILE" ]] && sed -i '/^AIMSCHECK_TEST_PG_/d' "$ENV_FILE"
    return 0
}

append_env() {
    drop_env_lines
    [[ -f "$ENV_FILE" ]] || { : >"$ENV_FILE"; chmod 600 "$ENV_FILE"; }
    printf '%s\n' "$@" >>"$ENV_FILE"
}

cmd_stop() {
    if [[ -f "$STATE/datadir" ]]; then
        local data bin
        data=$(cat "$STATE/datadir"); bin=$(pg_bin)
        pick_owner
        if [[ -n "$bin" && -d "$data/cluster" ]]; then
            run_as "$bin/pg_ctl" -D "$data/cluster" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$data"
        rm -f "$STATE/datadir" "$STATE/port"
        log "stopped"
    fi
    drop_env_lines
}

cmd_start() {
    mkdir -p "$STATE"
    cmd_stop
    local reason
    if ! reason=$(ensure_installed); then
        log "SKIP: $reason"
        append_env "AIMSCHECK_TEST_PG_SKIP=\"$reason\""
        return 0
    fi
    local bin data port
    bin=$(pg_bin)
    pick_owner
    data=$(mktemp -d "${TMPDIR:-/tmp}/aimscheck-pg.XXXXXX")
    chmod 755 "$data"
    [[ $(id -u) -eq 0 ]] && chown "$OWNER" "$data"
    echo "$data" >"$STATE/datadir"
    run_as "$bin/initdb" -D "$data/cluster" -U aimscheck --auth=trust -E UTF8 \
        --no-instructions >"$STATE/initdb.log" 2>&1 || {
        log "initdb failed: see .services/postgres/initdb.log"; exit 1; }
    port=$(free_port)
    echo "$port" >"$STATE/port"
    run_as "$bin/pg_ctl" -D "$data/cluster" -l "$data/server.log" -t "$TIMEOUT" -w \
        -o "-h 127.0.0.1 -p $port -k $data -c fsync=off" start >/dev/null || {
        log "server did not start: $(tail -n 5 "$data/server.log" 2>/dev/null)"; exit 1; }
    run_as "$bin/createdb" -h 127.0.0.1 -p "$port" -U aimscheck aimscheck_test
    append_env "AIMSCHECK_TEST_PG_URL=postgresql://aimscheck@127.0.0.1:$port/aimscheck_test"
    log "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
