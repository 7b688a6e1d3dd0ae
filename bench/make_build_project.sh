#!/usr/bin/env bash
# Generates the CMake project that bench_build builds: FILES C++ translation
# units (each a few hundred lines of templates over the standard library, so a
# compile takes a realistic fraction of a second) and a history of COMMITS
# commits, each of which edits a few units — the shape of a real range.
# Deterministic: the same arguments give the same history, ids included.
#
#   bench/make_build_project.sh DIR [FILES] [COMMITS]     (defaults 48 and 64)
set -euo pipefail
dir=${1:?usage: make_build_project.sh DIR [FILES] [COMMITS]}
files=${2:-48}
commits=${3:-64}
[ ! -e "$dir" ] || { echo "make_build_project.sh: $dir exists; give a new directory" >&2; exit 2; }
mkdir -p "$dir/src"
cd "$dir"
export GIT_AUTHOR_NAME="Bench" GIT_AUTHOR_EMAIL="bench@example.com"
export GIT_COMMITTER_NAME="Bench" GIT_COMMITTER_EMAIL="bench@example.com"
git init -q -b main .

# unit N REVISION: one translation unit; REVISION changes its code.
unit() {
  local n=$1 rev=$2
  cat <<CPP
// Unit $n, revision $rev.
#include <algorithm>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "units.hpp"

namespace {

template <typename T>
struct Stats$n {
    std::map<std::string, std::vector<T>> series;
    void add(const std::string& key, T value) { series[key].push_back(value); }
    T total() const {
        T sum{};
        for (const auto& [key, values] : series) sum = std::accumulate(values.begin(), values.end(), sum);
        return sum;
    }
};

std::vector<std::string> split$n(const std::string& text) {
    std::vector<std::string> out(1);
    for (char c : text) {
        if (c == ' ') out.emplace_back();
        else out.back() += c;
    }
    return out;
}

}  // namespace

long unit_$n(int seed) {
    Stats$n<long> stats;
    std::map<std::string, int> counts;
    std::string text;
    for (int i = 0; i < 50; ++i) text += "w" + std::to_string((seed * $n + i * $rev) % 97) + " ";
    for (const auto& w : split$n(text)) {
        ++counts[w];
        stats.add(w, static_cast<long>(w.size()) * $rev);
    }
    std::vector<std::pair<std::string, int>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    auto mix = [](long v) { return v * 31 + $rev; };
    return mix(stats.total()) + static_cast<long>(sorted.size());
}
CPP
}

{
  echo "#pragma once"
  for n in $(seq 1 "$files"); do echo "long unit_$n(int seed);"; done
} > src/units.hpp
{
  echo '#include <cstdio>'
  echo '#include "units.hpp"'
  echo 'int main() {'
  echo '    long sum = 0;'
  for n in $(seq 1 "$files"); do echo "    sum += unit_$n(1);"; done
  echo '    std::printf("%ld\n", sum);'
  echo '}'
} > src/main.cpp
{
  echo 'cmake_minimum_required(VERSION 3.16)'
  echo 'project(build_bench CXX)'
  echo 'set(CMAKE_CXX_STANDARD 17)'
  echo 'add_executable(app src/main.cpp'
  for n in $(seq 1 "$files"); do echo "  src/unit_$n.cpp"; done
  echo ')'
} > CMakeLists.txt
declare -a revision
for n in $(seq 1 "$files"); do
  revision[$n]=1
  unit "$n" 1 > "src/unit_$n.cpp"
done
at=1700000000
commit() {
  at=$((at + 60))
  GIT_AUTHOR_DATE="@$at +0000" GIT_COMMITTER_DATE="@$at +0000" git add -A
  GIT_AUTHOR_DATE="@$at +0000" GIT_COMMITTER_DATE="@$at +0000" git commit -q -m "$1"
}
commit "Initial project"

RANDOM=4242  # the same history every time
for c in $(seq 1 $((commits - 1))); do
  touched=""
  for _ in $(seq 1 $((1 + RANDOM % 3))); do
    n=$((1 + RANDOM % files))
    revision[$n]=$((revision[$n] + 1))
    unit "$n" "${revision[$n]}" > "src/unit_$n.cpp"
    touched="$touched $n"
  done
  commit "Change $c: units$touched"
done
git rev-list --count HEAD > /dev/null
