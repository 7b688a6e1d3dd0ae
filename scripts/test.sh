#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every test with
# ctest (unit, adapter and end-to-end tests), printing ctest's summary.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PERFBISECT_BUILD_DIR:-$root/build}

bash "$root/scripts/deps.sh"
PERFBISECT_BUILD_DIR=$build bash "$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure --timeout 600 -j "$(nproc)"
