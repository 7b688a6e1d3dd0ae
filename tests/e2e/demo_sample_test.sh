#!/usr/bin/env bash
# The demo's sample, end to end with real builds and real timings: perfbisect
# names the commit that samples/generate.sh planted. Runs alone (RUN_SERIAL),
# since other tests running beside it would be load bursts in its timings.
source "$(dirname "$0")/lib.sh"

root=$(cd "$(dirname "$0")/../.." && pwd)
bash "$root/samples/generate.sh" "$WORK/demo" > "$WORK/planted.txt"
planted=$(awk '$1 == "culprit" { print $2 }' "$WORK/planted.txt")

# Pinned to one CPU, as scripts/demo.sh does: the two vCPUs of our CI machines
# sometimes differ in speed by 40 %, which makes unpinned timings bimodal.
pin=()
if command -v taskset > /dev/null; then pin=(taskset -c 0); fi
set +e
"${pin[@]}" "$PERFBISECT" run --config "$WORK/demo/perfbisect.toml" --good v1.0 --bad v1.1 \
  --db "$WORK/demo/p.db" --format json -q > "$WORK/report.json"
code=$?
set -e
[ "$code" -eq 0 ] || fail "run exited $code"
found=$(json "$WORK/report.json" "d['culprits'][0]['commit']")
[ "$found" = "$planted" ] || fail "found $found, planted $planted"
echo "found the planted culprit $found: $(json "$WORK/report.json" "d['cost']")"
echo "PASS"
