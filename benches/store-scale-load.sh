#!/usr/bin/env bash
# Scale inside a store, end to end (docs/benchmarks.md): for each catalogue
# size a fresh release server pinned to core 0, its store s1 grown to that
# many products through the import, then RUNS rounds of `storesync load`
# pinned to core 1, each round with 0, 1 and 10 distinct filtered views held
# by the subscribers; then the first read after an admin reload and after
# waking from idle. One JSON report per load run and the read times in $OUT;
# a summary table at the end (medians of the runs).
#   SIZES="1200 10000 100000" RUNS=3 benches/store-scale-load.sh
set -euo pipefail
BIN=${BIN:-target/release/storesync}
OUT=${OUT:-/tmp/storesync-scale}
RUNS=${RUNS:-3}
SIZES=${SIZES:-1200 10000 100000}
PASSWORD=bench-password
URL=http://127.0.0.1:18101
mkdir -p "$OUT"

load() {
  STORESYNC_DEMO_PASSWORD=$PASSWORD taskset -c 1 "$BIN" load --url $URL --json "$@"
}

# Seconds until the first 25-row page answers, after $1 (a command).
first_read() {
  local token=$1; shift
  "$@"
  curl -sf -o /dev/null -w '%{time_total}\n' -H "authorization: Bearer $token" "$URL/api/v1/stores/s1/products?page_size=25"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for size in $SIZES; do
  dir=$(mktemp -d)
  STORESYNC_DEMO_PASSWORD=$PASSWORD taskset -c 0 "$BIN" --addr 127.0.0.1:18101 --data-dir "$dir" \
    --log-level warn --store-idle-secs 4 >/dev/null 2>&1 &
  server=$!
  until curl -sf $URL/healthz >/dev/null; do sleep 0.2; done
  load --grow-to "$size" --subscribers 1 --writers 1 --rate 1 --duration 1s >/dev/null
  for run in $(seq 1 "$RUNS"); do
    for views in 0 1 10; do
      load --views "$views" --subscribers 20 --writers 16 --rate 0 --duration 10s --mix product=100 \
        > "$OUT/$size-$views-$run.json" || true
    done
  done
  token=$(curl -sf $URL/api/v1/auth/login -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" | jq -r .token)
  reload() { curl -sf -o /dev/null -X POST -H "authorization: Bearer $token" $URL/api/v1/admin/stores/s1/reload; }
  : > "$OUT/$size-reload.txt"
  : > "$OUT/$size-wake.txt"
  for _ in $(seq 1 "$RUNS"); do
    first_read "$token" reload >> "$OUT/$size-reload.txt"
    first_read "$token" sleep 7 >> "$OUT/$size-wake.txt"
  done
  kill "$server"; wait "$server" 2>/dev/null || true
  rm -rf "$dir"
done

printf '%-8s %-6s %-34s %-10s %-24s %s\n' products views 'writes/s (runs)' median 'fan-out p99 ms (runs)' 'ratio to 0 views (runs)'
for size in $SIZES; do
  for views in 0 1 10; do
    rates=() p99s=() ratios=()
    for run in $(seq 1 "$RUNS"); do
      f=$OUT/$size-$views-$run.json base=$OUT/$size-0-$run.json
      rates+=("$(jq '(.writes_acked / .duration_s) | floor' "$f")")
      p99s+=("$(jq '.latency_ms.p99 * 10 | round / 10' "$f")")
      ratios+=("$(jq -n --slurpfile a "$f" --slurpfile b "$base" '($a[0].writes_acked / $b[0].writes_acked * 100 | round) / 100')")
    done
    printf '%-8s %-6s %-34s %-10s %-24s %s (median %s)\n' "$size" "$views" "${rates[*]}" \
      "$(printf '%s\n' "${rates[@]}" | median)" "${p99s[*]} (median $(printf '%s\n' "${p99s[@]}" | median))" \
      "${ratios[*]}" "$(printf '%s\n' "${ratios[@]}" | median)"
  done
  echo "$size first read after reload (s): $(tr '\n' ' ' < "$OUT/$size-reload.txt")median $(median < "$OUT/$size-reload.txt")"
  echo "$size first read after waking from idle (s): $(tr '\n' ' ' < "$OUT/$size-wake.txt")median $(median < "$OUT/$size-wake.txt")"
done
