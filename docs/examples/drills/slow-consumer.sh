#!/usr/bin/env bash
# Module 6, drill sync_success_low and slow consumers: a subscriber that
# stops reading its socket while a load writes: its page of 200 rows changes
# with every write, the socket's buffers fill, then its queue of
# --outbox-capacity frames. Needs curl, jq and node.
source "$(dirname "$0")/instance.sh"
needs curl jq node
start_instance
TOKEN=$(login admin)

step "cause: a subscriber that does not read for 15 s, and 200 writes/s"
STORESYNC_URL=$S STORESYNC_TOKEN=$TOKEN node "$DRILLS/subscriber.mjs" s1 --stall 15 --for 30 >stalled.log &
eventually 20 "the stalled subscriber subscribed" grep -q subscribed stalled.log
"$STORESYNC" load --url "$S" --login "admin:$STORESYNC_DEMO_PASSWORD" --subscribers 10 --rate 200 --duration 5s >load.txt ||
  fail "the load's readers lost something: $(cat load.txt)"

step "see: its queue dropped and a resync sent; the others got everything"
eventually 20 "log: slow consumer: queue dropped, resync sent" logged 'slow consumer: queue dropped, resync sent'
metric 'storesync_resyncs_total{reason="slow_consumer"}'
metric 'storesync_deliveries_dropped_total{store="s1"}'
grep -E 'lost / duplicated|^resyncs' load.txt
eventually 30 "sync_success_low fired" logged 'alert firing alert=sync_success_low'

step "recover: nothing to do; reading again, the client gets its resync"
eventually 30 "the subscriber read resync reason=slow_consumer" grep -q 'resync reason=slow_consumer' stalled.log
