#!/usr/bin/env bash
# The bad-input catalogue of docs/errors.md beyond configs and revisions
# (those are in bad_input_test.sh): builds, probes, databases, a full disk and
# signals. Each case checks the exit code of the contract, one error line on
# stderr naming the problem and the fix, no child process left behind, and —
# where something was measured before the fault — every sample still stored.
source "$(dirname "$0")/lib.sh"

culprit=$(make_repo "$WORK/repo" 12 7)
write_config "$WORK/ok.toml" "$WORK/repo" 4

# config NAME SED-EXPRESSION...: a copy of ok.toml edited by sed; prints its path.
config() {
  local name=$1
  shift
  cp "$WORK/ok.toml" "$WORK/$name.toml"
  local e
  for e in "$@"; do sed -i "$e" "$WORK/$name.toml"; done
  echo "$WORK/$name.toml"
}
# script NAME BODY: a shell script for a build or probe command (run as
# `sh FILE {artifacts}`, so $1 is the artifacts directory); prints its path.
script() { printf '%s\n' "$2" > "$WORK/$1.sh"; echo "$WORK/$1.sh"; }
probe_is() {  # probe_is NAME BODY: the sed expression that makes BODY the probe
  echo "s#^command = \[\"sh\", \"{artifacts}/bench.sh\"\]#command = [\"sh\", \"$(script "$1" "$2")\", \"{artifacts}\"]#"
}
build_is() {  # build_is NAME BODY: the same for the build command
  echo "s#^command = \"./build.sh\"#command = [\"sh\", \"$(script "$1" "$2")\"]#"
}

samples() { sqlite3 "$1" "SELECT count(*) FROM samples" 2>/dev/null || echo 0; }

# expect NAME CODE PATTERN -- COMMAND...: the command exits with CODE, stderr
# has exactly one "perfbisect: error:" line, it is the last line, it matches
# PATTERN (extended regex), and it is printable UTF-8.
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  set +e
  "$@" > "$WORK/out" 2> "$WORK/err"
  local code=$?
  set -e
  [ "$code" -eq "$want" ] || fail "$name: exit code $code, want $want: $(tail -3 "$WORK/err")"
  [ "$(grep -c '^perfbisect: error: ' "$WORK/err")" -eq 1 ] \
    || fail "$name: want one error line on stderr: $(cat "$WORK/err")"
  local line
  line=$(tail -1 "$WORK/err")
  [[ "$line" == "perfbisect: error: "* ]] || fail "$name: the error is not the last line: $line"
  grep -qE -- "$pattern" <<< "$line" || fail "$name: '$line' does not match '$pattern'"
  python3 -c "
import sys
line = open(sys.argv[1], 'rb').read().decode('utf-8').splitlines()[-1]
assert all(c >= ' ' for c in line), 'control characters'
assert len(line) < 2000, 'longer than 2000 characters'
" "$WORK/err" || fail "$name: the error line is not one printable line"
  no_strays "$name"
  echo "ok   $name: ${line:0:220}"
}

# Every process a case started through perfbisect carries its marker.
no_strays() {
  if pgrep -f 'sleep 10[0-9][0-9]' > /dev/null; then
    pgrep -af 'sleep 10[0-9][0-9]' >&2
    fail "$1: a child process outlived perfbisect"
  fi
}

run_with() {  # run_with CONFIG DB [ARGS...]
  local cfg=$1 db=$2
  shift 2
  echo "$PERFBISECT" run --config "$cfg" --good good --bad bad --db "$db" -q "$@"
}

# --- Builds ---------------------------------------------------------------
expect "build: command not found" 1 \
  "the good commit failed to build: build command exit code 127: .*no-such-build-tool: not found" -- \
  $(run_with "$(config bnf 's|^command = "./build.sh"|command = "no-such-build-tool --all"|')" "$WORK/b1.db")
# Same worktree and logs as the case before: its log must not show up here.
expect "build: command not executable" 1 \
  "the good commit failed to build: build command could not start: not executable: ./NOTES$" -- \
  $(run_with "$(config bne 's|^command = "./build.sh"|command = ["./NOTES"]|')" "$WORK/b2.db")
expect "build: hangs" 1 "build command timed out after 1s \(raise \[build\] timeout" -- \
  $(run_with "$(config bh "$(build_is bh 'sleep 1001')" 's|^timeout = "1m"|timeout = "1s"|')" "$WORK/b3.db")
expect "build: artifacts missing" 1 \
  "artifact 'build/nope' is missing after the build \(check \[build\] artifacts\)" -- \
  $(run_with "$(config am 's|^artifacts = .*|artifacts = ["build/nope"]|')" "$WORK/b4.db")
expect "build: 100 MB of output, then fails" 1 \
  "the good commit failed to build: build command exit code 2: …x+compiler ran out of patience$" -- \
  $(run_with "$(config b100 "$(build_is b100 'head -c 100000000 /dev/zero | tr "\\0" x; echo compiler ran out of patience; exit 2')")" "$WORK/b5.db")
