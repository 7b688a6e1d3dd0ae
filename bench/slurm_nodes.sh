#!/usr/bin/env bash
# What W nodes buy on a real Slurm: one generated repository (64 commits, the
# culprit at 41, probe runs of 0.3 s) bisected on the two-node test cluster
# of tests/e2e/slurm_lib.sh with nodes = 1, then nodes = 2 with each blocking
# scheme. Prints, per configuration, the culprit found, wall time, probe
# runs and the session's rounds, and wall time and runs as ratios to
# nodes = 1 measured in the same run. Root only (slurmd runs as root); Slurm
# is started when it is not running and stopped again at the end.
#
#   bench/slurm_nodes.sh [PERFBISECT]      (default: build/perfbisect)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PERFBISECT=$(realpath "${1:-$root/build/perfbisect}")
export PERFBISECT
WORK=$(mktemp -d)
source "$root/tests/e2e/lib.sh"
source "$root/tests/e2e/slurm_lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "slurm_nodes.sh: needs root (slurmd)" >&2; exit 2; }
was_running=0
slurm_running && was_running=1
cleanup() {
  [ "$was_running" -eq 1 ] || slurm_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
slurm_start

culprit=$(make_repo "$WORK/repo" 64 41 0.3)
write_config "$WORK/base.toml" "$WORK/repo" 6
cat >> "$WORK/base.toml" <<CONFIG
[executor]
kind = "slurm"
partition = "$SLURM_PARTITION"
time_limit = "2m"
shared_dir = "$WORK/shared"
CONFIG

printf '%-22s %8s %8s %8s %8s %10s %10s\n' configuration culprit "wall s" runs rounds "wall/W=1" "runs/W=1"
base_wall=""
base_runs=""
for setup in "nodes = 1" "nodes = 2|off" "nodes = 2|rotate" "nodes = 2|full"; do
  nodes=${setup%%|*}
  blocking=""
  [ "$setup" != "$nodes" ] && blocking=${setup#*|}
  config="$WORK/run.toml"
  cp "$WORK/base.toml" "$config"
  echo "$nodes" >> "$config"
  [ -n "$blocking" ] && echo "blocking = \"$blocking\"" >> "$config"
  db="$WORK/db-${nodes// /}-$blocking/p.db"
  start=$(date +%s.%N)
  "$PERFBISECT" run --config "$config" --good good --bad bad --db "$db" --format json -q \
    > "$WORK/report.json" 2> "$WORK/run.err" || { cat "$WORK/run.err" >&2; exit 1; }
  wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  found=$(json "$WORK/report.json" "'right' if d['culprits'] and d['culprits'][0]['commit'] == '$culprit' else d['status']")
  runs=$(json "$WORK/report.json" "d['cost']['probe_runs']")
  rounds=$(sqlite3 "$db" "SELECT count(DISTINCT round) FROM samples")
  [ -z "$base_wall" ] && { base_wall=$wall; base_runs=$runs; }
  name="$nodes${blocking:+, $blocking}"
  printf '%-22s %8s %8.1f %8d %8d %10.2f %10.2f\n' "$name" "$found" "$wall" "$runs" "$rounds" \
    "$(awk -v a="$wall" -v b="$base_wall" 'BEGIN { print a / b }')" \
    "$(awk -v a="$runs" -v b="$base_runs" 'BEGIN { print a / b }')"
done
