#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every test with
# ctest (unit, adapter and end-to-end tests, and the fuzz corpora), printing
# ctest's summary.
#
#   scripts/test.sh               the RelWithDebInfo build in build/
#   scripts/test.sh --sanitize    the same tests in an AddressSanitizer +
#                                 UndefinedBehaviorSanitizer build, build-asan/
#                                 (any report fails the test that caused it)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PERFBISECT_BUILD_DIR:-$root/build}
cmake_args=()
ctest_args=()
if [ "${1:-}" = "--sanitize" ]; then
  build=${PERFBISECT_BUILD_DIR:-$root/build-asan}
  # The benches are not tests; leave them out of the slower build.
  cmake_args=(-DPERFBISECT_SANITIZE=address,undefined -DPERFBISECT_BUILD_BENCH=OFF)
  # Every report is fatal; leaks are reported at exit (and fail the test).
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  # The demo is a real-timing bisect: the plain build runs it; its code paths
  # are e2e.bisect's, which runs here.
  ctest_args=(-E '^e2e[.]demo_sample$')
elif [ $# -gt 0 ]; then
  echo "usage: scripts/test.sh [--sanitize]" >&2
  exit 2
fi

# ccache (when installed) shares objects between clones: paths under the
# root are hashed relative to it, so CI's fresh clone reuses the last build's.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}

bash "$root/scripts/deps.sh"
PERFBISECT_BUILD_DIR=$build bash "$root/scripts/build.sh" "${cmake_args[@]}"
cd "$build"
ctest --output-on-failure --timeout 600 -j "$(nproc)" "${ctest_args[@]}"
