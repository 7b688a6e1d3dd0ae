#!/usr/bin/env bash
# End to end: perfbisect run on a generated repository finds the planted
# culprit, prints the report JSON of DESIGN.md, lists the session, renders every
# format, and leaves the repository's working tree untouched.
source "$(dirname "$0")/lib.sh"

culprit=$(make_repo "$WORK/repo" 30 19 0 14)   # 14 is the first midpoint
write_config "$WORK/perfbisect.toml" "$WORK/repo"
echo "local edit" >> "$WORK/repo/NOTES"   # the user's uncommitted work

set +e
"$PERFBISECT" run --config "$WORK/perfbisect.toml" --good good --bad bad \
  --db "$WORK/db/p.db" --format json > "$WORK/report.json" 2> "$WORK/stderr"
code=$?
set -e
cat "$WORK/stderr" >&2
[ "$code" -eq 0 ] || fail "run exited $code"

for field in schema_version session status good bad metric direction culprits candidates tested cost; do
  [ "$(json "$WORK/report.json" "'$field' in d")" = "True" ] || fail "report lacks $field"
done
[ "$(json "$WORK/report.json" "d['status']")" = "culprit_found" ] || fail "status"
[ "$(json "$WORK/report.json" "d['culprits'][0]['commit']")" = "$culprit" ] || fail "wrong culprit"
[ "$(json "$WORK/report.json" "d['culprits'][0]['subject']")" = "Make the hot loop slower" ] || fail "subject"
for field in commit subject author effect ci_low ci_high p_value confidence share; do
  [ "$(json "$WORK/report.json" "'$field' in d['culprits'][0]")" = "True" ] || fail "culprit lacks $field"
done
json "$WORK/report.json" "0.15 < d['culprits'][0]['effect'] < 0.35" | grep -q True || fail "effect"
json "$WORK/report.json" "d['culprits'][0]['p_value'] < 0.01" | grep -q True || fail "p-value"
for field in builds build_seconds probe_runs samples wall_seconds; do
  [ "$(json "$WORK/report.json" "'$field' in d['cost']")" = "True" ] || fail "cost lacks $field"
done
json "$WORK/report.json" "all(set(t) >= {'commit','position','samples','median','verdict'} for t in d['tested'])" \
  | grep -q True || fail "tested entries"
# The broken commit 14, the first midpoint, was skipped to a neighbour.
[ "$(json "$WORK/report.json" "[t['verdict'] for t in d['tested'] if t['position'] == 14]")" = "['skipped']" ] \
  || fail "broken commit not skipped"
json "$WORK/report.json" "[t['note'] for t in d['tested'] if t['position'] == 14][0]" | grep -q "does not compile" \
  || fail "skip reason"

session=$(json "$WORK/report.json" "d['session']")
"$PERFBISECT" sessions --db "$WORK/db/p.db" --format json > "$WORK/sessions.json"
[ "$(json "$WORK/sessions.json" "d[0]['id']")" = "$session" ] || fail "sessions lists the session"
# The contract's fields (at least; docs/sessions.md lists the others).
[ "$(json "$WORK/sessions.json" "set(d[0]) >= {'bad', 'created', 'good', 'id', 'status', 'summary', 'updated'}")" = True ] \
  || fail "sessions fields"

"$PERFBISECT" report "$session" --db "$WORK/db/p.db" --format text > "$WORK/report.txt"
grep -q "Culprit: $culprit Make the hot loop slower" "$WORK/report.txt" || fail "text report"
"$PERFBISECT" report "$session" --db "$WORK/db/p.db" --format md > "$WORK/report.md"
grep -q "| culprit |" "$WORK/report.md" || fail "markdown table"
"$PERFBISECT" report "$session" --db "$WORK/db/p.db" --format html -o "$WORK/report.html"
grep -q "<svg" "$WORK/report.html" || fail "html chart"
if grep -qE "(src|href)=\"https?:" "$WORK/report.html"; then fail "html loads from the network"; fi

# The user's checkout is untouched.
[ "$(git -C "$WORK/repo" status --porcelain)" = " M NOTES" ] || fail "working tree changed"
[ ! -e "$WORK/repo/build" ] || fail "built inside the user's checkout"

# Resuming a finished session prints its report again.
"$PERFBISECT" resume "$session" --db "$WORK/db/p.db" --format json > "$WORK/again.json"
[ "$(json "$WORK/again.json" "d['culprits'][0]['commit']")" = "$culprit" ] || fail "resume of a finished session"
echo "PASS"
