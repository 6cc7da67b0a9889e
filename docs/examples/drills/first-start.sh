#!/usr/bin/env bash
# Module 1 (and module 8): install and first start, a restart, and
# `storesync migrate` on an existing database. Needs curl and jq.
source "$(dirname "$0")/instance.sh"
needs curl jq

step "first start: migrations, demo data, an address"
start_instance
logged 'database ready' || fail "no 'database ready' in the log"
grep -o 'database ready.*' storesync.log
logged 'demo data seeded' || fail "no 'demo data seeded' in the log"
curl -sf "$S/healthz"; echo
curl -sf "$S/readyz"; echo
[ "$(curl -sf "$S/readyz" | jq -r .status)" = ready ] || fail "/readyz is not ready"
ls data/

step "a restart keeps the data and does not seed again"
stop_instance
start_instance
logged 'demo data seeded' && fail "demo data seeded again"

step "the README's first requests: log in, the five best sellers of s1"
TOKEN=$(curl -s $S/api/v1/auth/login -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$STORESYNC_DEMO_PASSWORD\"}" | jq -r .token)
curl -s -H "Authorization: Bearer $TOKEN" "$S/api/v1/stores/s1/products?sort=revenue&dir=desc&page_size=5" |
  jq -c '[.rows[].revenue]'

step "without a built book, /docs answers 404"
curl -s -o /dev/null -w '%{http_code}\n' "$S/docs"

step "storesync migrate, twice, on the stopped instance"
stop_instance
"$STORESYNC" migrate --data-dir ./data 2>&1 | grep -o 'migrations done.*'
"$STORESYNC" migrate --data-dir ./data 2>&1 | grep -o 'migrations done.*'
