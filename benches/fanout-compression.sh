#!/usr/bin/env bash
# Fan-out with and without permessage-deflate (issue #15), docs/benchmarks.md:
# one release server on 127.0.0.1, its subscribers spread over PROCS
# `storesync load` processes (one process reading 1,000 compressed sockets
# was the bottleneck, not the server), each writing RATE/PROCS writes/s.
# Runs alternate plain and compressed, each on a fresh data dir, and print
# one line per run; the reports are kept in $OUT.
#   benches/fanout-compression.sh
# RUNS (3), PROCS (4), SUBSCRIBERS (1000), RATE (100), DURATION (30 s), PORT.
#
# - p99: the highest of the processes' p99 (each is over its own writes and
#   subscribers, a quarter of the samples; the p99 of all of them is at most
#   that);
# - server CPU per delivery: the server's utime + stime (/proc) from the
#   moment all subscribers are in until every process has exited, over
#   every acknowledged write times every subscriber.
set -euo pipefail
BIN=${BIN:-target/release/storesync}
OUT=${OUT:-/tmp/storesync-fanout-compression}
RUNS=${RUNS:-3}
PROCS=${PROCS:-4}
SUBSCRIBERS=${SUBSCRIBERS:-1000}
RATE=${RATE:-100}
DURATION=${DURATION:-30}
PASSWORD=bench-password
PORT=${PORT:-18200}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cpu_ticks() { # utime + stime of $1, in clock ticks
  awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

subscribed() { # subscriptions the server holds on s1
  curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^storesync_subscriptions\{store="s1"\}/ { print $2 }'
}

run() { # $1: plain|compressed, $2: run number
  local mode=$1 n=$2 dir pids=() compression=
  [ "$mode" = compressed ] && compression=--compression
  dir=$(mktemp -d)
  STORESYNC_DEMO_PASSWORD=$PASSWORD "$BIN" --addr 127.0.0.1:$PORT --data-dir "$dir" \
    --max-connections-per-principal 20000 --max-connections-per-ip 20000 --log-level warn \
    --ws-frames-per-sec 1000 >/dev/null 2>&1 &
  local server=$!
  until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do sleep 0.2; done
  for p in $(seq 1 "$PROCS"); do
    STORESYNC_DEMO_PASSWORD=$PASSWORD timeout $((DURATION + 180)) "$BIN" load --url "http://127.0.0.1:$PORT" \
      --subscribers $((SUBSCRIBERS / PROCS)) --writers 1 --rate "$(echo "$RATE / $PROCS" | bc -l)" \
      --duration "${DURATION}s" --mix product=100 --json $compression >"$OUT/$mode-$n-$p.json" 2>/dev/null &
    pids+=($!)
  done
  local waited=0
  until [ "$(subscribed)" = "$SUBSCRIBERS" ] || [ $waited -ge 600 ]; do sleep 0.1; waited=$((waited + 1)); done
  local before; before=$(cpu_ticks "$server")
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  local after; after=$(cpu_ticks "$server")
  kill "$server"; wait "$server" 2>/dev/null || true
  rm -rf "$dir"
  jq -s --arg mode "$mode" --argjson n "$n" --argjson subs "$SUBSCRIBERS" \
    --argjson ticks $((after - before)) --argjson hz "$(getconf CLK_TCK)" '
    (map(.writes_acked) | add) as $writes
    | {mode: $mode, run: $n, writes: $writes, lost: (map(.lost) | add),
       p99_ms: (map(.latency_ms.p99) | max), p50_ms: (map(.latency_ms.p50) | max),
       server_cpu_s: ($ticks / $hz),
       server_cpu_us_per_delivery: ($ticks / $hz * 1e6 / ($writes * $subs))}' \
    "$OUT/$mode-$n-"*.json | tee "$OUT/$mode-$n.summary.json" | jq -c .
}

for n in $(seq 1 "$RUNS"); do
  run plain "$n"
  run compressed "$n"
done
