#!/usr/bin/env bash
# Module 6, drill error_rate_high and a locked database: another process
# holds SQLite's write lock (a sqlite3 session in BEGIN EXCLUSIVE). Needs
# curl, jq and sqlite3.
source "$(dirname "$0")/instance.sh"
needs curl jq sqlite3
start_instance --alert-errors-per-min 0
TOKEN=$(login admin)
notice() {
  curl -s -o answer.json -w '%{http_code}\n' -X PATCH "$S/api/v1/stores/s1/dashboard" \
    -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "{\"notice\":\"$1\"}"
}

step "cause: a sqlite3 session takes the write lock and keeps it"
# The session reads its commands from a pipe, as if typed at its prompt.
mkfifo sqlite-input
sqlite3 data/storesync.db <sqlite-input &
exec 3>sqlite-input
echo 'BEGIN EXCLUSIVE;' >&3

step "see: a write waits for the busy timeout (10 s), then 503"
STATUS=$(notice "during the lock")
echo "$STATUS $(jq -r .error.code answer.json)"
[ "$STATUS" = 503 ] || fail "the write answered $STATUS"
eventually 20 "log: group commit failed ... database is locked" logged 'database is locked'
expect 200 "$S/api/v1/stores/s1/products?page_size=1" -H "Authorization: Bearer $TOKEN"
expect 200 "$S/readyz"
metric 'storesync_errors_total{code="unavailable"}'
eventually 20 "error_rate_high firing" firing error_rate_high

step "recover: end the other session's transaction"
echo 'ROLLBACK;' >&3
exec 3>&-
written() { [ "$(notice "after the lock")" = 200 ]; }
eventually 30 "writes work again, without a restart" written
