#!/usr/bin/env bash
# Start, stop and inspect the real servers that aimscheck's adapter tests talk to.
#
#   bash tests/services/services.sh start    # install venvs if needed, start, write .services.env
#   bash tests/services/services.sh status   # show what runs where; exit 1 if anything is down
#   bash tests/services/services.sh stop     # stop everything, remove .services.env
#
# Each server lives in its own virtual environment (.venv-services/<name>, built from the
# pinned tests/services/<name>.requirements.txt) so its pins never meet the project's.
# Every server binds 127.0.0.1 on a free port chosen at start. Pid files, logs and data
# live in .services/ at the repo root. See tests/services/README.md.
#
# Environment knobs (all optional):
#   AIMSCHECK_SERVICES_PYTHON   interpreter used to create the venvs (default: python3)
#   AIMSCHECK_SERVICES_TIMEOUT  seconds to wait for each server to answer (default: 60)
#   AIMSCHECK_SERVICES          space-separated subset to manage (default: "mlflow ralph scim")
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
VENVS="$ROOT/.venv-services"
STATE="$ROOT/.services"
ENV_FILE="$ROOT/.services.env"
PY="${AIMSCHECK_SERVICES_PYTHON:-python3}"
TIMEOUT="${AIMSCHECK_SERVICES_TIMEOUT:-60}"
read -r -a SERVICES <<<"${AIMSCHECK_SERVICES:-mlflow ralph scim}"

LRS_USER="aimscheck-test"
LRS_AGENT_MBOX="mailto:aimscheck-test@example.org"

log() { printf '[services] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

now() { "$PY" -c 'import time; print(f"{time.monotonic():.1f}")'; }
elapsed() { "$PY" -c 'import sys, time; print(f"{time.monotonic() - float(sys.argv[1]):.1f}")' "$1"; }

# ---------------------------------------------------------------- virtual environments

# A venv is reused when its stamp matches the requirements file and the interpreter.
venv_stamp_wanted() {
    "$PY" - "$SCRIPT_DIR/$1.requirements.txt" <<'EOF'
import hashlib, sys
h = hashlib.sha256(open(sys.argv[1], "rb").read())
h.update(sys.version.encode())
print(h.hexdigest())
EOF
}

venv_is_current() {
    local venv="$VENVS/$1"
    [[ -x "$venv/bin/python" && -f "$venv/.aimscheck-stamp" ]] &&
        [[ "$(cat "$venv/.aimscheck-stamp")" == "$(venv_stamp_wanted "$1")" ]]
}

# Build one venv from scratch; runs in the background, output goes to its install log.
build_venv() {
    local name=$1 venv="$VENVS/$1" t0
    t0=$(now)
    rm -rf "$venv"
    "$PY" -m venv "$venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
        --requirement "$SCRIPT_DIR/$name.requirements.txt"
    venv_stamp_wanted "$name" >"$venv/.aimscheck-stamp"
    echo "installed in $(elapsed "$t0") s"
}

ensure_venvs() {
    local name pids=() names=() failed=0 i
    mkdir -p "$VENVS" "$STATE"
    for name in "$@"; do
        [[ -f "$SCRIPT_DIR/$name.requirements.txt" ]] || die "no $SCRIPT_DIR/$name.requirements.txt"
        if venv_is_current "$name"; then
            continue
        fi
        log "$name: creating .venv-services/$name (log: .services/$name.install.log)"
        build_venv "$name" >"$STATE/$name.install.log" 2>&1 &
        pids+=("$!")
        names+=("$name")
    done
    for i in "${!pids[@]}"; do
        if wait "${pids[$i]}"; then
            log "${names[$i]}: $(tail -n 1 "$STATE/${names[$i]}.install.log")"
        else
            failed=1
            log "${names[$i]}: venv installation FAILED; last lines of .services/${names[$i]}.install.log:"
            tail -n 30 "$STATE/${names[$i]}.install.log" >&2 || true
        fi
    done
    [[ $failed == 0 ]] || die "could not build the service venvs"
}

# ---------------------------------------------------------------- processes

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Hex: a secret passed on a command line must never start with '-' (token_urlsafe may: then
# scim2-server's argparse took it for an option and the services did not start, 1 run in 64).
random_secret() { "$PY" -c 'import secrets; print(secrets.token_hex(24))'; }

pid_of() { if [[ -f "$STATE/$1.pid" ]]; then cat "$STATE/$1.pid"; fi; }

# True when the pid file names a live process that runs from our venv (guards pid reuse).
is_running() {
    local pid cmd
    pid=$(pid_of "$1")
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
    else
        cmd=$(ps -p "$pid" -o args= 2>/dev/null || true)
    fi
    [[ "$cmd" == *"$VENVS/$1/"* ]]
}

# launch NAME CMD... : run CMD in its own session (so stop can kill the whole process
# group, e.g. uvicorn workers), cwd .services/NAME, output to .services/NAME.log.
launch() {
    local name=$1
    shift
    (
        cd "$STATE/$name"
        exec "$PY" -c '
import os, sys
try:
    os.setsid()
except OSError:
    pass
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
    ) >"$STATE/$name.log" 2>&1 </dev/null &
    echo "$!" >"$STATE/$name.pid"
}

# probe URL [HEADER...] : exit 0 when URL answers 2xx within 3 s.
probe() {
    "$PY" - "$@" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
req = urllib.request.Request(sys.argv[1])
for h in sys.argv[2:]:
    k, _, v = h.partition(": ")
    req.add_header(k, v)
with urllib.request.urlopen(req, timeout=3) as r:
    sys.exit(0 if 200 <= r.status < 300 else 1)
EOF
}

# What to probe for each service (readiness == the API the tests use answers).
probe_service() {
    local name=$1 port
    port=$(cat "$STATE/$name.port" 2>/dev/null) || return 1
    case $name in
        mlflow) probe "http://127.0.0.1:$port/api/2.0/mlflow/registered-models/search?max_results=1" ;;
        ralph) probe "http://127.0.0.1:$port/__heartbeat__" ;;
        scim) probe "http://127.0.0.1:$port/v2/ServiceProviderConfig" \
            "Authorization: Bearer $(cat "$STATE/scim/token")" ;;
    esac
}

