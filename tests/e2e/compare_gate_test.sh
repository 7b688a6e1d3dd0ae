#!/usr/bin/env bash
# compare and gate on a generated repository with a planted 25 % regression:
# exit codes (5 on a regression, 0 without, 2 on bad input), the formats, and
# gate's JUnit XML validated against the JUnit structure (tests/data/junit.xsd)
# with xmllint and checked with Python's XML parser.
source "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)

culprit=$(make_repo "$WORK/repo" 10 6)
write_config "$WORK/c.toml" "$WORK/repo"
db=$WORK/p.db

run() { # run EXPECTED_EXIT OUTPUT_FILE ARGS...: runs perfbisect, checks its exit code
  local expected=$1 output=$2 code
  shift 2
  set +e
  "$PERFBISECT" "$@" > "$output" 2> "$WORK/stderr"
  code=$?
  set -e
  [ "$code" -eq "$expected" ] ||
    fail "perfbisect $* exited $code, expected $expected: $(cat "$WORK/stderr") $(cat "$output")"
}

# compare: the culprit against its parent is a regression (exit 5) ...
run 5 "$WORK/regression.json" compare --config "$WORK/c.toml" "$culprit^" "$culprit" --db "$db" \
  --format json -q
[ "$(json "$WORK/regression.json" "d['verdict']")" = regression ] || fail "verdict not regression"
json "$WORK/regression.json" "d['effect'] > 0.15 and d['ci_low'] > 0.05 and d['p_value'] < 0.01 \
  and d['head']['commit'] == '$culprit' and d['kind'] == 'compare'" | grep -qx True ||
  fail "compare evidence: $(cat "$WORK/regression.json")"
[ ! -s "$WORK/stderr" ] || fail "-q printed: $(cat "$WORK/stderr")"

# ... two commits before it are not (exit 0), in the text and Markdown formats too.
run 0 "$WORK/same.txt" compare --config "$WORK/c.toml" good "$culprit~2" --db "$db" -q
grep -q "^perfbisect compare: no regression$" "$WORK/same.txt" || fail "text: $(cat "$WORK/same.txt")"
grep -q "head vs base: [+-][0-9.]*% (95% CI [+-][0-9.]*…[+-][0-9.]*%), p = " "$WORK/same.txt" ||
  fail "no effect line: $(cat "$WORK/same.txt")"
run 5 "$WORK/regression.md" compare --config "$WORK/c.toml" good bad --db "$db" --format md -q
grep -q '^### perfbisect compare: \*\*regression\*\*' "$WORK/regression.md" || fail "md heading"
grep -q '^| head | `bad` |' "$WORK/regression.md" || fail "md table: $(cat "$WORK/regression.md")"

# compare of a commit with itself, an unknown revision: usage errors, one line each.
run 2 "$WORK/out" compare --config "$WORK/c.toml" good good --db "$db"
grep -q "same commit" "$WORK/stderr" || fail "same commit: $(cat "$WORK/stderr")"
[ "$(wc -l < "$WORK/stderr")" -eq 1 ] || fail "not one line: $(cat "$WORK/stderr")"
run 2 "$WORK/out" compare --config "$WORK/c.toml" good no-such-rev --db "$db"
grep -q "no-such-rev" "$WORK/stderr" || fail "unknown revision: $(cat "$WORK/stderr")"

# gate: a limit on the median (the probe prints ms) and one on the regression
# against a baseline. bad (level 125) exceeds both: exit 5.
cat > "$WORK/gate.toml" <<CONFIG
$(sed 's/^direction = "lower"$/direction = "lower"\nunit = "ms"/' "$WORK/c.toml")

[gate]
max = "0.11s"
max_regression = "5%"
baseline = "good"
CONFIG
run 5 "$WORK/gate.txt" gate --config "$WORK/gate.toml" bad --junit "$WORK/fail.xml" --db "$db"
grep -q "FAIL (2 of 2 checks failed)" "$WORK/gate.txt" || fail "gate text: $(cat "$WORK/gate.txt")"
grep -q "median of regex:time: (\[0-9.\]+) ms <= 0.11s: median 1[0-9][0-9]\.[0-9]* ms" "$WORK/gate.txt" ||
  fail "gate limit line: $(cat "$WORK/gate.txt")"
# The commit before the culprit passes both (exit 0); --baseline overrides [gate] baseline.
run 0 "$WORK/pass.json" gate --config "$WORK/gate.toml" "$culprit^" --baseline "good" \
  --junit "$WORK/pass.xml" --db "$db" --format json -q
json "$WORK/pass.json" "d['passed'] and d['failures'] == 0 and len(d['checks']) == 2" | grep -qx True ||
  fail "gate json: $(cat "$WORK/pass.json")"

# The JUnit XML: valid against the schema, and the counts agree with the test cases.
for xml in fail pass; do
  xmllint --noout --schema "$root/tests/data/junit.xsd" "$WORK/$xml.xml" 2> "$WORK/xmllint" ||
    fail "$xml.xml is not valid JUnit XML: $(cat "$WORK/xmllint")"
done
python3 - "$WORK/fail.xml" "$WORK/pass.xml" <<'PY' || fail "JUnit structure"
import sys
import xml.etree.ElementTree as ET

for path, failures in zip(sys.argv[1:], (2, 0)):
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites", root.tag
    suites = root.findall("testsuite")
    assert len(suites) == 1, suites
    suite = suites[0]
    cases = suite.findall("testcase")
    assert int(suite.get("tests")) == len(cases) == 2, (suite.attrib, len(cases))
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures")) == len(failed) == failures, (path, suite.attrib)
    assert int(suite.get("errors")) == 0
    assert int(root.get("tests")) == 2 and int(root.get("failures")) == failures
    for case in cases:
        assert case.get("classname") == "perfbisect.gate" and case.get("name")
        float(case.get("time"))
    for case in failed:
        assert case.find("failure").get("message"), "a failure says why"
    names = sorted(c.get("name") for c in cases)
    assert names[0].startswith("median of regex:time:") and names[1].startswith("no regression of +5.0%"), names
print("JUnit XML OK:", [(c.get("name"), "failure" if c.find("failure") is not None else "pass") for c in cases])
PY

# gate without limits, or max_regression without a baseline: usage errors.
run 2 "$WORK/out" gate --config "$WORK/c.toml" bad --db "$db"
grep -q "\[gate\] sets no limit" "$WORK/stderr" || fail "no limits: $(cat "$WORK/stderr")"
printf '\n[gate]\nmax_regression = "5%%"\n' | cat "$WORK/c.toml" - > "$WORK/nobase.toml"
run 2 "$WORK/out" gate --config "$WORK/nobase.toml" bad --db "$db"
grep -q "baseline" "$WORK/stderr" || fail "no baseline: $(cat "$WORK/stderr")"
echo "PASS"
