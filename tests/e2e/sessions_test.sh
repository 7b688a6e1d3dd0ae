#!/usr/bin/env bash
# Sessions and the cache, through the binary: a second `run` over the same
# range reuses every sample and builds nothing (the report counts them);
# `[cache] reuse = "none"` measures again; `sessions`, `status`, `log`,
# `report --verbose`, `cache stats`, `cache export`/`import` (then resume in
# another database) and `cache gc`.
source "$(dirname "$0")/lib.sh"

culprit=$(make_repo "$WORK/repo" 16 6)
write_config "$WORK/perfbisect.toml" "$WORK/repo" 6
# Count builds and probe runs from inside the commands.
sed -i 's|^command = "./build.sh"|command = "echo >> '"$WORK"'/builds; ./build.sh"|' "$WORK/perfbisect.toml"
sed -i 's|^command = \["sh", "{artifacts}/bench.sh"\]|command = "echo >> '"$WORK"'/runs; sh {artifacts}/bench.sh"|' "$WORK/perfbisect.toml"
db="$WORK/p.db"
count() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
run() { "$PERFBISECT" run --config "$1" --good good --bad bad --db "$db" --format json -q; }

# 1. Two runs over the same range: the second reuses all and builds nothing.
run "$WORK/perfbisect.toml" > "$WORK/first.json"
builds=$(count "$WORK/builds")
runs=$(count "$WORK/runs")
[ "$(json "$WORK/first.json" "d['culprits'][0]['commit']")" = "$culprit" ] || fail "first run: wrong culprit"
run "$WORK/perfbisect.toml" > "$WORK/second.json"
[ "$(count "$WORK/builds")" -eq "$builds" ] || fail "the second run built $(( $(count "$WORK/builds") - builds )) commit(s)"
[ "$(count "$WORK/runs")" -eq "$runs" ] || fail "the second run ran the probe again"
[ "$(json "$WORK/second.json" "d['culprits'][0]['commit']")" = "$culprit" ] || fail "second run: wrong culprit"
first_samples=$(json "$WORK/first.json" "d['cost']['samples']")
[ "$(json "$WORK/second.json" "d['cost']['samples_reused']")" -eq "$first_samples" ] \
  || fail "reused $(json "$WORK/second.json" "d['cost']['samples_reused']") of $first_samples samples"
[ "$(json "$WORK/second.json" "d['cost']['builds'], d['cost']['probe_runs']")" = "0 0" ] \
  || fail "second run cost: $(json "$WORK/second.json" "d['cost']")"
[ "$(json "$WORK/first.json" "d['cost']['samples_reused']")" -eq 0 ] || fail "first run reused"
echo "second run: $first_samples of $first_samples samples reused, 0 builds, 0 probe runs ($builds builds and $runs probe runs in the first)"
second=$(json "$WORK/second.json" "d['session']")
"$PERFBISECT" report "$second" --db "$db" | grep -q "$first_samples of the samples ($runs probe runs) reused from earlier sessions" \
  || fail "the text report does not show the reused count"

# 2. reuse = "none": measured again.
cp "$WORK/perfbisect.toml" "$WORK/none.toml"
printf '\n[cache]\nreuse = "none"\n' >> "$WORK/none.toml"
# Stopped after a few samples; section 4 moves it to another database.
"$PERFBISECT" run --config "$WORK/none.toml" --good good --bad bad --db "$db" -q > /dev/null 2>&1 &
pid=$!
third() { sqlite3 "$db" "SELECT count(*) FROM samples s JOIN sessions o ON o.id = s.session_id WHERE o.status = 'running'" 2> /dev/null || echo 0; }
for _ in $(seq 1 300); do
  [ "$(third)" -ge 6 ] && break
  sleep 0.1
done
kill -9 "$pid"; wait "$pid" 2> /dev/null || true
half=$(sqlite3 "$db" "SELECT id FROM sessions WHERE status = 'running'")
had=$(third)
[ "$had" -ge 6 ] || fail "reuse = none did not measure"
[ "$(sqlite3 "$db" "SELECT count(*) FROM samples WHERE session_id = '$half' AND reused_from IS NOT NULL")" -eq 0 ] \
  || fail "reuse = none reused"
[ "$(count "$WORK/runs")" -ge $((runs + had)) ] || fail "reuse = none did not run the probe"
[ "$(count "$WORK/builds")" -eq "$builds" ] || fail "builds are shared whatever the reuse"
bad_reuse="$WORK/bad.toml"
cp "$WORK/perfbisect.toml" "$bad_reuse"
printf '\n[cache]\nreuse = "sometimes"\n' >> "$bad_reuse"
set +e
run "$bad_reuse" > /dev/null 2> "$WORK/bad.err"
code=$?
set -e
[ "$code" -eq 2 ] && grep -q "cache.reuse" "$WORK/bad.err" || fail "bad reuse value: $code $(cat "$WORK/bad.err")"

