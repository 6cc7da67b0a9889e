#!/usr/bin/env bash
# Module 6, drill disk full: the instance's data folder on a 30 MiB tmpfs,
# filled while it takes writes. Mounting needs root: run it as root on a
# training machine. Needs curl and jq.
source "$(dirname "$0")/instance.sh"
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

step "cause: fill what is left of the file system"
cat /dev/zero >data/filler 2>/dev/null || true
df -h data | tail -n 1
"$STORESYNC" load --url "$S" --login "admin:$STORESYNC_DEMO_PASSWORD" --rate 0 --duration 5s >load.txt ||
  fail "the load lost acknowledged writes: $(cat load.txt)"

step "see: writes refused with 503, the log says why, nothing acknowledged lost"
grep -E 'writes acknowledged|lost / duplicated' load.txt
grep -q 'writes acknowledged .* ([1-9][0-9]* failed)' load.txt || fail "no write failed"
eventually 10 "log: database or disk is full" logged 'database or disk is full'
STATUS=$(notice "while full")
echo "$STATUS $(jq -r .error.code answer.json)"
[ "$STATUS" = 503 ] || fail "a write answered $STATUS on a full disk"

step "recover: free the space; writes resume by themselves"
rm data/filler
written() { [ "$(notice "space again")" = 200 ]; }
eventually 30 "writes work again" written
