#!/usr/bin/env bash
# The demo: installs dependencies, builds perfbisect, generates the sample
# repository of samples/ (a small C++ benchmark with a planted ~25 % slowdown
# in one of 40 commits), bisects it for real, and prints the culprit.
#
#   scripts/demo.sh [DIR]    DIR defaults to a new temporary directory
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PERFBISECT_BUILD_DIR:-$root/build}
demo=${1:-$(mktemp -d "${TMPDIR:-/tmp}/perfbisect-demo.XXXXXX")}

bash "$root/scripts/deps.sh"
PERFBISECT_BUILD_DIR=$build bash "$root/scripts/build.sh" > /dev/null

echo "== generating the sample repository in $demo"
bash "$root/samples/generate.sh" "$demo" > "$demo/planted.txt"
planted=$(awk '$1 == "culprit" { print $2 }' "$demo/planted.txt")
echo "   (the planted regression is $(sed -n 's/^subject //p' "$demo/planted.txt"))"

# One CPU for every probe: on machines whose cores differ in speed from moment
# to moment (seen on 2-vCPU VMs), unpinned runs land on either core and the
# timings become bimodal.
pin=()
if command -v taskset > /dev/null; then pin=(taskset -c 0); fi

echo "== perfbisect run --config $demo/perfbisect.toml --good v1.0 --bad v1.1"
set +e
"${pin[@]}" "$build/perfbisect" run --config "$demo/perfbisect.toml" --good v1.0 --bad v1.1 \
  --db "$demo/perfbisect.db" --format text
code=$?
set -e

found=$("$build/perfbisect" sessions --db "$demo/perfbisect.db" --format json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])' |
  xargs -I{} "$build/perfbisect" report {} --db "$demo/perfbisect.db" --format json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["culprits"][0]["commit"] if d["culprits"] else "")')
echo
if [ "$code" -eq 0 ] && [ "$found" = "$planted" ]; then
  echo "== perfbisect found the planted culprit $found"
else
  echo "== perfbisect ended with exit code $code; culprit '${found}', planted '$planted'" >&2
  [ "$code" -ne 0 ] || code=1
fi
exit "$code"
