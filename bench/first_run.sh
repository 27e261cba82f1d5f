#!/usr/bin/env bash
# A newcomer's first five minutes: fresh clone -> `make run` -> first answer, then a restart.
#
#   bash bench/first_run.sh [REPO]      # default: this checkout (its committed HEAD)
#
# Clones REPO into a temporary folder, runs `make run` there on a free loopback port and times
# until `{ songs(first: 1) { totalCount } }` answers; stops it (SIGTERM), runs `make run` again
# on the same data and times that start. Prints the phases (install, catalog import) from the
# stamp file and the server log (both logs are kept in bench/results/). Bounded: each start is given at most 600 s.
set -euo pipefail
repo=${1:-$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
body='{"query": "{ songs(first: 1) { totalCount } }"}'

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

start_and_wait() {  # $1: log file; prints the seconds until the first answer
    local t0 pid
    t0=$(now)
    (cd "$work/madhur" && exec setsid env MADHUR_PORT="$port" make run) >"$1" 2>&1 &
    pid=$!
    until curl -sf -m 5 "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' \
        -d "$body" 2>/dev/null | grep -q totalCount; do
        kill -0 "$pid" 2>/dev/null || { echo "make run exited; log: $1" >&2; cat "$1" >&2; exit 1; }
        [ "$(since "$t0" "$(now)" | cut -d. -f1)" -lt 600 ] || { echo "no answer in 600 s" >&2; exit 1; }
        sleep 0.2
    done
    since "$t0" "$(now)"
    echo "$pid" >"$work/pid"
}

stop() {
    local pid
    pid=$(cat "$work/pid")
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
}

git clone -q "$repo" "$work/madhur"
t_clone=$(now)
first=$(start_and_wait "$work/first.log")
install=$(since "$t_clone" "$(stat -c %Y.0 "$work/madhur/.venv/.run-stamp")")
import=$(grep 'demo catalog imported' "$work/first.log" | grep -oE 'seconds[^0-9]*[0-9.]+' | grep -oE '[0-9.]+$' || echo "?")
stop
second=$(start_and_wait "$work/second.log")
stop
mkdir -p "$(dirname "$0")/results"
cp "$work/first.log" "$work/second.log" "$(dirname "$0")/results/"
echo "fresh clone -> first answer: ${first} s (install ~${install} s, catalog import ${import} s)"
echo "second start -> first answer: ${second} s"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
