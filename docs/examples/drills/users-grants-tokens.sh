#!/usr/bin/env bash
# Module 2: a user with a grant on one store, a password reset that ends her
# sessions, and a scoped API token created and revoked. Needs curl and jq.
source "$(dirname "$0")/instance.sh"
needs curl jq
start_instance
TOKEN=$(login admin)
auth=(-H "Authorization: Bearer $TOKEN" -H 'content-type: application/json')

step "a user without grants, then editor of s2"
expect 201 "$S/api/v1/admin/users" "${auth[@]}" \
  -d '{"username":"maria","password":"a-long-password","is_admin":false}'
MARIA_ID=$(jq .id answer.json)
expect 200 -X PUT "$S/api/v1/admin/users/$MARIA_ID/grants/s2" "${auth[@]}" -d '{"role":"editor"}'
curl -sf "$S/api/v1/admin/users" "${auth[@]}" | jq -c '.[] | select(.username == "maria") | {username, grants}'

step "maria sees s2 only; s1 does not exist for her"
MARIA=$(curl -sf "$S/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"maria","password":"a-long-password"}' | jq -r .token)
curl -sf "$S/api/v1/me" -H "Authorization: Bearer $MARIA" | jq -c '[.stores[].slug]'
expect 200 "$S/api/v1/stores/s2/products?page_size=1" -H "Authorization: Bearer $MARIA"
expect 404 "$S/api/v1/stores/s1/products?page_size=1" -H "Authorization: Bearer $MARIA"

step "a password reset ends her sessions at once"
expect 204 -X PUT "$S/api/v1/admin/users/$MARIA_ID/password" "${auth[@]}" -d '{"password":"another-long-one"}'
expect 401 "$S/api/v1/stores/s2/products?page_size=1" -H "Authorization: Bearer $MARIA"

step "a read-only token for s1 and s2, valid 90 days, then revoked"
expect 201 "$S/api/v1/admin/tokens" "${auth[@]}" \
  -d '{"name":"reporting","role":"viewer","stores":["s1","s2"],"expires_in_days":90}'
REPORTING_ID=$(jq .id answer.json)
REPORTING=$(jq -r .token answer.json)
expect 200 "$S/api/v1/stores/s2/products?page_size=1" -H "Authorization: Bearer $REPORTING"
expect 204 -X DELETE "$S/api/v1/admin/tokens/$REPORTING_ID" "${auth[@]}"
expect 401 "$S/api/v1/stores/s2/products?page_size=1" -H "Authorization: Bearer $REPORTING"
