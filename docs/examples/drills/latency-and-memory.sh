#!/usr/bin/env bash
# Module 6, drill delivery_latency_high and memory_per_client_high: training
# thresholds low enough that a small load crosses them, then the alerts
# clear once the load ends. Needs curl and jq.
source "$(dirname "$0")/instance.sh"
needs curl jq
start_instance --alert-latency-p99-ms 1 --alert-memory-per-client-mb 0.01
TOKEN=$(login admin)

# The memory alert counts memory above the last sample without connections.
idle_sample() { curl -sf "$S/api/v1/admin/health" -H "Authorization: Bearer $TOKEN" | jq -e '.samples[-1].connections == 0' >/dev/null; }
eventually 10 "a health sample without connections" idle_sample

step "cause: a load of 50 subscribers for 10 s"
"$STORESYNC" load --url "$S" --login "admin:$STORESYNC_DEMO_PASSWORD" --subscribers 50 --duration 10s >load.txt &
LOAD=$!
eventually 30 "delivery_latency_high fired" logged 'alert firing alert=delivery_latency_high'
eventually 30 "memory_per_client_high fired" logged 'alert firing alert=memory_per_client_high'
curl -sf "$S/api/v1/admin/alerts" -H "Authorization: Bearer $TOKEN" | jq -c '.[] | {name, message}'
grep -o 'alert firing.*' storesync.log

step "the load's own report: every delivery arrived"
wait "$LOAD" || fail "the load failed: $(cat load.txt)"
grep 'lost / duplicated / out of order' load.txt

step "recover: without the load the alerts clear"
cleared() { [ -z "$(alerts)" ]; }
eventually 30 "no alert firing" cleared
grep -o 'alert cleared.*' storesync.log
