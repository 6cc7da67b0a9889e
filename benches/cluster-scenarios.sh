#!/usr/bin/env bash
# The scale-out comparison of docs/benchmarks.md: one node on SQLite, one node
# on PostgreSQL, three nodes on PostgreSQL + Redis (subscribers and writers
# spread over the nodes by `storesync load`), each scenario run RUNS times
# on a fresh database. Prints one JSON report per run into $OUT.
#   benches/cluster-scenarios.sh [sqlite|postgres|cluster]...   (default: all)
#   SCENARIOS="fanout saturation" (default)
# Nothing is pinned: three nodes, PostgreSQL, Redis and the load generator
# share the machine's cores, which is the overhead this measures.
set -euo pipefail
BIN=${BIN:-target/release/storesync}
OUT=${OUT:-/tmp/storesync-cluster}
RUNS=${RUNS:-3}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
REDIS_PORT=${REDIS_PORT:-16379}
PASSWORD=bench-password
mkdir -p "$OUT"
PIDS=()
URLS=()

node() { # $1: port, $2: data dir, rest: server options
  local port=$1 dir=$2; shift 2
  STORESYNC_DEMO_PASSWORD=$PASSWORD "$BIN" --addr "127.0.0.1:$port" --data-dir "$dir" \
    --max-connections-per-principal 20000 --max-connections-per-ip 20000 --log-level warn \
    --ws-frames-per-sec 1000 --writes-per-sec 100000 "$@" >/dev/null 2>&1 &
  PIDS+=($!)
  URLS+=("http://127.0.0.1:$port")
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done
}

fresh_database() {
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS storesync_bench WITH (FORCE)" -c "CREATE DATABASE storesync_bench"
  echo "$PG/storesync_bench?sslmode=disable"
}

start() { # $1: setup, $2: data dir
  PIDS=()
  URLS=()
  case $1 in
    sqlite) node 18101 "$2" ;;
    postgres) node 18101 "$2" --database-url "$(fresh_database)" ;;
    cluster)
      local db; db=$(fresh_database)
      redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes >/dev/null
      for port in 18101 18102 18103; do
        node "$port" "$2" --database-url "$db" --broker-url "redis://127.0.0.1:$REDIS_PORT"
      done ;;
  esac
}

stop() { # $1: setup
  kill "${PIDS[@]}" 2>/dev/null || true
  wait "${PIDS[@]}" 2>/dev/null || true
  if [ "$1" = cluster ]; then redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
}

load() { # $1: report file, rest: load options
  local report=$1; shift
  local urls=()
  for url in "${URLS[@]}"; do urls+=(--url "$url"); done
  STORESYNC_DEMO_PASSWORD=$PASSWORD "$BIN" load "${urls[@]}" --server-pid "${PIDS[0]}" --json "$@" > "$report" || true
}

run() { # $1: setup, $2: scenario
  for n in $(seq 1 "$RUNS"); do
    local dir; dir=$(mktemp -d)
    start "$1" "$dir"
    case $2 in
      fanout) load "$OUT/$1-fanout-$n.json" --subscribers 1000 --writers 4 --rate 100 --duration 30s --mix product=100 ;;
      saturation) load "$OUT/$1-saturation-$n.json" --subscribers 1000 --writers 16 --rate 0 --duration 15s --mix product=100 ;;
    esac
    stop "$1"
    rm -rf "$dir"
  done
}

for setup in ${*:-sqlite postgres cluster}; do
  for scenario in ${SCENARIOS:-fanout saturation}; do
    run "$setup" "$scenario"
  done
done
