#!/usr/bin/env bash
# End to end through the Slurm executor ([executor] kind = "slurm"), on a
# two-node Slurm started on localhost (slurm_lib.sh; installs slurm-wlm and
# munge when missing; needs root):
#  1. a bisect of a generated repository finds the culprit, its probe runs were
#     Slurm jobs named after the session (seen in squeue while it ran, and in
#     the job completion log: one job per probe run), artifacts went through
#     shared_dir, and nothing is left in squeue or in the database's job table;
#  2. a bisect killed with SIGKILL while a probe job runs resumes: the job it
#     left is cancelled (said on stderr), the culprit is right, no sample is
#     stored twice, and nothing is left in squeue;
#  3. a probe job cancelled from outside while it runs is run again as a new
#     job (said on stderr), and the bisect finds the culprit;
#  4. on both nodes at once (nodes = 2, blocking = "full"), where pb-n2
#     measures 8 % slower: two jobs of the session run at the same time, each
#     round's samples come from one node, every commit is measured on both,
#     and the culprit is right; with blocking = "rotate" too, at fewer runs;
#     killed while both lanes' jobs run and resumed, both jobs are cancelled
#     and no sample is stored twice.
# Slurm is stopped at the end unless it was running before.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/slurm_lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (slurmd runs as root; apt-get installs slurm-wlm)"
  exit 77
