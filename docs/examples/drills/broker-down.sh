#!/usr/bin/env bash
# Module 6, drill broker_down: a two-node cluster on one machine with a Redis
# of its own, the Redis stopped and started again. Needs curl, jq, node,
# redis-server and an empty PostgreSQL database:
#
#   createdb -h 127.0.0.1 -U postgres training
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/training REDIS_PORT=6390 bash broker-down.sh
source "$(dirname "$0")/instance.sh"
needs curl jq node redis-server redis-cli
[ -n "${DATABASE_URL:-}" ] || skip "needs an empty PostgreSQL database in DATABASE_URL"
REDIS_PORT=${REDIS_PORT:-6390}
redis() { redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null & }
redis
redis_up() { redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; }
eventually 10 "redis-server answers" redis_up
for node in 1 2; do
  start_instance --database-url "$DATABASE_URL" --broker-url "redis://127.0.0.1:$REDIS_PORT"
  NODE[$node]=$S
done
TOKEN=$(S=${NODE[1]} login admin)
broker() { [ "$(curl -s "${NODE[$1]}/readyz" | jq -r .broker)" = "$2" ]; }
eventually 20 "both nodes on the broker" eval 'broker 1 up && broker 2 up'
# A storefront tab on node 2.
STORESYNC_URL=${NODE[2]} STORESYNC_TOKEN=$TOKEN node "$DRILLS/subscriber.mjs" s1 --for 60 >tab.log &
eventually 20 "the tab on node 2 subscribed" grep -q subscribed tab.log

step "cause: stop Redis"
redis-cli -p "$REDIS_PORT" shutdown nosave || true
eventually 20 "node 1 /readyz: broker down" broker 1 down
curl -s "${NODE[1]}/readyz"; echo
eventually 20 "log: broker down: delivering by reading the database" logged 'broker down: delivering by reading the database'
eventually 20 "broker_down firing" eval 'S=${NODE[1]} firing broker_down'

step "see: a price changed through node 1 still reaches the tab on node 2"
PRODUCT=$(curl -sf "${NODE[1]}/api/v1/stores/s1/products?page_size=1" -H "Authorization: Bearer $TOKEN" | jq .rows[0].id)
SEQ=$(curl -sf -X PATCH "${NODE[1]}/api/v1/stores/s1/products/$PRODUCT" -H "Authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' -d '{"price": 4242}' | jq .seq)
reached() { grep -q "batch to=$SEQ\$" tab.log; }
eventually 20 "the tab on node 2 got seq $SEQ" reached

step "recover: start Redis again; the nodes return to it"
redis
eventually 20 "both nodes on the broker again" eval 'broker 1 up && broker 2 up'
[ "$(grep -c 'broker connected' storesync.log)" -ge 4 ] || fail "no 'broker connected' after the outage"
grep -o 'broker connected.*' storesync.log | tail -n 2
