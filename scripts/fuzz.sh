#!/usr/bin/env bash
# Fuzzes perfbisect's parsers of outside input with libFuzzer (clang-19, with
# AddressSanitizer and UndefinedBehaviorSanitizer), each target for SECONDS.
#
#   scripts/fuzz.sh [--merge] [--jobs N] [SECONDS] [TARGET...]
#
# SECONDS defaults to 600; TARGETs default to all of tests/fuzz (config,
# metric_regex, metric_json, google_benchmark, hyperfine, pyperf, callgrind,
# alerts).
# Each run starts from the seeds in tests/fuzz/corpus/<target> plus what
# earlier runs found (build-fuzz/corpus/<target>), and prints one line per
# target: executions, executions per second, corpus size, and the result.
# A crash, leak or hang leaves its input in build-fuzz/artifacts/ and makes
# the script exit 1; add that input to tests/fuzz/corpus/<target> with the
# fix, so that CI replays it (ctest -R fuzz.replay). --merge adds the inputs
# that reach new code to the seed corpus (libFuzzer's -merge=1). --jobs N
# fuzzes N targets at once (default 1): each still runs SECONDS, with a share
# of the cores, so its executions are fewer.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PERFBISECT_FUZZ_BUILD_DIR:-$root/build-fuzz}

merge=false
jobs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --merge) merge=true; shift ;;
    --jobs) jobs=${2:-}; shift 2 || { echo "fuzz.sh: --jobs needs a number" >&2; exit 2; } ;;
    *) break ;;
  esac
done
case "$jobs" in
  '' | *[!0-9]* | 0) echo "fuzz.sh: --jobs must be a positive whole number, got '$jobs'" >&2; exit 2 ;;
esac
seconds=${1:-600}
shift || true
case "$seconds" in
  '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;;
esac
all=(config metric_regex metric_json google_benchmark hyperfine pyperf callgrind alerts)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [ -d "$root/tests/fuzz/corpus/$t" ] \
    || { echo "fuzz.sh: unknown target '$t' (targets: ${all[*]})" >&2; exit 2; }
done

bash "$root/scripts/deps.sh"
if ! command -v clang++-19 > /dev/null || [ ! -d /usr/lib/llvm-19/lib/clang ]; then
  echo "fuzz.sh: installing clang-19 and libFuzzer" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang-19 libclang-rt-19-dev > /dev/null
fi

mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-19 -DPERFBISECT_FUZZ=ON \
  -DPERFBISECT_SANITIZE=address,undefined \
  -DPERFBISECT_BUILD_TESTS=OFF -DPERFBISECT_BUILD_BENCH=OFF > "$build/configure.log" 2>&1 \
  || { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")

mkdir -p "$build/artifacts"

# fuzz_one TARGET: runs it, writes its result line to $build/result-TARGET.
fuzz_one() {
  local t=$1 work="$build/corpus/$1" log="$build/fuzz-$1.log" code execs rate result
  mkdir -p "$work"
  set +e
  # -max_len: probe outputs are large; 64 KiB lets inputs grow past toy sizes.
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 \
    -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/artifacts/$t-" "$work" "$root/tests/fuzz/corpus/$t" > "$log" 2>&1
  code=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  result=ok
  if [ "$code" -ne 0 ]; then
    result="FAILED (exit $code): $(grep -m1 -E 'ERROR: |SUMMARY: ' "$log" || echo "see $log")"
  fi
  printf '%-18s %8s %12s %10s %8s  %s\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" \
    "$(ls "$work" | wc -l)" "$result" > "$build/result-$t"
  if $merge && [ "$code" -eq 0 ]; then
    "$build/tests/fuzz/fuzz_$t" -merge=1 -max_len=65536 "$root/tests/fuzz/corpus/$t" "$work" \
      > "$build/merge-$t.log" 2>&1
  fi
}

printf '%-18s %8s %12s %10s %8s  %s\n' target seconds executions "exec/s" corpus result
status=0
running=0
for t in "${targets[@]}"; do
  rm -f "$build/result-$t"
  if [ "$jobs" -eq 1 ]; then
    fuzz_one "$t"
    cat "$build/result-$t"
    continue
  fi
  fuzz_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait
for t in "${targets[@]}"; do
  if [ "$jobs" -gt 1 ]; then cat "$build/result-$t"; fi
  grep -q '  ok$' "$build/result-$t" || status=1
done
exit $status