log_size=$(stat -c %s "$WORK"/work/logs/build-*.log | sort -n | tail -1)
[ "$log_size" -gt 100000000 ] || fail "the 100 MB build log was not kept whole ($log_size bytes)"

# --- Probes ---------------------------------------------------------------
expect "probe: hangs" 1 "probe failed 4 times on the good commit \(last: probe \`sh .*/ph.sh \{artifacts\}\` timed out after 1s\); fix the probe with \`perfbisect measure\`" -- \
  $(run_with "$(config ph "$(probe_is ph 'sleep 1002')" 's|^timeout = "30s"|timeout = "1s"|')" "$WORK/p1.db")
expect "probe: prints binary garbage" 1 \
  "probe failed 4 times on the good commit \(last: .*no match for metric pattern 'time: \(\[0-9.\]\+\) ms' in the probe's stdout" -- \
  $(run_with "$(config pg "$(probe_is pg 'head -c 3000 /dev/urandom')")" "$WORK/p2.db")
expect "probe: prints NaN" 1 "metric value 'nan' is not finite" -- \
  $(run_with "$(config pn "$(probe_is pn 'echo time: nan ms')" 's|^metric = .*|metric = "regex:time: (\\\\S+) ms"|')" "$WORK/p3.db")
expect "probe: exits non-zero on good" 1 "probe failed 4 times on the good commit \(last: .*exit code 1: time: " -- \
  $(run_with "$(config pe "$(probe_is pe 'sh "$1/bench.sh"; exit 1')")" "$WORK/p4.db")
expect "probe: exits non-zero on bad only" 1 "probe failed 4 times on the bad commit \(last: .*exit code 3" -- \
  $(run_with "$(config pb "$(probe_is pb 'grep -q 125 "$1/level.txt" && exit 3; sh "$1/bench.sh"')")" "$WORK/p5.db")
# 100 MB of output before the number: read, not kept whole in memory, and the
# number found.
"$PERFBISECT" measure --config "$(config p100 "$(probe_is p100 'head -c 100000000 /dev/zero | tr "\\0" x; echo; sh "$1/bench.sh"')")" \
  good -n 1 --db "$WORK/p6.db" > "$WORK/out" 2> "$WORK/err" || fail "probe with 100 MB of output: $(tail -2 "$WORK/err")"
grep -qE '^sample 1: (9[7-9]|10[0-3])\.[0-9]+$' "$WORK/out" || fail "probe with 100 MB of output: $(cat "$WORK/out")"
echo "ok   probe: 100 MB of output: $(grep '^sample 1' "$WORK/out")"

# --- Databases ------------------------------------------------------------
printf 'garbage, not SQLite' > "$WORK/corrupt.db"
expect "database: corrupt" 1 "corrupt.db: file is not a database .*damaged or not a perfbisect database: give another --db" -- \
  $(run_with "$WORK/ok.toml" "$WORK/corrupt.db")
"$PERFBISECT" run --config "$WORK/ok.toml" --good good --bad bad --db "$WORK/newer.db" -q > /dev/null
schema=$(sqlite3 "$WORK/newer.db" "PRAGMA user_version")
sqlite3 "$WORK/newer.db" "PRAGMA user_version = 99"
expect "database: newer schema" 1 "has schema version 99, newer than this perfbisect understands .*upgrade perfbisect or use another --db" -- \
  $(run_with "$WORK/ok.toml" "$WORK/newer.db")
if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null; then
  # Root writes anything: the case runs as nobody, on a database it may read only.
  mkdir -p "$WORK/ro" && cp "$WORK/newer.db" "$WORK/ro/p.db"
  sqlite3 "$WORK/ro/p.db" "PRAGMA user_version = $schema; PRAGMA journal_mode = DELETE" > /dev/null
  # The repository belongs to root: nobody's git must be told it is safe.
  printf '[safe]\n\tdirectory = %s\n\tdirectory = %s/\n' "$WORK/repo" "$WORK/repo" > "$WORK/ro/.gitconfig"
  chmod 755 "$WORK" && chmod 777 "$WORK/ro" && chmod 444 "$WORK/ro/p.db" && chmod -R a+rX "$WORK/repo" "$WORK/ok.toml" "$WORK/ro/.gitconfig"
  expect "database: read-only" 1 "readonly database.*read-only: make both writable, or give another --db" -- \
    env HOME="$WORK/ro" setpriv --reuid=65534 --regid=65534 --clear-groups $(run_with "$WORK/ok.toml" "$WORK/ro/p.db")
else
  echo "skip database: read-only (needs root and setpriv)"
