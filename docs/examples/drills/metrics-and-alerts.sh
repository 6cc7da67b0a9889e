#!/usr/bin/env bash
# Module 3: two open "tabs" on s1 and a change, seen in /metrics, the health
# samples and the alerts. Needs curl, jq and node.
source "$(dirname "$0")/instance.sh"
needs curl jq node
start_instance
TOKEN=$(login admin)

step "two subscribers of s1, as two open storefront tabs"
for tab in 1 2; do
  STORESYNC_URL=$S STORESYNC_TOKEN=$TOKEN node "$DRILLS/subscriber.mjs" s1 --for 30 >"tab$tab.log" &
done
connected() { [ "$(metric storesync_ws_connections)" = 2 ] && [ "$(metric 'storesync_subscriptions{store="s1"}')" = 2 ]; }
eventually 20 "storesync_ws_connections 2, storesync_subscriptions{store=\"s1\"} 2" connected
curl -s "$S/metrics" | grep -E '^storesync_(ws_connections|subscriptions|stores_loaded|sync_success_ratio)'

step "a change reaches both: writes and deliveries count it"
delivered=$(metric 'storesync_deliveries_attempted_total{store="s1"}')
curl -sf -X PATCH "$S/api/v1/stores/s1/dashboard" -H "Authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' -d '{"notice":"metrics drill"}' | jq -c '{seq}'
moved() { [ "$(metric 'storesync_deliveries_attempted_total{store="s1"}')" -ge $((delivered + 2)) ]; }
eventually 10 "storesync_deliveries_attempted_total{store=\"s1\"} grew by 2" moved
metric storesync_writes_committed_total

step "the health samples (one a second here) and the alerts"
sampled() { curl -sf "$S/api/v1/admin/health" -H "Authorization: Bearer $TOKEN" | jq -e '.samples[-1].connections == 2' >/dev/null; }
eventually 10 "a health sample counts 2 connections" sampled
curl -sf "$S/api/v1/admin/health" -H "Authorization: Bearer $TOKEN" |
  jq -c '.samples[-1] | {connections, sync_success, latency_p99_ms, resyncs, errors}'
curl -sf "$S/api/v1/admin/alerts" -H "Authorization: Bearer $TOKEN"; echo
