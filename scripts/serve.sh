#!/usr/bin/env bash
# `make serve`: a local Prefect server, the work pool, every deployment in prefect.yaml, a worker.
#
# Runs until Ctrl-C (or until the worker ends), then stops, in this order: the flow runs the
# worker started (SIGTERM, so they can report themselves to the server), the worker, the server.
# The server runs in its own session so that Ctrl-C does not stop it before the others.
# Prefect 3.9.1's worker does not exit on one SIGINT (its handler cancels a task that its service
# loops outlive); a second one is turned by Prefect into SIGKILL, so the worker gets two.
#
# Environment (the Makefile sets them): VENV, SERVE_HOST, SERVE_PORT, WORK_POOL, PREFECT_HOME,
# CONTACT_REASONS_HOME (the deployments' working directory: data/incoming/, data/faq/, models/).
set -euo pipefail

bin="${VENV:-.venv}/bin"
host="${SERVE_HOST:-127.0.0.1}"
port="${SERVE_PORT:-4200}"
pool="${WORK_POOL:-contact-reasons}"
export PREFECT_API_URL="http://${host}:${port}/api"
server=
worker=

alive() {
    local pid
    for pid in "$@"; do
        if kill -0 "$pid" 2>/dev/null; then
            return 0
        fi
    done
    return 1
}

stop() {
    trap - EXIT INT TERM
    if [ -n "$worker" ]; then
        local runs
        runs=$(ps -o pid= --ppid "$worker" 2>/dev/null | xargs || true)
        if [ -n "$runs" ]; then
            echo "Stopping flow runs (PID $runs)..." >&2
            # shellcheck disable=SC2086
            kill -TERM $runs 2>/dev/null || true
            for _ in $(seq 30); do
                # shellcheck disable=SC2086
                alive $runs || break
                sleep 1
            done
            # shellcheck disable=SC2086
            kill -KILL $runs 2>/dev/null || true
        fi
        kill -INT "$worker" 2>/dev/null || true
        sleep 1
        kill -INT "$worker" 2>/dev/null || true
        wait "$worker" 2>/dev/null || true
    fi
    if [ -n "$server" ]; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
}
trap stop EXIT
trap 'exit 130' INT TERM

if command -v setsid >/dev/null; then
    setsid "$bin/prefect" server start --host "$host" --port "$port" &
else
    "$bin/prefect" server start --host "$host" --port "$port" &
fi
server=$!
for _ in $(seq 180); do
    if ! kill -0 "$server" 2>/dev/null; then
        echo "prefect server exited (is port $port in use?)" >&2
        exit 1
    fi
    if "$bin/python" -c "import urllib.request as u; u.urlopen('$PREFECT_API_URL/health', timeout=5)" \
        2>/dev/null; then
        break
    fi
    sleep 1
done
"$bin/prefect" server status

"$bin/prefect" work-pool inspect "$pool" >/dev/null 2>&1 ||
    "$bin/prefect" work-pool create "$pool" --type process
"$bin/prefect" --no-prompt deploy --all

echo "Serving: UI at http://${host}:${port}, a worker on pool '${pool}'. Ctrl-C stops all."
"$bin/prefect" worker start --pool "$pool" &
worker=$!
wait "$worker"