fi
# Locked: another process holds the write lock for longer than the busy
# timeout (10 s); the run gives up with the hint and nothing stored is lost.
db="$WORK/locked.db"
"$PERFBISECT" run --config "$WORK/ok.toml" --good good --bad bad --db "$db" -q > /dev/null
before=$(samples "$db")
mkfifo "$WORK/holder.fifo"
sqlite3 "$db" < "$WORK/holder.fifo" > /dev/null &
holder=$!
exec 7> "$WORK/holder.fifo"
echo "BEGIN IMMEDIATE; SELECT 'locked';" >&7
sleep 0.5
expect "database: locked" 1 "database is locked \(another process holds the database: wait for it to finish, or give another --db\)" -- \
  $(run_with "$WORK/ok.toml" "$db")
exec 7>&-  # end of its input: sqlite3 rolls back and exits
wait "$holder"
[ "$(samples "$db")" -eq "$before" ] || fail "locked: samples changed ($(samples "$db"), was $before)"
[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "locked: integrity check failed"
echo "ok   database: locked: $before samples kept, integrity ok"

# --- A full disk: the file size limit reached while storing samples --------
db="$WORK/full.db"
"$PERFBISECT" run --config "$WORK/ok.toml" --good good --bad bad --db "$db" -q > /dev/null
before=$(samples "$db")
size=$(stat -c %s "$db")
# A second run of the same range would take the first one's samples over and
# measure nothing: this one measures again, so it stores samples.
cp "$WORK/ok.toml" "$WORK/noreuse.toml"
printf '\n[cache]\nreuse = "none"\n' >> "$WORK/noreuse.toml"
# SIGXFSZ ignored, so writes past the limit fail with EFBIG instead of killing.
expect "disk full while storing samples" 1 "disk I/O error.*is the disk full, or a file size limit reached\? free space, then continue the session with \`perfbisect resume\`" -- \
  bash -c 'trap "" XFSZ; ulimit -f $(( ($1 + 16384) / 512 )); shift; exec "$@"' _ "$size" \
  $(run_with "$WORK/noreuse.toml" "$db")
[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "disk full: integrity check failed"
[ "$(samples "$db")" -ge "$before" ] || fail "disk full: samples lost ($(samples "$db") < $before)"
echo "ok   disk full: $before samples before, $(samples "$db") after, integrity ok"

# --- Signals mid-build and mid-probe ------------------------------------------
# The flag file makes the next build (or probe run) hang in `sleep 10NN`;
# the signal arrives while it runs.
signal_case() {  # signal_case SIGNAL build|probe
  local sig=$1 where=$2 db="$WORK/sig-$1-$2.db" flag="$WORK/flag-$1-$2" marker cfg
  if [ "$where" = build ]; then
    marker="sleep 1011"
    cfg=$(config "sig-$sig-$where" "$(build_is "sig-$sig-$where" "if [ -e $flag ]; then $marker; fi; ./build.sh")")
  else
    marker="sleep 1012"
    cfg=$(config "sig-$sig-$where" "$(probe_is "sig-$sig-$where" "if [ -e $flag ]; then $marker; fi; sh \"\$1/bench.sh\"")")
  fi
  "$PERFBISECT" run --config "$cfg" --good good --bad bad --db "$db" -q > /dev/null 2> "$WORK/err" &
  local pid=$! i
  for i in $(seq 1 600); do
    [ "$(samples "$db")" -ge 8 ] && break
    sleep 0.1
  done
  touch "$flag"
  for i in $(seq 1 600); do
    pgrep -f "$marker" > /dev/null && break
    sleep 0.1
  done
  pgrep -f "$marker" > /dev/null || fail "$sig mid-$where: the $where never started hanging"
  local stored
  stored=$(samples "$db")
  kill -s "$sig" "$pid"
  set +e
  wait "$pid"
  local code=$?
  set -e
  [ "$code" -eq 130 ] || fail "$sig mid-$where: exit code $code, want 130: $(cat "$WORK/err")"
  [ "$(grep -c '^perfbisect: error: ' "$WORK/err")" -eq 1 ] || fail "$sig mid-$where: $(cat "$WORK/err")"
  grep -q "^perfbisect: error: interrupted; everything measured is kept: continue with \`perfbisect resume [0-9a-f]* --db $db\`$" "$WORK/err" \
    || fail "$sig mid-$where: no resume hint: $(cat "$WORK/err")"
  [ "$(samples "$db")" -eq "$stored" ] || fail "$sig mid-$where: samples changed ($stored -> $(samples "$db"))"
  no_strays "$sig mid-$where"
  rm -f "$flag"
  echo "ok   $sig mid-$where: exit 130, $stored samples kept, no child left"
}
for sig in INT TERM HUP; do
  signal_case "$sig" build
  signal_case "$sig" probe
done
# One of them resumes to the culprit.
session=$(sqlite3 "$WORK/sig-HUP-probe.db" "SELECT id FROM sessions")
"$PERFBISECT" resume "$session" --db "$WORK/sig-HUP-probe.db" --format json -q > "$WORK/resumed.json"
[ "$(json "$WORK/resumed.json" "d['culprits'][0]['commit']")" = "$culprit" ] || fail "resume after SIGHUP: wrong culprit"
echo "ok   resume after SIGHUP mid-probe: culprit $culprit"
