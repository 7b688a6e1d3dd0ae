#!/usr/bin/env bash
# A session killed with SIGKILL midway, and one stopped with SIGINT, resume to
# the same culprit, keeping every sample stored before the kill.
source "$(dirname "$0")/lib.sh"

culprit=$(make_repo "$WORK/repo" 24 9 0.05)
write_config "$WORK/perfbisect.toml" "$WORK/repo" 6
db="$WORK/p.db"

samples() { sqlite3 "$db" "SELECT count(*) FROM samples" 2>/dev/null || echo 0; }

wait_for_samples() {  # wait_for_samples N: until the database holds N samples (max 60 s)
  local i
  for i in $(seq 1 600); do
    [ "$(samples)" -ge "$1" ] && return 0
    sleep 0.1
  done
  fail "no progress: $(samples) samples"
}

# 1. SIGKILL in the middle of the search.
"$PERFBISECT" run --config "$WORK/perfbisect.toml" --good good --bad bad --db "$db" -q \
  > /dev/null 2> "$WORK/run.err" &
pid=$!
wait_for_samples 20
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
before=$(samples)
session=$(sqlite3 "$db" "SELECT id FROM sessions")
[ "$(sqlite3 "$db" "SELECT status FROM sessions")" = "running" ] || fail "killed session not running"
last_id=$(sqlite3 "$db" "SELECT max(id) FROM samples")
checksum=$(sqlite3 "$db" "SELECT sum(value) FROM samples")

"$PERFBISECT" resume "$session" --db "$db" --format json -q > "$WORK/resumed.json"
[ "$(json "$WORK/resumed.json" "d['status']")" = "culprit_found" ] || fail "resume did not finish"
[ "$(json "$WORK/resumed.json" "d['culprits'][0]['commit']")" = "$culprit" ] || fail "wrong culprit after resume"
# Every sample from before the kill is still there and counted in the report.
[ "$(sqlite3 "$db" "SELECT count(*) FROM samples WHERE id <= $last_id")" = "$before" ] || fail "samples lost"
[ "$(sqlite3 "$db" "SELECT sum(value) FROM samples WHERE id <= $last_id")" = "$checksum" ] || fail "samples changed"
after=$(json "$WORK/resumed.json" "d['cost']['samples']")
[ "$after" -gt "$before" ] || fail "report counts $after samples, $before existed before the kill"
echo "SIGKILL: $before samples before the kill, $after in the finished report"

# 2. SIGINT: exit 130, a resumable session, then the same culprit.
rm -f "$db"*
"$PERFBISECT" run --config "$WORK/perfbisect.toml" --good good --bad bad --db "$db" -q \
  > /dev/null 2> "$WORK/int.err" &
pid=$!
wait_for_samples 15
kill -INT "$pid"
set +e
wait "$pid"
code=$?
set -e
[ "$code" -eq 130 ] || fail "SIGINT exit code $code, want 130"
grep -q "perfbisect resume" "$WORK/int.err" || fail "no resume hint: $(cat "$WORK/int.err")"
[ "$(wc -l < "$WORK/int.err")" -eq 1 ] || fail "more than one line on stderr: $(cat "$WORK/int.err")"
session=$(sqlite3 "$db" "SELECT id FROM sessions")
"$PERFBISECT" resume "$session" --db "$db" --format json -q > "$WORK/int.json"
[ "$(json "$WORK/int.json" "d['culprits'][0]['commit']")" = "$culprit" ] || fail "wrong culprit after SIGINT"
# No probe process was left behind.
if pgrep -f "$WORK/db" > /dev/null; then fail "stray processes"; fi
echo "PASS"
