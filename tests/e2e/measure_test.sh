#!/usr/bin/env bash
# `perfbisect measure` prints every sample with every metric and a summary per
# metric; a failing probe shows its output; a metric this machine cannot count
# is one clear line and exit code 2 before anything is built.
source "$(dirname "$0")/lib.sh"

make_repo "$WORK/repo" 3 1 > /dev/null
write_config "$WORK/c.toml" "$WORK/repo"
# Several metrics per run, and the controls.
sed -i 's|^metric = .*|metric = "regex:time: ([0-9.]+) ms"\nmetrics = ["wall", "maxrss"]\nwarmup = 1\nruns_per_sample = 2|' "$WORK/c.toml"
"$PERFBISECT" measure --config "$WORK/c.toml" good -n 3 --db "$WORK/p.db" > "$WORK/out" 2> "$WORK/err" \
  || fail "measure failed: $(cat "$WORK/err")"
cat "$WORK/out"
[ "$(grep -c '^sample [123]: [0-9.]*; wall [0-9.e-]* s; maxrss [0-9]* KiB$' "$WORK/out")" -eq 3 ] \
  || fail "three samples with their three metrics expected"
grep -q '^regex:time: (\[0-9.\]+) ms (decides): median ' "$WORK/out" || fail "no summary of the decision metric"
grep -q '^maxrss: median [0-9]* KiB' "$WORK/out" || fail "no summary of maxrss"
grep -q '^3 sample(s), 0 failed$' "$WORK/out" || fail "no sample count"

# A session stores the other metrics of every run and reports them.
write_config "$WORK/s.toml" "$WORK/repo" 4
sed -i 's|^metric = .*|&\nmetrics = ["maxrss"]|' "$WORK/s.toml"
"$PERFBISECT" run --config "$WORK/s.toml" --good good --bad bad --db "$WORK/s.db" --format json \
  > "$WORK/report.json" 2> "$WORK/err" || fail "run failed: $(cat "$WORK/err")"
for i in 0 1 2; do
  [ "$(json "$WORK/report.json" "len(d['tested'][$i]['metrics']['maxrss']['values']) == d['tested'][$i]['samples'] > 0")" = True ] \
    || fail "tested[$i] lacks its maxrss values"
done
[ "$(json "$WORK/report.json" "d['tested'][0]['metrics']['maxrss']['unit']")" = KiB ] || fail "maxrss unit"
session=$(json "$WORK/report.json" "d['session']")
"$PERFBISECT" report "$session" --db "$WORK/s.db" --format text > "$WORK/report.txt"
grep -q '^        ^ maxrss: median [0-9]* KiB of [0-9]* value(s)$' "$WORK/report.txt" \
  || fail "the text report lacks maxrss: $(cat "$WORK/report.txt")"

# A probe that fails: each failure with the end of its output, then exit 1.
sed -i 's|^command = \["sh", "{artifacts}/bench.sh"\]|command = "echo partial result; echo disk full >\&2; exit 3"|' "$WORK/c.toml"
set +e
"$PERFBISECT" measure --config "$WORK/c.toml" good -n 2 --db "$WORK/p.db" > "$WORK/out" 2> "$WORK/err"
code=$?
set -e
cat "$WORK/out"
[ "$code" -eq 1 ] || fail "exit code $code for a failing probe, want 1"
grep -q '^sample 1: failed: run 1 of 2: probe `echo partial result; echo disk full >&2; exit 3` exit code 3: disk full$' "$WORK/out" \
  || fail "the failure does not name the probe and its stderr"
grep -q '^  | partial result$' "$WORK/out" || fail "the failed run's stdout is not shown"
grep -q 'every probe run failed' "$WORK/err" || fail "no final error: $(cat "$WORK/err")"

# perf-stat of a hardware event: counted where counters exist, else one line, exit 2.
if command -v perf > /dev/null; then
  sed -i 's|^metric = .*|metric = "perf-stat:instructions"|; s|^metrics = .*||; s|^command = .*exit 3"|command = "true"|' "$WORK/c.toml"
  set +e
  "$PERFBISECT" measure --config "$WORK/c.toml" good -n 1 --db "$WORK/p.db" > "$WORK/out" 2> "$WORK/err"
  code=$?
  set -e
  if [ "$code" -eq 2 ]; then
    [ "$(wc -l < "$WORK/err")" -eq 1 ] || fail "perf-stat error is not one line: $(cat "$WORK/err")"
    grep -q "cannot count 'instructions' on this machine.*callgrind" "$WORK/err" \
      || fail "unclear perf-stat error: $(cat "$WORK/err")"
    echo "ok   no hardware counters: $(cat "$WORK/err")"
  else
    [ "$code" -eq 0 ] || fail "perf-stat: exit code $code: $(cat "$WORK/err")"
    echo "ok   hardware counters present: $(cat "$WORK/out")"
  fi
fi
echo "measure: ok"
