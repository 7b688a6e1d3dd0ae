#!/usr/bin/env bash
# Crash consistency: one bisect of a generated repository, killed with SIGKILL
# at KILLS (>= 10) random moments during builds, during probe runs and during
# the SQLite write of a sample, and resumed after each kill. Checks that
#  - the culprit equals that of an uninterrupted run (and the planted one);
#  - the samples stored equal the probe runs that completed, as counted by
#    the probe itself, within one per kill (the run in flight);
#  - no sample is stored twice;
#  - PRAGMA integrity_check is ok.
# The kill moments are random; the seed is printed (SIGKILL_SEED=… reproduces).
source "$(dirname "$0")/lib.sh"

KILLS=${SIGKILL_KILLS:-12}
SEED=${SIGKILL_SEED:-$$}
RANDOM=$SEED
echo "sigkill test: seed $SEED, $KILLS kills"

# A 24-commit repository: builds take ~0.3 s, probe runs ~0.1 s; both write
# their phase to $FAULT_PHASE_LOG when they start, and the probe appends a
# line to $PROBE_COUNT_FILE when it has printed its value (a completed run).
repo="$WORK/repo"
mkdir -p "$repo"
(
  cd "$repo"
  export GIT_AUTHOR_NAME="Ada Perf" GIT_AUTHOR_EMAIL="ada@example.com"
  export GIT_COMMITTER_NAME="Ada Perf" GIT_COMMITTER_EMAIL="ada@example.com"
  git init -q -b main .
  cat > bench.sh <<'SCRIPT'
#!/bin/sh
[ -n "$FAULT_PHASE_LOG" ] && echo probe >> "$FAULT_PHASE_LOG"
level=$(cat "$(dirname "$0")/level.txt")
r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
sleep 0.1
awk -v l="$level" -v r="$r" 'BEGIN { printf "time: %.10f ms\n", l * (0.97 + 0.06 * r / 4294967295) }'
[ -n "$PROBE_COUNT_FILE" ] && echo done >> "$PROBE_COUNT_FILE"
exit 0
SCRIPT
  cat > build.sh <<'SCRIPT'
#!/bin/sh
[ -n "$FAULT_PHASE_LOG" ] && echo build >> "$FAULT_PHASE_LOG"
sleep 0.3
mkdir -p build && cp bench.sh level.txt build/
SCRIPT
  chmod +x bench.sh build.sh
  for i in $(seq 0 23); do
    if [ "$i" -ge 14 ]; then echo 125 > level.txt; else echo 100 > level.txt; fi
    echo "change $i" >> NOTES
    git add -A && git commit -q -m "Change $i"
    [ "$i" -eq 0 ] && git tag good
    [ "$i" -eq 14 ] && git tag planted
  done
  git tag bad
)
planted=$(git -C "$repo" rev-parse planted)
cat > "$WORK/perfbisect.toml" <<CONFIG
[repo]
path = "$repo"

[build]
command = "./build.sh"
artifacts = ["build/bench.sh", "build/level.txt"]

[probe]
command = ["sh", "{artifacts}/bench.sh"]
metric = "regex:time: ([0-9.]+) ms"

[decide]
min_effect = "5%"
samples = 6
CONFIG

count_lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

# 1. The uninterrupted run.
mkdir -p "$WORK/ref"
PROBE_COUNT_FILE="$WORK/ref/count" "$PERFBISECT" run --config "$WORK/perfbisect.toml" \
  --good good --bad bad --db "$WORK/ref/p.db" --format json -q > "$WORK/ref.json"
reference=$(json "$WORK/ref.json" "d['culprits'][0]['commit']")
[ "$reference" = "$planted" ] || fail "the uninterrupted run found $reference, planted $planted"
echo "uninterrupted: culprit ${reference:0:10}, $(count_lines "$WORK/ref/count") probe runs"

# 2. The same bisect, killed again and again.
mkdir -p "$WORK/f"
db="$WORK/f/p.db"
phases="$WORK/f/phases"
counted="$WORK/f/count"
: > "$phases"
export PROBE_COUNT_FILE="$counted" FAULT_PHASE_LOG="$phases"
session=""
kills=0
declare -A killed_in=([build]=0 [probe]=0 [sample-write]=0)
targets=(build probe sample-write)

start() {  # start TARGET: run or resume in the background; $pid
  local fault=()
  [ "$1" = sample-write ] && fault=(env PERFBISECT_FAULT_POINT=sample-write
    PERFBISECT_FAULT_LOG="$phases" PERFBISECT_FAULT_PAUSE_MS=150)
  if [ -z "$session" ]; then
    "${fault[@]}" "$PERFBISECT" run --config "$WORK/perfbisect.toml" --good good --bad bad \
      --db "$db" -q --format json > "$WORK/f/out.json" 2>> "$WORK/f/err" &
  else
    "${fault[@]}" "$PERFBISECT" resume "$session" --db "$db" -q --format json \
      > "$WORK/f/out.json" 2>> "$WORK/f/err" &
  fi
  pid=$!
}

