#!/usr/bin/env bash
# Module 7: a load test, and how to read its report. Needs jq.
source "$(dirname "$0")/instance.sh"
needs jq
start_instance

step "100 subscribers over s1 and s2, 4 writers at 100 writes/s for 5 s, every kind of write"
"$STORESYNC" load --url "$S" --login "admin:$STORESYNC_DEMO_PASSWORD" --stores s1,s2 \
  --subscribers 100 --writers 4 --rate 100 --duration 5s --mix mixed --server-pid "$PID"

step "the same as JSON, for scripts: the figures a capacity plan needs"
"$STORESYNC" load --url "$S" --login "admin:$STORESYNC_DEMO_PASSWORD" --subscribers 20 --duration 3s --json \
  --server-pid "$PID" | jq -c '{delivery_ratio, lost, duplicated, out_of_order, p99_ms: .latency_ms.p99, memory_per_connection_kib}'
