#!/usr/bin/env bash
# Module 6, drill disk full: the instance's data folder on a 30 MiB tmpfs,
# filled while it takes writes. Mounting needs root: run it as root on a
# training machine. Needs curl and jq.
source "$(dirname "$0")/instance.sh"
needs curl jq
[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"
mkdir -p data
mount -t tmpfs -o size=30m tmpfs data || skip "cannot mount a tmpfs here"
AT_EXIT="umount -l $DRILL_DIR/data"
start_instance
TOKEN=$(login admin)
notice() {
  curl -s -o answer.json -w '%{http_code}\n' -X PATCH "$S/api/v1/stores/s1/dashboard" \
    -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "{\"notice\":\"$1\"}"
}

SEQ0=$(curl -sf "$S/api/v1/stores/s1/snapshot" -H "Authorization: Bearer $TOKEN" | jq .seq)

step "cause: fill what is left of the file system, but 1 MiB, while writes go on"
cat /dev/zero >data/filler 2>/dev/null || true
truncate -s -1M data/filler
df -h data | tail -n 1
# Dashboard writes, one seq each, as fast as they go. A login writes a
# session: the load uses the token from before the fault.
"$STORESYNC" load --url "$S" --token "$TOKEN" --subscribers 0 --mix dashboard=1 --rate 0 --duration 5s --json >load.json
jq -c '{writes_acked, write_errors}' load.json
ACKED=$(jq .writes_acked load.json)
[ "$(jq .write_errors load.json)" -gt 0 ] || fail "no write failed"

step "see: writes refused with 503, and the log says why"
eventually 10 "log: database or disk is full" logged 'database or disk is full'
STATUS=$(notice "while full")
echo "$STATUS $(jq -r .error.code answer.json)"
[ "$STATUS" = 503 ] || fail "a write answered $STATUS on a full disk"

step "recover: free the space; writes resume by themselves"
rm data/filler
written() { [ "$(notice "space again")" = 200 ]; }
eventually 30 "writes work again" written

step "nothing acknowledged was lost: every one has its seq, also after a restart"
SEQ=$(jq .seq answer.json)
echo "seq $SEQ0 before, $ACKED acknowledged during the fault, seq $SEQ after"
[ "$SEQ" = $((SEQ0 + ACKED + 1)) ] || fail "seq $SEQ is not $SEQ0 + $ACKED + 1"
stop_instance
start_instance
TOKEN=$(login admin)
RESTARTED=$(curl -sf "$S/api/v1/stores/s1/snapshot" -H "Authorization: Bearer $TOKEN" | jq -c '{notice: .dashboard.notice, seq}')
echo "$RESTARTED"
[ "$RESTARTED" = "{\"notice\":\"space again\",\"seq\":$SEQ}" ] || fail "not the state before the restart"