fi
was_running=0
slurm_running && was_running=1
cleanup() {
  [ -n "${watcher:-}" ] && kill "$watcher" 2> /dev/null
  [ "$was_running" -eq 1 ] || slurm_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
slurm_start || fail "Slurm did not start"
echo "slurm: $(slurm_status)"

culprit=$(make_repo "$WORK/repo" 16 11 0)
write_config "$WORK/perfbisect.toml" "$WORK/repo" 6
cat >> "$WORK/perfbisect.toml" <<CONFIG
[executor]
kind = "slurm"
partition = "$SLURM_PARTITION"
time_limit = "2m"
shared_dir = "$WORK/shared"
CONFIG
db="$WORK/db/p.db"
jobcomp="$SLURM_DIR/log/jobcomp.log"

# Every job name squeue shows, every 0.2 s, into a file.
watch_squeue() {
  while true; do
    squeue --noheader --format='%i %j %T' 2> /dev/null >> "$WORK/squeue.seen"
    sleep 0.2
  done
}
leftovers() {  # jobs of the session still in squeue
  squeue --noheader --name="perfbisect-$1,perfbisect-$1-1" --format='%i %T' 2> /dev/null
}
no_leftovers() {  # true once the session has no job in squeue; a cancelled job
  local i         # stays a few seconds COMPLETING (KillWait), so wait up to 10 s
  for i in $(seq 1 100); do
    [ -z "$(leftovers "$1")" ] && return 0
    sleep 0.1
  done
  return 1
}

# kill_during_jobs CONFIG JOBS: starts a bisect of CONFIG into $db and kills
# it with SIGKILL once it stored 10 samples and has JOBS probe jobs recorded
# (running); sets session, left (the job ids recorded) and before (samples).
kill_during_jobs() {
  local pid i
  "$PERFBISECT" run --config "$1" --good good --bad bad --db "$db" -q > /dev/null 2> "$WORK/killed.err" &
  pid=$!
  session=""
  for i in $(seq 1 600); do
    if [ "$(sqlite3 "$db" "SELECT count(*) FROM samples" 2> /dev/null || echo 0)" -ge 10 ] &&
       [ "$(sqlite3 "$db" "SELECT count(*) FROM executor_jobs" 2> /dev/null || echo 0)" -ge "$2" ]; then
      session=$(sqlite3 "$db" "SELECT id FROM sessions")
      break
    fi
    sleep 0.05
  done
  [ -n "$session" ] || fail "not $2 probe job(s) recorded at once within 30 s: $(cat "$WORK/killed.err")"
  kill -9 "$pid"
  wait "$pid" 2> /dev/null || true
  left=$(sqlite3 "$db" "SELECT job_id FROM executor_jobs")
  before=$(sqlite3 "$db" "SELECT count(*) FROM samples")
}

# 1. A whole bisect.
watch_squeue & watcher=$!
start=$(date +%s)
set +e
"$PERFBISECT" run --config "$WORK/perfbisect.toml" --good good --bad bad --db "$db" \
  --format json -q > "$WORK/report.json" 2> "$WORK/run.err"
code=$?
set -e
kill "$watcher"; wait "$watcher" 2> /dev/null || true; watcher=""
cat "$WORK/run.err" >&2
[ "$code" -eq 0 ] || fail "run exited $code"
session=$(json "$WORK/report.json" "d['session']")
[ "$(json "$WORK/report.json" "d['culprits'][0]['commit']")" = "$culprit" ] || fail "wrong culprit"
probe_runs=$(json "$WORK/report.json" "d['cost']['probe_runs']")
grep -q " perfbisect-$session RUNNING" "$WORK/squeue.seen" ||
  fail "no running job named perfbisect-$session seen in squeue: $(sort -u "$WORK/squeue.seen" | head)"
seen=$(grep " perfbisect-$session " "$WORK/squeue.seen" | awk '{print $1}' | sort -u | wc -l)
# Finished jobs are logged by jobcomp/filetxt (sacct needs slurmdbd): "Name=perfbisect-<session>".
for i in $(seq 1 50); do
  logged=$(grep -c "Name=perfbisect-$session " "$jobcomp" || true)
  [ "$logged" -ge "$probe_runs" ] && break
  sleep 0.1
done
[ "$logged" -eq "$probe_runs" ] || fail "$logged jobs in the job completion log, $probe_runs probe runs"
no_leftovers "$session" || fail "jobs left in squeue: $(leftovers "$session")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM executor_jobs")" = 0 ] || fail "job ids left in the database"
ls "$WORK/shared/artifacts"/*/* > /dev/null || fail "no artifacts in shared_dir"
echo "run: culprit found in $(( $(date +%s) - start )) s, $probe_runs probe runs = $logged Slurm jobs ($seen seen in squeue)"

# 2. SIGKILL while a probe job runs, then resume.
rm -rf "$WORK/db"
kill_during_jobs "$WORK/perfbisect.toml" 1
echo "killed: job(s) $(echo $left) recorded, $before samples stored; in squeue: $(leftovers "$session" | tr '\n' ' ')"
set +e
"$PERFBISECT" resume "$session" --db "$db" --format json -q > "$WORK/resumed.json" 2> "$WORK/resume.err"
code=$?
set -e
cat "$WORK/resume.err" >&2
[ "$code" -eq 0 ] || fail "resume exited $code"
grep -q "cancelled .* Slurm job(s) an earlier run of this session left" "$WORK/resume.err" ||
  fail "resume did not say it cancelled the job left behind"
for job in $left; do
  grep -q "cancelled .*$job" "$WORK/resume.err" || fail "job $job not cancelled"
done
[ "$(json "$WORK/resumed.json" "d['culprits'][0]['commit']")" = "$culprit" ] || fail "wrong culprit after resume"
# The probe prints one value per run: one row per probe run, none twice.
dups=$(sqlite3 "$db" "SELECT count(*) FROM (SELECT run FROM samples GROUP BY session_id, run HAVING count(*) > 1)")
[ "$dups" = 0 ] || fail "$dups samples stored twice"
no_leftovers "$session" || fail "jobs left in squeue after resume: $(leftovers "$session")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM executor_jobs")" = 0 ] || fail "job ids left in the database"
echo "resume: cancelled $(echo $left), culprit found, $(sqlite3 "$db" "SELECT count(*) FROM samples") samples, squeue empty"
# 3. A job cancelled from outside (as an administrator or a preemption would)
# while its probe runs: run again as a new job, and the bisect goes on. Probe
# runs of 1 s, so that the cancel lands inside one.
slow=$(make_repo "$WORK/slow" 8 5 1)
write_config "$WORK/slow.toml" "$WORK/slow" 4
sed -n '/^\[executor\]/,$p' "$WORK/perfbisect.toml" >> "$WORK/slow.toml"
rm -rf "$WORK/db"
"$PERFBISECT" run --config "$WORK/slow.toml" --good good --bad bad --db "$db" --format json \
  > "$WORK/cancelled.json" 2> "$WORK/cancelled.err" &
pid=$!
target=""
for i in $(seq 1 300); do
  target=$(squeue --noheader --states=RUNNING --format='%i %j' | awk '$2 ~ /^perfbisect-/ { print $1; exit }')
  [ -n "$target" ] && break
  sleep 0.1
done
[ -n "$target" ] || fail "no running probe job to cancel within 30 s"
sleep 0.5
scancel "$target"
set +e
wait "$pid"
code=$?
set -e
[ "$code" -eq 0 ] || fail "the run with a cancelled job exited $code: $(tail -3 "$WORK/cancelled.err")"
grep -q "Slurm job on node .*: cancelled; running it again as a new job" "$WORK/cancelled.err" ||
  fail "no retry said after job $target was cancelled: $(grep -i slurm "$WORK/cancelled.err" | tail -3)"
[ "$(json "$WORK/cancelled.json" "d['culprits'][0]['commit']")" = "$slow" ] ||
  fail "wrong culprit after a cancelled job"
runs=$(json "$WORK/cancelled.json" "d['cost']['probe_runs']")
stored=$(sqlite3 "$db" "SELECT count(*) FROM samples WHERE ok = 1")
[ "$stored" = "$runs" ] || fail "$stored samples stored for $runs probe runs"
echo "cancelled job $target: $(grep -o 'Slurm job on node [^;]*; running it again[^)]*)' "$WORK/cancelled.err" | head -1); culprit found, $runs probe runs, $stored samples"

# 4. Two nodes at once, node blocking on, a node that measures 8 % slower.
cat > "$WORK/on_node.sh" <<'SCRIPT'
#!/bin/sh
# The benchmark, 8 % slower on pb-n2: nodes of one partition are rarely identical.
out=$(sh "$1") || exit 1
if [ "$SLURMD_NODENAME" = pb-n2 ]; then
  echo "$out" | awk '{ printf "time: %.4f ms\n", $2 * 1.08 }'
else
  echo "$out"
fi
SCRIPT
two=$(make_repo "$WORK/two" 24 17 0.2)
write_config "$WORK/two.toml" "$WORK/two" 6
sed -i "s|^command = \[\"sh\", \"{artifacts}/bench.sh\"\]|command = [\"sh\", \"$WORK/on_node.sh\", \"{artifacts}/bench.sh\"]|" "$WORK/two.toml"
grep -q on_node.sh "$WORK/two.toml" || fail "the probe command of two.toml was not replaced"
sed -n '/^\[executor\]/,$p' "$WORK/perfbisect.toml" >> "$WORK/two.toml"
printf 'nodes = 2\nblocking = "full"\n' >> "$WORK/two.toml"
# The session's running jobs, one line per look.
watch_running() {
  while true; do
    echo "$(squeue --noheader --states=RUNNING --format='%j' 2> /dev/null | grep '^perfbisect-' | sort | tr '\n' ' ')" >> "$WORK/running.seen"
    sleep 0.1
  done
}
rm -rf "$WORK/db"
: > "$WORK/running.seen"
watch_running & watcher=$!
start=$(date +%s)
set +e
"$PERFBISECT" run --config "$WORK/two.toml" --good good --bad bad --db "$db" --format json -q \
  > "$WORK/two.json" 2> "$WORK/two.err"
code=$?
set -e
kill "$watcher"; wait "$watcher" 2> /dev/null || true; watcher=""
cat "$WORK/two.err" >&2
[ "$code" -eq 0 ] || fail "the run on two nodes exited $code"
session=$(json "$WORK/two.json" "d['session']")
grep -q 'node blocking ("full"): 2 lanes on nodes pb-n1, pb-n2' "$WORK/two.err" ||
  fail "the lanes were not said: $(head -3 "$WORK/two.err")"
[ "$(json "$WORK/two.json" "d['culprits'][0]['commit']")" = "$two" ] || fail "wrong culprit on two nodes"
grep -q "perfbisect-$session perfbisect-$session-1 " "$WORK/running.seen" ||
  fail "never saw both lanes' jobs running at once: $(sort -u "$WORK/running.seen" | head -5)"
q() { sqlite3 "$db" "$1"; }
[ "$(q "SELECT group_concat(node) FROM (SELECT DISTINCT node FROM samples ORDER BY node)")" = "pb-n1,pb-n2" ] ||
  fail "samples' nodes: $(q "SELECT DISTINCT node FROM samples")"
mixed=$(q "SELECT count(*) FROM (SELECT round FROM samples GROUP BY round HAVING count(DISTINCT node) > 1)")
[ "$mixed" = 0 ] || fail "$mixed rounds hold samples of both nodes"
lopsided=$(q "SELECT count(*) FROM (SELECT commit_id FROM samples GROUP BY commit_id HAVING sum(node = 'pb-n1') <> sum(node = 'pb-n2'))")
[ "$lopsided" = 0 ] || fail "$lopsided commits measured more on one node than on the other"
runs=$(json "$WORK/two.json" "d['cost']['probe_runs']")
# The report names both nodes and finds pb-n2's 8 %: about +4 % against the
# nodes' mean, pb-n1 about -4 %.
root=$(cd "$(dirname "$0")/../.." && pwd)
python3 "$root/tests/e2e/check_report_json.py" "$root/docs/report-json.md" report "$WORK/two.json" ||
  fail "the report on two nodes does not match docs/report-json.md"
[ "$(json "$WORK/two.json" "','.join(n['node'] for n in d['nodes'])")" = "pb-n1,pb-n2" ] ||
  fail "the report's nodes: $(json "$WORK/two.json" "d['nodes']")"
slow=$(json "$WORK/two.json" "'%+.1f%% / %+.1f%%' % (100 * d['nodes'][0]['offset'], 100 * d['nodes'][1]['offset'])")
json "$WORK/two.json" "0.02 < d['nodes'][1]['offset'] < 0.06 and -0.06 < d['nodes'][0]['offset'] < -0.02" | grep -q True ||
  fail "the report's node offsets (pb-n1 / pb-n2) are $slow, not about -4 % / +4 %"
no_leftovers "$session" || fail "jobs left in squeue: $(leftovers "$session")"
echo "two nodes: culprit found in $(( $(date +%s) - start )) s, $runs probe runs on pb-n1 and pb-n2 ($(q "SELECT count(DISTINCT round) FROM samples") rounds; node offsets in the report, pb-n1 / pb-n2: $slow)"
full_runs=$runs

# The same with blocking = "rotate": one run per commit and round, on a node
# that turns with the round; the culprit is right and pb-n2's 8 % is found.
sed 's/^blocking = "full"/blocking = "rotate"/' "$WORK/two.toml" > "$WORK/rotate.toml"
rm -rf "$WORK/db"
start=$(date +%s)
"$PERFBISECT" run --config "$WORK/rotate.toml" --good good --bad bad --db "$db" --format json -q \
  > "$WORK/rotate.json" 2> "$WORK/rotate.err" || fail "the run with rotate exited $?: $(tail -3 "$WORK/rotate.err")"
[ "$(json "$WORK/rotate.json" "d['culprits'][0]['commit']")" = "$two" ] || fail "wrong culprit with rotate"
twice=$(q "SELECT count(*) FROM (SELECT 1 FROM samples GROUP BY round, commit_id HAVING count(*) > 1)")
[ "$twice" = 0 ] || fail "rotate measured a commit twice in $twice round(s)"
[ "$(q "SELECT count(*) FROM (SELECT round FROM samples GROUP BY round HAVING count(DISTINCT node) = 2)")" -gt 0 ] ||
  fail "rotate never put a round's commits on both nodes"
json "$WORK/rotate.json" "0.02 < d['nodes'][1]['offset'] < 0.06" | grep -q True ||
  fail "rotate: the report's offset of pb-n2 is $(json "$WORK/rotate.json" "d['nodes'][1]['offset']")"
no_leftovers "$(json "$WORK/rotate.json" "d['session']")" || fail "jobs left in squeue after rotate"
echo "rotate: culprit found in $(( $(date +%s) - start )) s, $(json "$WORK/rotate.json" "d['cost']['probe_runs']") probe runs (full: $full_runs), pb-n2 $(json "$WORK/rotate.json" "'%+.1f%%' % (100 * d['nodes'][1]['offset'])")"

# Killed while both lanes run, then resumed.
rm -rf "$WORK/db"
kill_during_jobs "$WORK/two.toml" 2
set +e
"$PERFBISECT" resume "$session" --db "$db" --format json -q > "$WORK/resumed2.json" 2> "$WORK/resume2.err"
code=$?
set -e
cat "$WORK/resume2.err" >&2
[ "$code" -eq 0 ] || fail "resume on two nodes exited $code"
for job in $left; do
  grep -q "cancelled .*$job" "$WORK/resume2.err" || fail "job $job not cancelled: $(cat "$WORK/resume2.err")"
done
[ "$(json "$WORK/resumed2.json" "d['culprits'][0]['commit']")" = "$two" ] || fail "wrong culprit after resume on two nodes"
dups=$(q "SELECT count(*) FROM (SELECT run FROM samples GROUP BY session_id, run HAVING count(*) > 1)")
[ "$dups" = 0 ] || fail "$dups samples stored twice"
no_leftovers "$session" || fail "jobs left in squeue after resume: $(leftovers "$session")"
[ "$(q "SELECT count(*) FROM executor_jobs")" = 0 ] || fail "job ids left in the database"
echo "two nodes killed: job(s) $(echo $left) recorded, $before samples stored; resume cancelled them, culprit found, $(q "SELECT count(*) FROM samples") samples, none twice"

# Nothing of perfbisect's in the cluster's queue at the end (either session).
others=$(squeue --noheader --format='%i %j %T' | grep ' perfbisect-' || true)
[ -z "$others" ] || fail "perfbisect jobs left in squeue: $others"
echo "PASS"