start_mlflow() {
    local port=$1 dir="$STATE/mlflow"
    mkdir -p "$dir/artifacts"
    # No telemetry (no internet in CI); no job runner (7 huey workers the registry never uses).
    MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false \
        launch mlflow "$VENVS/mlflow/bin/mlflow" server \
        --host 127.0.0.1 --port "$port" --workers 1 \
        --backend-store-uri "sqlite:///$dir/mlflow.db" \
        --artifacts-destination "$dir/artifacts"
}

start_ralph() {
    local port=$1 dir="$STATE/ralph" password
    mkdir -p "$dir/data"
    password=$(random_secret)
    (umask 077 && printf '%s\n' "$password" >"$dir/password")
    # Ralph's HTTP basic auth reads users (bcrypt hashes, scopes, agent) from RALPH_AUTH_FILE;
    # `ralph auth --write-to-disk` is the supported way to add one.
    # (ralph imports its API module here too, hence the backend setting.)
    RALPH_APP_DIR="$dir" RALPH_AUTH_FILE="$dir/auth.json" RALPH_RUNSERVER_BACKEND=fs \
        "$VENVS/ralph/bin/ralph" auth --username "$LRS_USER" --password "$password" \
        --scope all --agent-ifi-mbox "$LRS_AGENT_MBOX" --write-to-disk \
        >"$STATE/ralph.auth.log" 2>&1 ||
        { tail -n 20 "$STATE/ralph.auth.log" >&2; die "ralph auth failed"; }
    # uvicorn in-process, not `ralph runserver` (that one turns on reload and a file
    # watcher). One fix to ralph-malph 5.1.0's fs backend: it writes every POST with
    # operation_type CREATE, which refuses the existing statements file, so each POST
    # after the first fails with 500 "Statements bulk indexation failed". Append instead.
    RALPH_APP_DIR="$dir" RALPH_AUTH_FILE="$dir/auth.json" \
        RALPH_RUNSERVER_BACKEND=fs \
        RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH="$dir/data" \
        launch ralph "$VENVS/ralph/bin/python" -c '
import sys
import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend
FSLRSBackend.default_operation_type = BaseOperationType.APPEND
uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
' "$port"
}

start_scim() {
    local port=$1 dir="$STATE/scim" token
    mkdir -p "$dir"
    token=$(random_secret)
    (umask 077 && printf '%s\n' "$token" >"$dir/token")
    launch scim "$VENVS/scim/bin/scim2-server" \
        --hostname 127.0.0.1 --port "$port" --bearer-token="$token"
}

