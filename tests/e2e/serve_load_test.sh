#!/usr/bin/env bash
# Load: 500 requests from 20 concurrent clients — valid alerts, duplicates of
# them, and invalid ones of every kind — against one perfbisect serve. No
# crash, every response has the status its request deserves, and the queue
# holds exactly the distinct valid alerts, each under one session.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"

make_repo "$WORK/repo" 12 6 > /dev/null
write_config "$WORK/project.toml" "$WORK/repo"
git -C "$WORK/repo" rev-list --reverse HEAD > "$WORK/commits"
write_server "$WORK/server.toml" '
[server]
db = "db/p.db"
queue_limit = 1000

[[route]]
test = "bench"
config = "project.toml"
'
# Queue only: the load is on the HTTP side, no bisect competes with it.
start_serve serve "$WORK/server.toml" --queue-only

"${HTTPTOOL[@]}" load --url "$SERVE_URL" --secret "$PB_TEST_SECRET" --token "$PB_TEST_TOKEN" \
  --commits "$WORK/commits" --pwned "$WORK/pwned" --summary "$WORK/summary.json" \
  --requests 500 --clients 20 --distinct 60 --copies 3 || fail "wrong statuses (above)"

kill -0 "$SERVE_PID" || fail "serve died under load: $(tail -5 "$WORK/serve.err")"
[ "$("${HTTPTOOL[@]}" request GET "$SERVE_URL/healthz")" = 200 ] || fail "not healthy after the load"
[ ! -e "$WORK/pwned" ] || fail "an injected command ran"
queued=$(sqlite3 "$WORK/db/p.db" "SELECT count(*) FROM alert_queue")
distinct=$(sqlite3 "$WORK/db/p.db" "SELECT count(DISTINCT session_id) FROM alert_queue")
[ "$queued" = 60 ] || fail "the queue holds $queued alerts, want the 60 distinct valid ones"
[ "$distinct" = 60 ] || fail "$distinct sessions for 60 alerts"
answered=$(json "$WORK/summary.json" "' '.join(d['sessions'])")
[ "$(sqlite3 "$WORK/db/p.db" "SELECT session_id FROM alert_queue ORDER BY session_id" | tr '\n' ' ' | sed 's/ $//')" = "$answered" ] \
  || fail "the sessions answered are not the sessions queued"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "serve exited $?"
echo "queue: $queued entries, $distinct sessions"
echo "PASS"
