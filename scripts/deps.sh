#!/usr/bin/env bash
# Installs perfbisect's build and test dependencies on Debian 12 with apt-get.
# Packages already installed are skipped; sudo is used only when not root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ccache
  libgit2-dev
  libboost-dev libboost-filesystem-dev libboost-regex-dev  # Boost.Process (header-only, needs Filesystem), Boost.Math, Boost.Regex (metric patterns)
  libsqlite3-dev sqlite3
  libspdlog-dev libfmt-dev
  catch2
  libtoml11-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev libssl-dev
  python3
  valgrind hyperfine linux-perf          # probe metrics: callgrind, hyperfine, perf-stat (and their tests)
  chromium libxml2-utils                 # tests: the HTML report in a headless browser, JUnit XML against its schema
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
