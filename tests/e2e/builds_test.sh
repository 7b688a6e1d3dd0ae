#!/usr/bin/env bash
# End to end, builds: a second session on the same range with the same build
# config builds nothing (cost.builds is 0 and no build log is added),
# `measure` of a built commit builds nothing, patches and the clean strategy
# work from the config, and a patch that does not apply is a build failure.
source "$(dirname "$0")/lib.sh"

make_repo "$WORK/repo" 24 15 > /dev/null
write_config "$WORK/perfbisect.toml" "$WORK/repo"
db="$WORK/db/p.db"
logs="$WORK/db/work/logs"

run() {  # run OUT.json [args]: a session, which must find the culprit
  local out=$1; shift
  set +e
  "$PERFBISECT" run --config "$WORK/perfbisect.toml" --good good --bad bad --db "$db" \
    --format json "$@" > "$out" 2> "$WORK/stderr"
  local code=$?
  set -e
  [ "$code" -eq 0 ] || { cat "$WORK/stderr" >&2; fail "run exited $code"; }
}

run "$WORK/first.json"
first_builds=$(json "$WORK/first.json" "d['cost']['builds']")
first_logs=$(ls "$logs"/build-*.log | wc -l)
[ "$first_builds" -ge 3 ] || fail "first session built $first_builds commits"
[ "$first_logs" -eq "$first_builds" ] || fail "$first_logs build logs for $first_builds builds"
grep -q "built [0-9a-f]\{10\} in" "$WORK/stderr" || fail "no build progress on stderr"

run "$WORK/second.json"
second_builds=$(json "$WORK/second.json" "d['cost']['builds']")
second_logs=$(ls "$logs"/build-*.log | wc -l)
echo "first session: $first_builds builds; second session: $second_builds builds;" \
  "build logs: $first_logs then $second_logs"
[ "$second_builds" -eq 0 ] || fail "the second session built $second_builds commits"
[ "$second_logs" -eq "$first_logs" ] || fail "the second session wrote build logs"
[ "$(json "$WORK/second.json" "d['status']")" = "culprit_found" ] || fail "second status"

# measure of a commit built before: no build.
"$PERFBISECT" measure --config "$WORK/perfbisect.toml" good -n 2 --db "$db" \
  > "$WORK/measure.txt" 2> "$WORK/measure.err" || fail "measure failed"
if grep -q "building" "$WORK/measure.err"; then fail "measure rebuilt a built commit"; fi
[ "$(ls "$logs"/build-*.log | wc -l)" -eq "$first_logs" ] || fail "measure wrote a build log"

# A patch (plain `diff -u` style) that applies to every commit: a new
# fingerprint, so everything builds again, here in clean worktrees.
printf -- '--- a/NOTES\n+++ b/NOTES\n@@ -1 +1 @@\n-change 0\n+change 0 (patched)\n' > "$WORK/fix.patch"
sed -i 's/^\[build\]$/[build]\npatches = ["fix.patch"]\nstrategy = "clean"/' "$WORK/perfbisect.toml"
run "$WORK/patched.json"
[ "$(json "$WORK/patched.json" "d['cost']['builds']")" -ge 3 ] || fail "patched config reused builds"
[ ! -e "$WORK/db/work/worktrees/session-$(json "$WORK/patched.json" "d['session']")-clean" ] \
  || fail "clean worktree left behind"

# A patch that applies only where level.txt is 100 (before the culprit): the
# bad commit cannot be built, which stops the session with exit code 1 and says why.
printf -- '--- a/level.txt\n+++ b/level.txt\n@@ -1 +1 @@\n-100\n+100\n' > "$WORK/fix.patch"
sed -i 's/strategy = "clean"/strategy = "incremental"/' "$WORK/perfbisect.toml"
set +e
"$PERFBISECT" run --config "$WORK/perfbisect.toml" --good good --bad bad --db "$db" \
  --format json > /dev/null 2> "$WORK/stderr"
code=$?
set -e
[ "$code" -eq 1 ] || fail "unbuildable bad exited $code"
grep -q "patch fix.patch does not apply to" "$WORK/stderr" || { cat "$WORK/stderr" >&2; fail "reason"; }
echo "PASS"
