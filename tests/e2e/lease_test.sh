#!/usr/bin/env bash
# One process at a time per session: of two `perfbisect resume` of the same
# session, one proceeds and the other exits with a clear error; after the
# first is killed with SIGKILL, resume takes the session over (stopping what
# the dead one left running) and finishes it. `status` shows the live step,
# and `abort` stops a running session for good.
source "$(dirname "$0")/lib.sh"

# Probe runs of 0.3 s: the session must outlast the checks made while A runs
# (an ASan build starts each perfbisect command slowly).
culprit=$(make_repo "$WORK/repo" 24 9 0.3)
write_config "$WORK/perfbisect.toml" "$WORK/repo" 6
db="$WORK/p.db"

samples() { sqlite3 "$db" "SELECT count(*) FROM samples" 2> /dev/null || echo 0; }
wait_for_samples() {  # wait_for_samples N: until the database holds N samples (max 60 s)
  local i
  for i in $(seq 1 600); do
    [ "$(samples)" -ge "$1" ] && return 0
    sleep 0.1
  done
  fail "no progress: $(samples) samples"
}

# A session whose process died: killed in the middle.
"$PERFBISECT" run --config "$WORK/perfbisect.toml" --good good --bad bad --db "$db" -q \
  > /dev/null 2> "$WORK/run.err" &
pid=$!
wait_for_samples 4
kill -9 "$pid"
wait "$pid" 2> /dev/null || true
session=$(sqlite3 "$db" "SELECT id FROM sessions")

# A takes it over from the dead process and proceeds.
"$PERFBISECT" resume "$session" --db "$db" -q > /dev/null 2> "$WORK/a.err" &
a=$!
wait_for_samples $(($(samples) + 2))
grep -q "took the session over from process $pid" "$WORK/a.err" \
  || fail "A did not say it took over from $pid: $(cat "$WORK/a.err")"

# B, while A runs: a clear one-line error, exit 1, nothing measured.
before=$(samples)
set +e
"$PERFBISECT" resume "$session" --db "$db" -q > "$WORK/b.out" 2> "$WORK/b.err"
code=$?
set -e
[ "$code" -eq 1 ] || fail "the second resume exited with $code, want 1"
[ "$(wc -l < "$WORK/b.err")" -eq 1 ] || fail "more than one line: $(cat "$WORK/b.err")"
grep -q "session $session is already being run by process $a" "$WORK/b.err" \
  || fail "unclear error: $(cat "$WORK/b.err")"
echo "second resume: $(cat "$WORK/b.err")"
kill -0 "$a" || fail "A stopped when B tried"

# status: live, from another process.
"$PERFBISECT" status "$session" --db "$db" --format json > "$WORK/status.json"
[ "$(json "$WORK/status.json" "d['holder']['pid']")" = "$a" ] || fail "status names no holder"
[ "$(json "$WORK/status.json" "d['holder']['state']")" = alive ] || fail "holder not alive"
[ "$(json "$WORK/status.json" "d['step'] > 0 and d['open'] > 0 and d['samples'] >= $before")" = True ] \
  || fail "status without progress: $(cat "$WORK/status.json")"
"$PERFBISECT" status --db "$db" | grep -q "running (process $a)" || fail "status text"

# A is killed; C takes over and finishes with the planted culprit.
kill -9 "$a"
wait "$a" 2> /dev/null || true
"$PERFBISECT" resume "$session" --db "$db" --format json > "$WORK/c.json" 2> "$WORK/c.err" \
  || fail "resume after the kill failed: $(cat "$WORK/c.err")"
grep -q "took the session over from process $a" "$WORK/c.err" || fail "C did not take over from A"
[ "$(json "$WORK/c.json" "d['culprits'][0]['commit']")" = "$culprit" ] || fail "wrong culprit"
[ "$(sqlite3 "$db" "SELECT lease FROM sessions")" = "" ] || fail "C kept the lease"
echo "after killing $a, resume finished: culprit ${culprit:0:10}"

# abort: a running session stops at once and stays stopped; its samples stay.
rm -f "$db"*
"$PERFBISECT" run --config "$WORK/perfbisect.toml" --good good --bad bad --db "$db" -q \
  > /dev/null 2> "$WORK/run2.err" &
pid=$!
wait_for_samples 4
session=$(sqlite3 "$db" "SELECT id FROM sessions")
"$PERFBISECT" abort "$session" --db "$db" > "$WORK/abort.out"
grep -q "process $pid, which was running it, stops now" "$WORK/abort.out" || fail "abort: $(cat "$WORK/abort.out")"
set +e
wait "$pid"
code=$?
set -e
[ "$code" -eq 1 ] || fail "the aborted run exited with $code, want 1"
grep -q "was aborted" "$WORK/run2.err" || fail "no abort message: $(cat "$WORK/run2.err")"
kept=$(samples)
[ "$kept" -ge 4 ] || fail "samples lost by the abort"
set +e
"$PERFBISECT" resume "$session" --db "$db" -q > "$WORK/resume-aborted.out"
code=$?
set -e
[ "$code" -eq 4 ] || fail "resume of an aborted session exited with $code, want 4 (report only)"
grep -q "aborted" "$WORK/resume-aborted.out" || fail "resume of an aborted session printed no report"
[ "$(samples)" -eq "$kept" ] || fail "an aborted session measured more"
set +e
"$PERFBISECT" abort "$session" --db "$db" 2> "$WORK/abort2.err"
code=$?
set -e
[ "$code" -eq 2 ] || fail "abort of an aborted session exited with $code, want 2"
echo PASS
