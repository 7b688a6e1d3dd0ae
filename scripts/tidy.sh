#!/usr/bin/env bash
# Runs clang-tidy 19 with the repository's .clang-tidy over perfbisect's
# product sources, and fails if it reports anything.
#
#   scripts/tidy.sh [FILE...]
#
# FILEs are .cpp files of the product (relative to the repository root or
# absolute); without them, every source of perfbisect_core and the executable:
# alerts, bisect, builders, cache, cli, config, executors, probes, report, stats, util.
# Their headers are checked through the sources that include them
# (.clang-tidy's HeaderFilterRegex).
#
# tests/, tests/fuzz/ and bench/ are left out: the acceptance is about the
# product, and those are Catch2 / libFuzzer / benchmark harnesses whose macro
# expansions and deliberate misuse (moved-from objects, self-comparison,
# unchecked access after REQUIRE) would mostly be findings to silence, not to
# fix (not measured: tidy has not been run over them).
# Leaving them out also about halves the run time, which is long: the whole set took
# most of an hour on two busy cores, so run it on the sources you changed.
#
# The compilation database comes from build-tidy/ (a Debug configuration with
# clang++-19, never built: so assert() stays visible to the analyzer and the
# flags are clang's own). Prints each distinct diagnostic once (a header's
# finding is reported by every source that includes it), then one line:
#
#   clang-tidy: N files, M warnings
#
# and exits 1 when M > 0 (errors, such as a source that does not parse, count
# as warnings). The full clang-tidy output is in build-tidy/tidy.log.
# PERFBISECT_TIDY_JOBS sets the parallel clang-tidy processes (default: nproc).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PERFBISECT_TIDY_BUILD_DIR:-$root/build-tidy}
jobs=${PERFBISECT_TIDY_JOBS:-$(nproc)}

bash "$root/scripts/deps.sh"
if ! command -v run-clang-tidy-19 > /dev/null || ! command -v clang++-19 > /dev/null; then
  echo "tidy.sh: installing clang-19 and clang-tidy-19" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang-19 clang-tidy-19 > /dev/null
fi

mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER=clang++-19 -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DPERFBISECT_BUILD_TESTS=OFF -DPERFBISECT_BUILD_BENCH=OFF > "$build/configure.log" 2>&1 \
  || { cat "$build/configure.log" >&2; exit 1; }

# The sources in the database, or the FILEs given (each must be one of them).
mapfile -t known < <(jq -r '.[].file' "$build/compile_commands.json" | sort -u)
files=()
if [ $# -eq 0 ]; then
  files=("${known[@]}")
else
  for f in "$@"; do
    case "$f" in
      /*) abs=$f ;;
      *) abs=$(pwd)/$f ;;
    esac
    abs=$(realpath -m "$abs")
    if ! printf '%s\n' "${known[@]}" | grep -qxF "$abs"; then
      echo "tidy.sh: $f is not a product source in $build/compile_commands.json" \
        "(headers are checked through the .cpp files that include them)" >&2
      exit 2
    fi
    files+=("$abs")
  done
fi

# run-clang-tidy takes regular expressions: match each path exactly.
patterns=()
for f in "${files[@]}"; do
  patterns+=("^$(printf '%s' "$f" | sed 's/[][\.*^$+?(){}|]/\\&/g')\$")
done

log="$build/tidy.log"
set +e
run-clang-tidy-19 -quiet -p "$build" -j "$jobs" "${patterns[@]}" > "$log" 2>&1
rc=$?
set -e

# file:line:col: warning|error: message [check], once each, paths from the root.
diagnostics=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' "$log" \
  | sed "s|^$root/||" | sort -u || true)
count=0
if [ -n "$diagnostics" ]; then
  printf '%s\n' "$diagnostics"
  count=$(printf '%s\n' "$diagnostics" | wc -l)
fi
if [ "$rc" -ne 0 ] && [ "$count" -eq 0 ]; then
  cat "$log" >&2
  echo "tidy.sh: run-clang-tidy-19 failed (exit $rc) without a diagnostic; see above" >&2
  exit 1
fi
echo "clang-tidy: ${#files[@]} files, $count warnings"
[ "$count" -eq 0 ]
