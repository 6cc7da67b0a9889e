#!/usr/bin/env bash
# Module 6, drill resync_rate_high and a store restart: an open "tab" on s1
# while the store's actor restarts. Needs curl, jq and node.
source "$(dirname "$0")/instance.sh"
needs curl jq node
start_instance --alert-resyncs-per-min 0
TOKEN=$(login admin)
STORESYNC_URL=$S STORESYNC_TOKEN=$TOKEN node "$DRILLS/subscriber.mjs" s1 --for 60 >tab.log &
eventually 20 "the tab subscribed" grep -q subscribed tab.log

step "cause: restart the store's actor"
expect 202 -X POST "$S/api/v1/admin/stores/s1/reload" -H "Authorization: Bearer $TOKEN"

step "see: the log, the counters, the alert, and the tab told to resync"
eventually 20 "log: store reload requested" logged 'store reload requested'
eventually 20 "log: store reloaded" logged 'store reloaded'
metric 'storesync_store_restarts_total{store="s1"}'
metric 'storesync_resyncs_total{reason="store_restart"}'
eventually 20 "resync_rate_high firing" firing resync_rate_high
eventually 20 "the tab got resync reason=store_restart" grep -q 'resync reason=store_restart' tab.log

step "recover: nothing to do; the alert clears a sample later"
eventually 20 "log: alert cleared alert=resync_rate_high" logged 'alert cleared alert=resync_rate_high'