# 3. sessions, status, log, report --verbose.
first=$(json "$WORK/first.json" "d['session']")
"$PERFBISECT" sessions --db "$db" > "$WORK/sessions.txt"
grep -q "^$first .*culprit_found .*done, $first_samples samples .*${culprit:0:10}" "$WORK/sessions.txt" \
  || fail "sessions: $(cat "$WORK/sessions.txt")"
"$PERFBISECT" sessions --db "$db" --format json > "$WORK/sessions.json"
[ "$(json "$WORK/sessions.json" "len(d), d[0]['culprits'] == ['$culprit'], d[1]['samples_reused']")" = "3 True $first_samples" ] \
  || fail "sessions json: $(cat "$WORK/sessions.json")"
"$PERFBISECT" status "$first" --db "$db" | grep -q "culprit   $culprit" || fail "status of a finished session"
"$PERFBISECT" log "$first" --db "$db" > "$WORK/log.txt"
grep -q " decision .*position 6.* bad: .*vs good p = " "$WORK/log.txt" || fail "log: no decision with its p-values"
grep -q " step .*: confirming position 6 against its parent 5" "$WORK/log.txt" || fail "log: no reason for a step"
"$PERFBISECT" log "$first" --db "$db" --format json > "$WORK/log.json"
[ "$(json "$WORK/log.json" "[e for e in d if e['kind'] == 'decision'][0]['data']['compared'][0]['with']")" = good ] \
  || fail "log json: no comparison"
"$PERFBISECT" report "$first" --db "$db" --format text --verbose > "$WORK/verbose.txt"
grep -q "^Events:" "$WORK/verbose.txt" && grep -q " decision " "$WORK/verbose.txt" \
  || fail "report --verbose shows no event log"

# 4. export the stopped session, import it into another database, continue it there.
"$PERFBISECT" cache export "$half" --db "$db" -o "$WORK/half.json" > /dev/null
"$PERFBISECT" cache import "$WORK/half.json" --db "$WORK/moved.db" --config "$WORK/none.toml" \
  | grep -q "continue it with \`perfbisect resume $half\`" || fail "import did not say how to continue"
[ "$(sqlite3 "$WORK/moved.db" "SELECT count(*) FROM samples")" -eq "$had" ] || fail "import lost samples"
set +e
"$PERFBISECT" cache import "$WORK/half.json" --db "$WORK/moved.db" 2> "$WORK/import2.err"
code=$?
set -e
[ "$code" -eq 2 ] && grep -q "already in" "$WORK/import2.err" || fail "a second import: $code"
echo '{"hello": 1}' > "$WORK/junk.json"
set +e
"$PERFBISECT" cache import "$WORK/junk.json" --db "$WORK/moved.db" 2> "$WORK/junk.err"
code=$?
set -e
[ "$code" -eq 2 ] && grep -q "not a perfbisect export" "$WORK/junk.err" || fail "junk import: $code"
"$PERFBISECT" resume "$half" --db "$WORK/moved.db" --format json -q > "$WORK/moved.json"
[ "$(json "$WORK/moved.json" "d['culprits'][0]['commit']")" = "$culprit" ] || fail "the imported session did not finish"
[ "$(sqlite3 "$WORK/moved.db" "SELECT count(*) FROM samples")" -gt "$had" ] || fail "imported samples not kept"
echo "exported after $had samples, imported, resumed elsewhere: culprit ${culprit:0:10}"

# 5. cache stats and gc.
"$PERFBISECT" cache stats --db "$db" --format json > "$WORK/stats.json"
[ "$(json "$WORK/stats.json" "d['schema_version'] >= 7, d['sessions'], d['samples_reused'] == $first_samples, d['artifacts'] > 0")" = "True 3 True True" ] \
  || fail "stats: $(cat "$WORK/stats.json")"
"$PERFBISECT" cache stats --db "$db" | grep -q "^sessions   3 (2 culprit_found, 1 running)" || fail "stats text"
# The stopped session, moved elsewhere, is aborted here: nothing needs its artifacts now.
"$PERFBISECT" abort "$half" --db "$db" | grep -q "^session $half aborted; its $had samples are kept" \
  || fail "abort of a stopped session"
"$PERFBISECT" cache gc --db "$db" --older-than 0s --dry-run > "$WORK/dry.txt"
[ "$(json "$WORK/stats.json" "d['artifacts']")" -eq "$(sqlite3 "$db" "SELECT count(*) FROM artifacts")" ] \
  || fail "a dry run dropped something"
"$PERFBISECT" cache gc --db "$db" --older-than 0s --sessions > "$WORK/gc.txt"
grep -q "^freed: [1-9][0-9]* artifact entries" "$WORK/gc.txt" || fail "gc: $(tail -1 "$WORK/gc.txt")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM sessions"), $(sqlite3 "$db" "SELECT count(*) FROM samples")" = "0, 0" ] \
  || fail "gc --sessions left sessions or samples"
[ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ] || fail "integrity after gc"
echo PASS
