#!/usr/bin/env bash
# perfbisect serve stopped in the middle of a bisect, by SIGTERM (a safe
# point, exit 0) and by SIGKILL, then started again: the queued or
# interrupted session continues and ends with the planted culprit, with every
# sample stored before the stop still there.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"

culprit=$(make_repo "$WORK/repo" 24 9 0.1)
write_config "$WORK/project.toml" "$WORK/repo" 6
write_server "$WORK/server.toml" '
[server]
db = "db/p.db"

[[route]]
test = "bench"
config = "project.toml"
'
db="$WORK/db/p.db"
good=$(git -C "$WORK/repo" rev-parse good)
bad=$(git -C "$WORK/repo" rev-parse bad)
samples() { sqlite3 "$db" "SELECT count(*) FROM samples WHERE session_id = '$1'" 2>/dev/null || echo 0; }
wait_for_samples() {  # wait_for_samples SESSION N
  local i
  for i in $(seq 1 600); do
    [ "$(samples "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "no progress: $(samples "$1") samples"
}
queue_state() { sqlite3 "$db" "SELECT state FROM alert_queue WHERE session_id = '$1'"; }

# Two alerts: the second waits in the queue while the first runs.
generic_alert "$WORK/a1.json" bench "$good" "$bad"
generic_alert "$WORK/a2.json" bench "$(git -C "$WORK/repo" rev-parse good~0)" "$(git -C "$WORK/repo" rev-parse bad~1)"
start_serve first "$WORK/server.toml" -q
[ "$(post /v1/alerts "$WORK/a1.json")" = 202 ] || fail "alert 1: $(cat "$WORK/answer.json")"
s1=$(json "$WORK/answer.json" "d['session']")
[ "$(post /v1/alerts "$WORK/a2.json")" = 202 ] || fail "alert 2: $(cat "$WORK/answer.json")"
s2=$(json "$WORK/answer.json" "d['session']")

# 1. SIGTERM mid-bisect: exit 0, the session stays running, the second queued.
wait_for_samples "$s1" 8
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "serve exited $? on SIGTERM, want 0"
grep -q "stopped; 2 alerts queued or interrupted" "$WORK/first.err" || fail "stop message: $(tail -3 "$WORK/first.err")"
[ "$(queue_state "$s1")" = running ] || fail "interrupted entry is $(queue_state "$s1")"
[ "$(queue_state "$s2")" = queued ] || fail "second entry is $(queue_state "$s2")"
[ "$(sqlite3 "$db" "SELECT status FROM sessions WHERE id = '$s1'")" = running ] || fail "session not resumable"
before=$(samples "$s1")
last_id=$(sqlite3 "$db" "SELECT max(id) FROM samples WHERE session_id = '$s1'")
checksum=$(sqlite3 "$db" "SELECT sum(value) FROM samples WHERE session_id = '$s1'")
if pgrep -f "$WORK/db/work" > /dev/null; then fail "a probe outlived serve"; fi

# Restarted: the interrupted session continues first; then the queued one
# starts, and 2. SIGKILL stops it midway.
start_serve second "$WORK/server.toml" -q
for i in $(seq 1 1200); do
  [ "$(queue_state "$s1")" = done ] && break
  sleep 0.1
done
wait_for_samples "$s2" 5
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
grep -q "session $s1 resumed" "$WORK/second.err" || fail "not resumed: $(cat "$WORK/second.err")"
[ "$(queue_state "$s2")" = running ] || fail "killed entry is $(queue_state "$s2") with $(samples "$s2") samples"
before2=$(samples "$s2")
last_id2=$(sqlite3 "$db" "SELECT max(id) FROM samples WHERE session_id = '$s2'")
checksum2=$(sqlite3 "$db" "SELECT sum(value) FROM samples WHERE session_id = '$s2'")

# Started again: both end with the planted culprit, every sample kept.
start_serve third "$WORK/server.toml" -q
check() {  # check SESSION SIGNAL SAMPLES_BEFORE LAST_ID CHECKSUM
  wait_done "$1"
  [ "$(json "$WORK/answer.json" "d['status']")" = culprit_found ] || fail "after $2: $(json "$WORK/answer.json" "d['summary']")"
  [ "$(json "$WORK/answer.json" "d['culprits'][0]['commit']")" = "$culprit" ] || fail "after $2: wrong culprit"
  [ "$(sqlite3 "$db" "SELECT count(*) FROM samples WHERE session_id = '$1' AND id <= $4")" = "$3" ] || fail "$2: samples lost"
  [ "$(sqlite3 "$db" "SELECT sum(value) FROM samples WHERE session_id = '$1' AND id <= $4")" = "$5" ] || fail "$2: samples changed"
  local after
  after=$(json "$WORK/answer.json" "d['cost']['samples']")
  [ "$after" -gt "$3" ] || fail "$2: the report counts $after samples, $3 existed before"
  echo "$2: session $1 had $3 samples when stopped, $after when it found $culprit"
}
check "$s1" SIGTERM "$before" "$last_id" "$checksum"
check "$s2" SIGKILL "$before2" "$last_id2" "$checksum2"

# 3. `perfbisect abort` of the session serve is running: that session ends
# (its alert failed, its samples kept), serve goes on with the next alert.
generic_alert "$WORK/a3.json" bench "$good" "$(git -C "$WORK/repo" rev-parse bad~2)"
generic_alert "$WORK/a4.json" bench "$good" "$(git -C "$WORK/repo" rev-parse bad~3)"
[ "$(post /v1/alerts "$WORK/a3.json")" = 202 ] || fail "alert 3: $(cat "$WORK/answer.json")"
s3=$(json "$WORK/answer.json" "d['session']")
[ "$(post /v1/alerts "$WORK/a4.json")" = 202 ] || fail "alert 4: $(cat "$WORK/answer.json")"
s4=$(json "$WORK/answer.json" "d['session']")
wait_for_samples "$s3" 4
"$PERFBISECT" abort "$s3" --db "$db" > "$WORK/abort.out" || fail "abort exited $?"
grep -q "stops now" "$WORK/abort.out" || fail "abort: $(cat "$WORK/abort.out")"
wait_done "$s4"
[ "$(json "$WORK/answer.json" "d['culprits'][0]['commit']")" = "$culprit" ] \
  || fail "after the abort: $(json "$WORK/answer.json" "d['summary']")"
kill -0 "$SERVE_PID" 2> /dev/null || fail "serve stopped when a session was aborted"
[ "$(queue_state "$s3")" = failed ] || fail "aborted entry is $(queue_state "$s3")"
[ "$(sqlite3 "$db" "SELECT status FROM sessions WHERE id = '$s3'")" = aborted ] || fail "session $s3 not aborted"
echo "abort: session $s3 aborted with $(samples "$s3") samples kept; serve went on to $s4"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "serve exited $?"
echo "PASS"
