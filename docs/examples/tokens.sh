#!/usr/bin/env bash
# tokens.sh: an API token for an integration, scoped to one store and one
# role, used, and revoked. Needs curl and jq.
#
#   STORESYNC_URL=http://127.0.0.1:8080 ADMIN_PASSWORD=… bash tokens.sh
#
# It logs in as a global administrator (ADMIN_USER, default admin). Each
# step prints the status it got and stops the script when it is not the
# expected one.
set -euo pipefail
URL="${STORESYNC_URL:-http://127.0.0.1:8080}/api/v1"

# 0. Log in: the answer's token is a bearer credential for this session.
ADMIN_TOKEN=$(jq -n --arg u "${ADMIN_USER:-admin}" --arg p "$ADMIN_PASSWORD" '{username: $u, password: $p}' |
  curl -sf "$URL/auth/login" -H 'content-type: application/json' -d @- | jq -r .token)

ANSWER=$(mktemp)
trap 'rm -f "$ANSWER"' EXIT

# status EXPECTED CURL_ARGS...: runs curl, prints the status and the error
# code if any, and stops unless the status is EXPECTED.
status() {
  local expected=$1; shift
  local got code
  got=$(curl -s -o "$ANSWER" -w '%{http_code}' "$@")
  code=$(jq -r '.error.code // empty' "$ANSWER" 2>/dev/null || true)
  echo "$got${code:+ $code}"
  [ "$got" = "$expected" ] || { echo "expected $expected" >&2; exit 1; }
}

# 1. A read-only token for store s1 that expires in 30 days. The secret is
#    in this answer only; storesync keeps its hash.
CREATED=$(curl -sf "$URL/admin/tokens" -H "Authorization: Bearer $ADMIN_TOKEN" \
  -H 'content-type: application/json' \
  -d '{"name": "warehouse feed", "role": "viewer", "stores": ["s1"], "expires_in_days": 30}')
ID=$(jq -r .id <<<"$CREATED")
TOKEN=$(jq -r .token <<<"$CREATED")
echo "created token id=$ID"

# 2. It reads its store...
status 200 "$URL/stores/s1/products?page_size=1" -H "Authorization: Bearer $TOKEN"
# 3. ...but another store does not exist for it (404, as for an unknown one)...
status 404 "$URL/stores/s2/products?page_size=1" -H "Authorization: Bearer $TOKEN"
# 4. ...and a viewer may not write (403 forbidden).
status 403 -X PATCH "$URL/stores/s1/dashboard" -H "Authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' -d '{"notice": "from the feed"}'

# 5. The admin's list shows it (never the secret).
curl -sf "$URL/admin/tokens" -H "Authorization: Bearer $ADMIN_TOKEN" |
  jq -c ".[] | select(.id == $ID) | {name, role, expires_at, revoked}"

# 6. Revoked, it stops working at once (401), open WebSockets included.
status 204 -X DELETE "$URL/admin/tokens/$ID" -H "Authorization: Bearer $ADMIN_TOKEN"
status 401 "$URL/stores/s1/products?page_size=1" -H "Authorization: Bearer $TOKEN"
