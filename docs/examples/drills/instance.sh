# instance.sh: the training instance the drills of docs/training.md run on,
# sourced by each drill script (bash). Every drill gets a folder of its own
# (DRILL_DIR, a new temporary folder unless set), a free port and fresh demo
# data, so it can break things without touching anything else:
#
#   STORESYNC=/usr/local/bin/storesync bash docs/examples/drills/<drill>.sh
#
# STORESYNC names the binary (default: storesync on the PATH). The demo users
# admin, editor and viewer get STORESYNC_DEMO_PASSWORD (default
# training-password). The server's log is $DRILL_DIR/storesync.log. Each
# step prints what it checks, and the drill stops with "FAILED: ..." when
# the server does not do what the course says.
set -euo pipefail
STORESYNC=${STORESYNC:-storesync}
export STORESYNC_DEMO_PASSWORD=${STORESYNC_DEMO_PASSWORD:-training-password}
# The drills' folder (for subscriber.mjs), before moving to DRILL_DIR.
DRILLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${DRILL_DIR:-}" ]; then
  DRILL_DIR=$(mktemp -d)
  OWN_DRILL_DIR=1
fi
cd "$DRILL_DIR"
PIDS=()

step() { echo "==> $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
# skip REASON: the drill cannot run on this machine (exit 77, as automake's
# tests do).
skip() { echo "SKIPPED: $*"; exit 77; }
# needs PROGRAM...: skips the drill unless every PROGRAM is installed.
needs() {
  for program in "$@"; do
    command -v "$program" >/dev/null || skip "needs $program"
  done
}

# start_instance [FLAGS...]: starts storesync over ./data on a free port with
# health samples every second (alerts react within seconds); sets S to its
# address and PID to its process. Called again, it starts another node.
start_instance() {
  local from
  touch storesync.log
  from=$(($(wc -l <storesync.log) + 1))
  "$STORESYNC" --addr 127.0.0.1:0 --data-dir ./data --health-sample-secs 1 "$@" 2>>storesync.log >/dev/null &
  PID=$!
  PIDS+=("$PID")
  S=
  while [ -z "$S" ]; do
    kill -0 "$PID" 2>/dev/null || fail "storesync did not start: $(tail -n 3 storesync.log)"
    sleep 0.2
    S=$(tail -n +"$from" storesync.log | grep -o 'listening on http://[0-9.:]*' | head -n 1 | cut -d' ' -f3 || true)
  done
  LOG_FROM=$from
  echo "storesync $PID listening on $S"
}

# stop_instance: stops every node as Ctrl-C would (SIGINT) and waits.
stop_instance() {
  for pid in "${PIDS[@]}"; do
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

# Ends what the drill started: the instance, background jobs, and what the
# drill adds to AT_EXIT.
cleanup() {
  stop_instance
  jobs -p | xargs -r kill 2>/dev/null || true
  ${AT_EXIT:-true}
  if [ -n "${OWN_DRILL_DIR:-}" ]; then rm -rf "$DRILL_DIR"; fi
}
trap cleanup EXIT

# logged TEXT: whether the log of the running instance has a line with TEXT.
# (grep without -q reads to the end: an early exit would fail the pipe.)
logged() { tail -n +"$LOG_FROM" storesync.log | grep -- "$1" >/dev/null; }

# eventually SECS WHAT COMMAND...: runs COMMAND every half second until it
# succeeds; fails the drill after SECS seconds.
eventually() {
  local secs=$1 what=$2 until
  shift 2
  until=$((SECONDS + secs))
  until "$@"; do
    [ "$SECONDS" -lt "$until" ] || fail "$what: not within $secs s"
    sleep 0.5
  done
  echo "ok: $what"
}

# login USER: a session token of a demo user.
login() {
  jq -n --arg u "$1" --arg p "$STORESYNC_DEMO_PASSWORD" '{username: $u, password: $p}' |
    curl -sf "$S/api/v1/auth/login" -H 'content-type: application/json' -d @- | jq -r .token
}

# metric NAME: the value of one series of /metrics, e.g.
# 'storesync_resyncs_total{reason="store_restart"}' (0 while absent).
metric() {
  curl -sf "$S/metrics" | awk -v name="$1" '$1 == name { print $2; found = 1 } END { if (!found) print 0 }'
}

# alerts: the names of the firing alerts, one per line.
alerts() { curl -sf "$S/api/v1/admin/alerts" -H "Authorization: Bearer $TOKEN" | jq -r '.[].name'; }
firing() { alerts | grep -x "$1" >/dev/null; }

# expect STATUS CURL_ARGS...: runs curl, prints the answer's status and
# error code, and fails the drill unless the status is STATUS. The answer's
# body is in $DRILL_DIR/answer.json.
expect() {
  local want=$1 got
  shift
  got=$(curl -s -o answer.json -w '%{http_code}' "$@")
  echo "$got $(jq -r '.error.code // empty' answer.json 2>/dev/null || true)"
  [ "$got" = "$want" ] || fail "expected $want, got $got: $(head -c 300 answer.json)"
}