finished=false
while [ "$kills" -lt "$KILLS" ]; do
  target=${targets[$((kills % 3))]}
  base=$(count_lines "$phases")
  start "$target"
  skip=$((RANDOM % 2))  # let this many occurrences of the phase pass first
  seen=0 others=0 hit=""
  for _ in $(seq 1 3000); do
    if ! kill -0 "$pid" 2> /dev/null; then break; fi
    now=$(count_lines "$phases")
    while [ "$base" -lt "$now" ]; do
      base=$((base + 1))
      phase=$(sed -n "${base}p" "$phases")
      if [ "$phase" = "$target" ]; then
        seen=$((seen + 1))
        [ "$seen" -gt "$skip" ] && hit=$phase && break
      else
        others=$((others + 1))
        # No build comes any more: take the next probe run instead.
        if [ "$target" = build ] && [ "$others" -ge 8 ] && [ "$phase" = probe ]; then
          hit=probe && break
        fi
      fi
    done
    [ -n "$hit" ] && break
    sleep 0.01
  done
  if [ -z "$hit" ]; then
    set +e; wait "$pid"; code=$?; set -e
    if [ "$code" -ne 0 ]; then
      # What the session ended with, and its database, for the next person to look.
      cp -r "$WORK/f" "${TMPDIR:-/tmp}/perfbisect-sigkill-failure.$SEED" 2> /dev/null || true
      fail "perfbisect exited with $code without being killed ($(json "$WORK/f/out.json" \
        "d['status'] + ': ' + d['summary']" 2> /dev/null || echo 'no report')): $(tail -3 "$WORK/f/err"); kept in ${TMPDIR:-/tmp}/perfbisect-sigkill-failure.$SEED"
    fi
    finished=true
    break
  fi
  case "$hit" in  # a random moment inside the phase
    build) delay=$((RANDOM % 250)) ;;
    probe) delay=$((RANDOM % 90)) ;;
    sample-write) delay=$((RANDOM % 120)) ;;
  esac
  sleep "$(printf '0.%03d' "$delay")"
  kill -9 "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  kills=$((kills + 1))
  killed_in[$hit]=$((killed_in[$hit] + 1))
  [ -n "$session" ] || session=$(sqlite3 "$db" "SELECT id FROM sessions")
  [ -n "$session" ] || fail "no session after the first kill"
done
$finished && fail "the bisect ended after $kills kills, before $KILLS"
echo "killed $kills times: ${killed_in[build]} during a build, ${killed_in[probe]} during a probe run, ${killed_in[sample-write]} during a sample write"
for phase in build probe sample-write; do
  [ "${killed_in[$phase]}" -ge 1 ] || fail "no kill during $phase"
done

# 3. Resume to the end.
unset FAULT_PHASE_LOG
"$PERFBISECT" resume "$session" --db "$db" -q --format json > "$WORK/f/out.json" 2>> "$WORK/f/err" \
  || fail "the last resume failed: $(tail -3 "$WORK/f/err")"
culprit=$(json "$WORK/f/out.json" "d['culprits'][0]['commit'] if d['culprits'] else d['status']")
[ "$culprit" = "$reference" ] || fail "after $kills kills the culprit is $culprit, uninterrupted $reference"

stored=$(sqlite3 "$db" "SELECT count(*) FROM samples WHERE session_id = '$session'")
completed=$(count_lines "$counted")
lost=$((completed - stored))
echo "samples stored $stored, probe runs completed $completed (counted by the probe): $lost lost in $kills kills"
[ "$lost" -ge 0 ] || fail "more samples stored ($stored) than probe runs completed ($completed)"
[ "$lost" -le "$kills" ] || fail "$lost completed runs lost, more than one per kill ($kills)"
dups=$(sqlite3 "$db" "SELECT count(*) - count(DISTINCT value) FROM samples")
[ "$dups" -eq 0 ] || fail "$dups samples stored twice"
dup_runs=$(sqlite3 "$db" "SELECT count(*) FROM (SELECT run FROM samples GROUP BY session_id, run HAVING count(*) > 1)")
[ "$dup_runs" -eq 0 ] || fail "$dup_runs probe runs stored twice"
integrity=$(sqlite3 "$db" "PRAGMA integrity_check")
[ "$integrity" = ok ] || fail "integrity_check: $integrity"
[ "$(sqlite3 "$db" "SELECT lease FROM sessions")" = "" ] || fail "the lease was not given up"
echo "culprit ${culprit:0:10} as uninterrupted; no duplicate; integrity_check ok"
echo PASS
