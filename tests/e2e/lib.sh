# Shared helpers of the end-to-end tests: sourced, not run.
# $PERFBISECT is the binary under test (set by ctest).
set -euo pipefail

: "${PERFBISECT:?set PERFBISECT to the perfbisect binary}"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# A scratch directory removed on exit.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/perfbisect-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# make_repo DIR COMMITS CULPRIT [PROBE_SLEEP] [BROKEN_POSITIONS...]
# A git repository whose "benchmark" is a shell script printing `time: X`,
# X = level * (1 ± 3 % noise). The commit at position CULPRIT (0 = the first
# commit, which is tagged good; the last is tagged bad) raises the level from
# 100 to 125. Commits at BROKEN_POSITIONS fail to build. Prints the culprit sha.
make_repo() {
  local dir=$1 commits=$2 culprit=$3 sleep_s=${4:-0}
  shift 3; [ $# -gt 0 ] && shift
  local broken=" $* "
  mkdir -p "$dir"
  (
    cd "$dir"
    export GIT_AUTHOR_NAME="Ada Perf" GIT_AUTHOR_EMAIL="ada@example.com"
    export GIT_COMMITTER_NAME="Ada Perf" GIT_COMMITTER_EMAIL="ada@example.com"
    git init -q -b main .
    cat > bench.sh <<SCRIPT
#!/bin/sh
dir=\$(dirname "\$0")
level=\$(cat "\$dir/level.txt")
r=\$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
sleep $sleep_s
awk -v l="\$level" -v r="\$r" 'BEGIN { printf "time: %.4f ms\n", l * (0.97 + 0.06 * r / 65535) }'
SCRIPT
    chmod +x bench.sh
    cat > build.sh <<'SCRIPT'
#!/bin/sh
if [ -e BROKEN ]; then echo "error: this commit does not compile" >&2; exit 1; fi
mkdir -p build && cp bench.sh level.txt build/
SCRIPT
    chmod +x build.sh
    local i culprit_sha=""
    for i in $(seq 0 $((commits - 1))); do
      if [ "$i" -ge "$culprit" ]; then echo 125 > level.txt; else echo 100 > level.txt; fi
      if [[ "$broken" == *" $i "* ]]; then touch BROKEN; else rm -f BROKEN; fi
      echo "change $i" >> NOTES
      local subject="Change number $i"
      [ "$i" -eq "$culprit" ] && subject="Make the hot loop slower"
      export GIT_AUTHOR_DATE="2024-01-01T00:00:$(printf %02d $((i % 60)))Z" GIT_COMMITTER_DATE="2024-01-01T00:00:$(printf %02d $((i % 60)))Z"
      git add -A && git commit -q -m "$subject"
      [ "$i" -eq 0 ] && git tag good
      [ "$i" -eq "$culprit" ] && culprit_sha=$(git rev-parse HEAD)
    done
    git tag bad
    echo "$culprit_sha"
  )
}

# write_config FILE REPO_DIR [SAMPLES]
write_config() {
  cat > "$1" <<CONFIG
[repo]
path = "$2"

[build]
command = "./build.sh"
artifacts = ["build/bench.sh", "build/level.txt"]
timeout = "1m"

[probe]
command = ["sh", "{artifacts}/bench.sh"]
metric = "regex:time: ([0-9.]+) ms"
direction = "lower"
timeout = "30s"

[decide]
min_effect = "5%"
samples = ${3:-8}
CONFIG
}

# json FILE EXPRESSION: evaluates a Python expression on the parsed JSON `d`.
json() {
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}
