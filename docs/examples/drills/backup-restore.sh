#!/usr/bin/env bash
# Module 4: an online backup of the database and media, a change after it,
# and a restore that brings the backed-up state back. Needs curl, jq and
# sqlite3.
source "$(dirname "$0")/instance.sh"
needs curl jq sqlite3
start_instance
TOKEN=$(login admin)
notice() {
  curl -sf -X PATCH "$S/api/v1/stores/s1/dashboard" -H "Authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -d "{\"notice\":\"$1\"}" | jq .seq
}

step "1. a change you will recognise; note the store's seq"
BACKED_UP_SEQ=$(notice "before the backup")
echo "seq $BACKED_UP_SEQ"

step "2. back up while the server runs (SQLite's online backup)"
# media/ appears with the first image upload: create it so the copy works.
mkdir -p backup data/media
sqlite3 data/storesync.db ".backup backup/storesync.db"
cp -a data/media backup/

step "3. a change after the backup"
notice "after the backup"

step "4. restore: stop the server, put the copy back, start again"
stop_instance
rm -f data/storesync.db-wal data/storesync.db-shm
cp backup/storesync.db data/storesync.db && cp -a backup/media data/
start_instance
TOKEN=$(login admin)
RESTORED=$(curl -sf "$S/api/v1/stores/s1/snapshot" -H "Authorization: Bearer $TOKEN" | jq -c '{notice: .dashboard.notice, seq}')
echo "$RESTORED"
[ "$RESTORED" = "{\"notice\":\"before the backup\",\"seq\":$BACKED_UP_SEQ}" ] || fail "not the backed-up state"
