#!/usr/bin/env bash
# The load scenarios of docs/benchmarks.md: a release server pinned to core 0,
# `storesync load` pinned to core 1, each scenario run RUNS times on a fresh
# data dir. Prints one JSON report per run into $OUT.
#   benches/load-scenarios.sh [scenario...]   (default: all)
# LOAD_ARGS adds load options to every run (`--compression`: the subscribers
# negotiate permessage-deflate), SERVER_ARGS server options; PORT (18100)
# lets two sets run side by side.
set -euo pipefail
BIN=${BIN:-target/release/storesync}
OUT=${OUT:-/tmp/storesync-load}
RUNS=${RUNS:-3}
PASSWORD=bench-password
PORT=${PORT:-18100}
mkdir -p "$OUT"
# 10,000 sockets on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

serve() { # $1: data dir
  STORESYNC_DEMO_PASSWORD=$PASSWORD taskset -c 0 "$BIN" --addr 127.0.0.1:$PORT --data-dir "$1" \
    --max-connections-per-principal 20000 --max-connections-per-ip 20000 --log-level warn --ws-frames-per-sec 1000 ${SERVER_ARGS:-} >/dev/null 2>&1 &
  SERVER=$!
  until curl -sf http://127.0.0.1:$PORT/healthz >/dev/null; do sleep 0.2; done
}

load() { # $1: name, $2: run, rest: load options
  local name=$1 run=$2; shift 2
  STORESYNC_DEMO_PASSWORD=$PASSWORD taskset -c 1 "$BIN" load --url http://127.0.0.1:$PORT \
    --server-pid "$SERVER" --json ${LOAD_ARGS:-} "$@" > "$OUT/$name-$run.json" || true
}

scenario() { # $1: name, rest: load options
  local name=$1; shift
  for run in $(seq 1 "$RUNS"); do
    local dir; dir=$(mktemp -d)
    serve "$dir"
    load "$name" "$run" "$@"
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
    rm -rf "$dir"
  done
}

want=${*:-fanout saturation idle dashboard mixed}
for s in $want; do
  case $s in
    fanout) scenario fanout --subscribers 1000 --writers 4 --rate 100 --duration 30s --mix product=100 ;;
    saturation) scenario saturation --subscribers 1000 --writers 16 --rate 0 --duration 15s --mix product=100 ;;
    idle) scenario idle --subscribers 10000 --writers 1 --rate 1 --duration 5s --mix product=100 --connect-concurrency 128 ;;
    dashboard) scenario dashboard --subscribers 100 --topics dashboard,sales --writers 1 --rate 0.5 --duration 300s --mix product=60,sale=30,dashboard=10 ;;
    mixed) scenario mixed --stores s1,s2,s3 --subscribers 200 --writers 8 --rate 200 --duration 30s --mix product=50,sale=25,dashboard=10,page=15 ;;
  esac
done