stop_service() {
    local name=$1 pid i
    pid=$(pid_of "$name")
    if [[ -n "$pid" ]] && is_running "$name"; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name: still alive after 10 s, sending SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
        log "$name: stopped (pid $pid)"
    fi
    rm -f "$STATE/$name.pid" "$STATE/$name.port"
}

write_env_file() {
    local tmp="$ENV_FILE.tmp.$$" name port
    {
        echo "# Written by tests/services/services.sh start; removed by stop."
        for name in "${SERVICES[@]}"; do
            port=$(cat "$STATE/$name.port")
            case $name in
                mlflow) echo "AIMSCHECK_TEST_MLFLOW_URL=http://127.0.0.1:$port" ;;
                ralph)
                    echo "AIMSCHECK_TEST_LRS_URL=http://127.0.0.1:$port/xAPI"
                    echo "AIMSCHECK_TEST_LRS_USER=$LRS_USER"
                    echo "AIMSCHECK_TEST_LRS_PASSWORD=$(cat "$STATE/ralph/password")"
                    ;;
                scim)
                    echo "AIMSCHECK_TEST_SCIM_URL=http://127.0.0.1:$port/v2"
                    echo "AIMSCHECK_TEST_SCIM_TOKEN=$(cat "$STATE/scim/token")"
                    ;;
            esac
        done
    } >"$tmp"
    chmod 600 "$tmp"
    mv -f "$tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------- commands

cmd_start() {
    local name port t0 deadline started=() failed=0
    t0=$(now)
    ensure_venvs "${SERVICES[@]}"
    # Whatever goes wrong from here on, leave no half-started set of servers behind.
    trap 'log "start failed; stopping the services"; cmd_stop' EXIT
    for name in "${SERVICES[@]}"; do
        if is_running "$name" && probe_service "$name"; then
            log "$name: already running on port $(cat "$STATE/$name.port") (pid $(pid_of "$name"))"
            continue
        fi
        stop_service "$name" # clears a stale pid file or a hung process
        rm -rf "${STATE:?}/$name" # every fresh start begins with empty data
        mkdir -p "$STATE/$name"
        port=$(free_port)
        echo "$port" >"$STATE/$name.port"
        "start_$name" "$port"
        started+=("$name")
        log "$name: starting on 127.0.0.1:$port (pid $(pid_of "$name"), log .services/$name.log)"
    done
    for name in ${started[@]+"${started[@]}"}; do
        deadline=$(($(date +%s) + TIMEOUT))
        until probe_service "$name"; do
            if ! is_running "$name"; then
                log "$name: process exited before it answered"
                failed=1
                break
            fi
            if (($(date +%s) >= deadline)); then
                log "$name: no answer within ${TIMEOUT} s"
                failed=1
                break
            fi
            sleep 0.5
        done
        if [[ $failed == 1 ]]; then
            log "$name: last lines of .services/$name.log:"
            tail -n 40 "$STATE/$name.log" >&2 || true
            die "$name did not start"
        fi
        log "$name: ready"
    done
    write_env_file
    trap - EXIT
    log "all services up in $(elapsed "$t0") s; wrote .services.env"
}

cmd_stop() {
    local name
    for name in "${SERVICES[@]}"; do stop_service "$name"; done
    rm -f "$ENV_FILE"
}

cmd_status() {
    local name bad=0 state
    for name in "${SERVICES[@]}"; do
        if ! is_running "$name"; then
            state="stopped"
            bad=1
        elif probe_service "$name"; then
            state="running  pid $(pid_of "$name")  http://127.0.0.1:$(cat "$STATE/$name.port")"
        else
            state="NOT ANSWERING  pid $(pid_of "$name")  port $(cat "$STATE/$name.port" 2>/dev/null || echo '?')"
            bad=1
        fi
        if venv_is_current "$name"; then
            printf '%-7s %s\n' "$name" "$state"
        else
            printf '%-7s %s  (venv missing or out of date)\n' "$name" "$state"
        fi
    done
    [[ -f "$ENV_FILE" ]] && echo "env file: $ENV_FILE" || echo "env file: (none)"
    return $bad
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 {start|stop|status}" >&2
        exit 2
        ;;
esac
