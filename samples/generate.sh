#!/usr/bin/env bash
# Generates the perfbisect demo: a small git repository whose history contains exactly one
# commit that makes the benchmark measurably slower, plus a perfbisect.toml pointing at it.
#
#   samples/generate.sh DIR [--commits N] [--culprit K] [--slowdown PCT] [--broken-commit M]
#                           [--force]
#
# Creates DIR/repo (N commits on branch main, tags v1.0 on the first and v1.1 on the last
# commit) and DIR/perfbisect.toml, then prints exactly two lines on stdout:
#
#   culprit <full sha of commit K>
#   subject <subject of commit K>
#
# Identities and dates are fixed, so the same arguments always produce the same shas.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: generate.sh DIR [options]

Creates DIR/repo, a git repository whose history contains one commit that makes the
benchmark slower, and DIR/perfbisect.toml, a perfbisect config for it.

options:
  --commits N        number of commits in the history (default 40, 2..500)
  --culprit K        1-based position of the commit that plants the slowdown (default 27,
                     2..N)
  --slowdown PCT     approximate slowdown planted by the culprit, in percent (default 25,
                     5..100)
  --broken-commit M  make commit M fail to build and commit M+1 fix it (default: off;
                     2 <= M < N, and neither M nor M+1 may be the culprit)
  --force            replace DIR/repo if it already exists
  -h, --help         show this help

stdout: "culprit <sha>" and "subject <subject>"; progress and errors go to stderr.
EOF
}

die() {
  echo "generate.sh: $*" >&2
  exit 1
}

# ----------------------------------------------------------------------------------------------
# Arguments

dir=""
commits=40
culprit=27
slowdown=25
broken=0
force=0

need_int() {
  [[ $2 =~ ^[0-9]+$ ]] || die "$1 expects a non-negative integer, got '$2'"
}

while [ $# -gt 0 ]; do
  case $1 in
    --commits | --culprit | --slowdown | --broken-commit)
      [ $# -ge 2 ] || die "$1 needs a value"
      need_int "$1" "$2"
      case $1 in
        --commits) commits=$((10#$2)) ;;
        --culprit) culprit=$((10#$2)) ;;
        --slowdown) slowdown=$((10#$2)) ;;
        --broken-commit) broken=$((10#$2)) ;;
      esac
      shift 2
      ;;
    --force)
      force=1
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      usage >&2
      die "unknown option '$1'"
      ;;
    *)
      [ -z "$dir" ] || die "more than one DIR given ('$dir' and '$1')"
      dir=$1
      shift
      ;;
  esac
done

[ -n "$dir" ] || {
  usage >&2
  die "missing DIR"
}
((commits >= 2 && commits <= 500)) || die "--commits must be between 2 and 500, got $commits"
((culprit >= 2 && culprit <= commits)) ||
  die "--culprit must be between 2 and the number of commits ($commits), got $culprit"
((slowdown >= 5 && slowdown <= 100)) || die "--slowdown must be between 5 and 100, got $slowdown"
if ((broken != 0)); then
  ((broken >= 2 && broken < commits)) ||
    die "--broken-commit must be between 2 and $((commits - 1)), got $broken"
  ((broken != culprit && broken + 1 != culprit)) ||
    die "--broken-commit $broken would overlap the culprit ($culprit): neither M nor M+1 may be K"
fi

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench_src=$script_dir/bench/bench.cpp
[ -f "$bench_src" ] || die "missing $bench_src"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
repo=$dir/repo
if [ -e "$repo" ]; then
  ((force)) || die "$repo already exists (use --force to replace it)"
  rm -rf "$repo"
fi

# ----------------------------------------------------------------------------------------------
# Git, isolated from the user's and the system's configuration and environment

unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES \
  GIT_NAMESPACE GIT_CONFIG GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT GIT_TEMPLATE_DIR
empty_home=$(mktemp -d)
trap 'rm -rf "$empty_home"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME=$empty_home \
  XDG_CONFIG_HOME=$empty_home/.config GIT_TERMINAL_PROMPT=0 LC_ALL=C TZ=UTC

g() { git -C "$repo" "$@"; }

authors=(
  "Ada Lindqvist|ada.lindqvist@example.com|+0100"
  "Tomas Okafor|tomas.okafor@example.com|+0000"
  "Priya Raman|priya.raman@example.com|+0530"
)
base_epoch=1717232400 # 2024-06-01 09:00:00 UTC
epoch=$base_epoch

# identity POSITION: exports the author/committer of commit POSITION and a strictly increasing
# date (a few hours to a day and a half after the previous commit).
identity() {
  local pos=$1 name email tz
  IFS='|' read -r name email tz <<<"${authors[$(((pos * 7 + pos / 3) % 3))]}"
  if ((pos > 1)); then
    epoch=$((epoch + 5400 + (pos * 48271) % 108000))
  fi
  export GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email GIT_AUTHOR_DATE="$epoch $tz"
  export GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email GIT_COMMITTER_DATE="$epoch $tz"
}

# commit POSITION SUBJECT [BODY]: commits everything in the work tree.
commit() {
  local pos=$1 subject=$2 body=${3:-}
  identity "$pos"
  g add -A
  if g diff --cached --quiet; then
    die "commit $pos ('$subject') has no changes"
  fi
  if [ -n "$body" ]; then
    g commit -q --no-verify -m "$subject" -m "$body"
  else
    g commit -q --no-verify -m "$subject"
  fi
}

# ----------------------------------------------------------------------------------------------
# Editing helpers. Anchors are literal text; an edit whose anchor is missing or ambiguous stops
# the script, so a change to samples/bench/bench.cpp cannot silently produce a different story.

# replace_once FILE OLD NEW
replace_once() {
  local file=$repo/$1
  [ -f "$file" ] || die "edit: $1 does not exist"
  OLD=$2 NEW=$3 perl -0777 -i -pe '
    my ($old, $new) = ($ENV{OLD}, $ENV{NEW});
    my $n = () = /\Q$old\E/g;
    die "generate.sh: edit of $ARGV: expected exactly one match of <<$old>>, found $n\n"
      unless $n == 1;
    s/\Q$old\E/$new/;
  ' "$file"
}

# insert_after FILE ANCHOR <<TEXT / insert_before FILE ANCHOR <<TEXT
insert_after() {
  local text
  text=$(cat && echo .)
  replace_once "$1" "$2" "$2${text%.}"
}
insert_before() {
  local text
  text=$(cat && echo .)
  replace_once "$1" "$2" "${text%.}$2"
}

# rename_in FILE START OLD NEW: renames the identifier OLD to NEW from the literal START up to the
# end of that function (the next line consisting of a single "}").
rename_in() {
  local file=$repo/$1
  START=$2 OLD=$3 NEW=$4 perl -0777 -i -pe '
    my ($start, $old, $new) = ($ENV{START}, $ENV{OLD}, $ENV{NEW});
    my $from = index($_, $start);
    die "generate.sh: rename in $ARGV: <<$start>> not found\n" if $from < 0;
    my $to = index($_, "\n}\n", $from);
    die "generate.sh: rename in $ARGV: end of <<$start>> not found\n" if $to < 0;
    my $body = substr($_, $from, $to - $from);
    my $n = ($body =~ s/\b\Q$old\E\b/$new/g);
    die "generate.sh: rename in $ARGV: <<$old>> not found after <<$start>>\n" unless $n;
    substr($_, $from, $to - $from) = $body;
  ' "$file"
}

# write FILE <<TEXT (creates or overwrites) / append FILE <<TEXT
write() {
  mkdir -p "$(dirname "$repo/$1")"
  cat >"$repo/$1"
}
append() {
  [ -f "$repo/$1" ] || die "append: $1 does not exist"
  cat >>"$repo/$1"
}

# ----------------------------------------------------------------------------------------------
# Commit 1: the initial import

initial_commit() {
  mkdir -p "$repo"
  git init -q -b main "$repo"
  cp "$bench_src" "$repo/bench.cpp"
  write build.sh <<'EOF'
#!/bin/sh
set -e
cd "$(dirname "$0")"
mkdir -p build && c++ -O2 -std=c++17 -o build/bench bench.cpp
EOF
  chmod 755 "$repo/build.sh"
  write README.md <<'EOF'
# bench

`bench` is a small access-log analyser that doubles as a CPU benchmark. It generates a
deterministic synthetic access log in memory, tokenizes every record, aggregates per-user and
per-word statistics and ranks the results.

## Build

    ./build.sh

The binary is written to `build/bench`.

## Run

    build/bench

It prints a single line, `time_ms: <milliseconds>`, on stdout; everything else goes to stderr.
EOF
  commit 1 "Import log analysis benchmark"
}

# ----------------------------------------------------------------------------------------------
# The planted regression: a "consistency check" that analyses a leading sample of the log a
# second time inside the timed region, so the extra work grows with the sample size. Calibrated
# with g++ 12 -O2 on a 2-core x86-64 VM, the check makes a run about 3 + 1.16 * SAMPLE percent
# slower: the sample's records cost a little more than average (the first occurrences of users
# and words fall into it), and the extra call, maps and sorting plus the shifted code layout cost
# a few percent on their own. So SAMPLE = (PCT - 3) / 1.16, rounded, at least 1.

culprit_subject="Cross-check totals against a second pass over a sample"

culprit_commit() {
  local pos=$1 sample=$((((slowdown - 3) * 100 + 58) / 116))
  ((sample >= 1)) || sample=1
  insert_after bench.cpp $'constexpr std::uint64_t kSeed = 0x5eed1234abcdULL;\n' <<EOF
// Share of the log, in percent, that is analysed a second time as a consistency check.
constexpr std::size_t kCrossCheckPercent = $sample;
EOF
  insert_before bench.cpp $'}  // namespace\n' <<'EOF'
// Leading part of the log holding about `percent` percent of it, cut at a line boundary.
std::string_view sample_prefix(std::string_view text, std::size_t percent) {
    std::size_t cut = text.find('\n', text.size() * percent / 100);
    return cut == std::string_view::npos ? text : text.substr(0, cut + 1);
}

// A prefix of the log can never have more records, bytes or occurrences of a word than the
// whole log; if it does, the tokenizer carried state from one record into the next.
void cross_check(const Summary& full, const Summary& sample) {
    bool consistent =
        sample.stats.records <= full.stats.records && sample.stats.bytes <= full.stats.bytes;
    for (const auto& [word, count] : sample.stats.words) {
        auto it = full.stats.words.find(word);
        consistent = consistent && it != full.stats.words.end() && it->second >= count;
    }
    if (!consistent) {
        std::cerr << "warning: sample analysis disagrees with the full analysis\n";
    }
}

EOF
  insert_after bench.cpp $'    const Summary summary = analyse(text);\n' <<'EOF'
    cross_check(summary, analyse(sample_prefix(text, kCrossCheckPercent)));
EOF
  commit "$pos" "$culprit_subject" \
    "Analyse a leading sample of the log a second time and make sure its totals are consistent
with the full run. This would have caught the tokenizer bug we chased last week, where a
quoted value leaked into the next record."
}

# ----------------------------------------------------------------------------------------------
# The optional broken build: commit M calls a helper that is only defined after main(), commit
# M+1 adds the missing declaration.

broken_commit() {
  insert_before bench.cpp $'    char checksum[32];\n' <<'EOF'
    std::cerr << "throughput: " << format_rate(summary.stats.records, elapsed_ms) << '\n';
EOF
  append bench.cpp <<'EOF'

std::string format_rate(std::uint64_t records, double elapsed_ms) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%.1f records/ms",
                  elapsed_ms > 0 ? static_cast<double>(records) / elapsed_ms : 0.0);
    return buffer;
}
EOF
  commit "$1" "Print throughput on stderr"
}

fix_commit() {
  insert_before bench.cpp $'int main(int argc, char** argv) {\n' <<'EOF'
std::string format_rate(std::uint64_t records, double elapsed_ms);

EOF
  commit "$1" "Fix build: declare format_rate before main"
}

# ----------------------------------------------------------------------------------------------
# Harmless changes, used in this order for every other position. None of them touches the timed
# code paths beyond renaming locals or adding comments.

harmless_count=0

harmless() {
  local pos=$1
  harmless_count=$((harmless_count + 1))
  case $harmless_count in
    1)
      write .gitignore <<'EOF'
/build/
EOF
      commit "$pos" "Ignore the build directory"
      ;;
    2)
      replace_once bench.cpp $'            std::cerr << "usage: bench [--quick]\\n";\n' \
        $'            std::cerr << "usage: bench [--quick]\\n"\n                         "\\n"\n                         "Analyses a synthetic access log and prints the time taken.\\n"\n                         "  --quick  analyse a 10x smaller log (for smoke tests)\\n";\n'
      commit "$pos" "Add usage text"
      ;;
    3)
      append README.md <<'EOF'

## Input

The log is generated in memory from a fixed seed, so every run analyses exactly the same data.
Each record is a line of `key=value` fields:

    ts=1700000000017 user=u42 method=GET path=/api/v2/orders/1234 status=200 bytes=5123 msg="request served from cache"
EOF
      commit "$pos" "Describe the record format in README"
      ;;
    4)
      rename_in bench.cpp 'bool parse_record(std::string_view line, Record& rec) {' pos cursor
      commit "$pos" "Rename tokenizer state"
      ;;
    5)
      write CHANGES.md <<'EOF'
# Changes

## Unreleased

- Usage text when bench is given an unknown option.
- README describes the record format.

## 1.0

- First version: synthetic access log, per-user and per-word aggregation.
EOF
      commit "$pos" "Start a changelog"
      ;;
    6)
      replace_once bench.cpp \
        $'    // Skewed pick: small indices are much more likely, like word frequencies in real text.\n' \
        $'    // Skewed pick: small indices are much more likely, like word frequencies in real text.\n    // (The minimum of two uniform picks, squared and rescaled; roughly a power law.)\n'
      commit "$pos" "Explain the skewed distribution"
      ;;
    7)
      rename_in bench.cpp 'bool parse_record(std::string_view line, Record& rec) {' value_begin value_start
      commit "$pos" "Use value_start/value_end consistently in parse_record"
      ;;
    8)
      insert_before bench.cpp $'std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {\n' <<'EOF'
// Percentile of a list of samples (nearest rank). Handy when experimenting with repeated runs.
[[maybe_unused]] double percentile(std::vector<double> values, double q) {
    if (values.empty()) {
        return 0.0;
    }
    std::sort(values.begin(), values.end());
    std::size_t rank = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(rank, values.size() - 1)];
}

EOF
      commit "$pos" "Add a percentile helper"
      ;;
    9)
      append README.md <<'EOF'

## Quick mode

`build/bench --quick` analyses a log ten times smaller. It is meant for smoke tests, not for
timing: at that size start-up noise dominates.
EOF
      commit "$pos" "Mention --quick in README"
      ;;
    10)
      replace_once bench.cpp $'    std::cerr << "checksum: " << checksum << \'\\n\';\n' \
        $'    std::cerr << "checksum (fnv-1a): " << checksum << \'\\n\';\n'
      commit "$pos" "Name the hash in the checksum line"
      ;;
    11)
      write scripts/repeat.sh <<'EOF'
#!/bin/sh
# Runs build/bench N times (default 10) and prints one time per line.
set -e
cd "$(dirname "$0")/.."
n=${1:-10}
i=0
while [ "$i" -lt "$n" ]; do
  build/bench 2>/dev/null | sed -n 's/^time_ms: //p'
  i=$((i + 1))
done
EOF
      chmod 755 "$repo/scripts/repeat.sh"
      commit "$pos" "Add a script to repeat runs"
      ;;
    12)
      replace_once bench.cpp $'void accumulate(const Record& rec, Stats& stats) {\n' \
        $'// Folds one parsed record into the running totals. Words in the message are split on single\n// spaces; the generator never emits runs of spaces.\nvoid accumulate(const Record& rec, Stats& stats) {\n'
      commit "$pos" "Document accumulate"
      ;;
    13)
      write .clang-format <<'EOF'
BasedOnStyle: Google
ColumnLimit: 100
IndentWidth: 4
AccessModifierOffset: -2
EOF
      commit "$pos" "Add clang-format config"
      ;;
    14)
      append README.md <<'EOF'

## Requirements

A C++17 compiler (GCC 8+, Clang 7+) and a POSIX shell. There are no other dependencies.
EOF
      commit "$pos" "List compiler requirements"
      ;;
    15)
      replace_once bench.cpp '<< ", top: " <<' '<< ", top by bytes: " <<'
      commit "$pos" "Clarify how the top user is ranked"
      ;;
    16)
      insert_before bench.cpp 'constexpr std::size_t kFullLines = ' <<'EOF'
constexpr std::size_t kUserCount = 5000;
EOF
      replace_once bench.cpp 'rng.skewed(5000)' 'rng.skewed(kUserCount)'
      commit "$pos" "Name the user count constant"
      ;;
    17)
      write .editorconfig <<'EOF'
root = true

[*]
end_of_line = lf
insert_final_newline = true
trim_trailing_whitespace = true

[*.cpp]
indent_style = space
indent_size = 4
EOF
      commit "$pos" "Add editorconfig"
      ;;
    18)
      rename_in bench.cpp 'std::string generate_log(std::size_t lines) {' w word_index
      commit "$pos" "Use a descriptive loop variable in generate_log"
      ;;
    19)
      replace_once bench.cpp $'struct Stats {\n' \
        $'// Keys are string_views into the log text, which outlives every Stats object.\nstruct Stats {\n'
      commit "$pos" "Note why string_view keys are safe"
      ;;
    20)
      write docs/FORMAT.md <<'EOF'
# Record format

| field    | type    | notes                                   |
|----------|---------|-----------------------------------------|
| `ts`     | integer | milliseconds since the epoch, ascending |
| `user`   | string  | `u<number>`, skewed towards low numbers |
| `method` | string  | HTTP method                             |
| `path`   | string  | `/api/v2/<resource>/<id>`               |
| `status` | integer | HTTP status, 100..599                   |
| `bytes`  | integer | response size                           |
| `msg`    | quoted  | free text, words separated by spaces    |

Records with unknown fields, missing fields or malformed numbers are counted as malformed.
EOF
      commit "$pos" "Document record fields"
      ;;
    21)
      insert_before bench.cpp $'std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {\n' <<'EOF'
// Formats a byte count with a binary unit, e.g. "1.5 MiB".
[[maybe_unused]] std::string human_bytes(std::uint64_t bytes) {
    const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < sizeof(units) / sizeof(units[0])) {
        value /= 1024.0;
        ++unit;
    }
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.1f %s", value, units[unit]);
    return buffer;
}

EOF
      commit "$pos" "Add a helper to format byte counts"
      ;;
    22)
      append README.md <<'EOF'

## Reproducible timings

Timings are only comparable on the same machine. For stable numbers, close other programs,
pin the process (`taskset -c 1 build/bench`) and look at the median of several runs
(`scripts/repeat.sh 15`).
EOF
      commit "$pos" "Add notes on reproducible timings"
      ;;
    23)
      replace_once bench.cpp $'    std::cerr << "top word: " << summary.top_words.front().first << \'\\n\';\n' \
        $'    std::cerr << "top word: " << summary.top_words.front().first << " ("\n              << summary.stats.words.size() << " distinct)\\n";\n'
      commit "$pos" "Print the number of distinct words"
      ;;
    24)
      replace_once bench.cpp $'std::string_view resource_of(std::string_view path) {\n' \
        $'// Returns the third path segment; paths with fewer segments are returned unchanged.\nstd::string_view resource_of(std::string_view path) {\n'
      commit "$pos" "Spell out the resource_of contract"
      ;;
    25)
      replace_once build.sh $'mkdir -p build && c++ -O2 -std=c++17 -o build/bench bench.cpp\n' \
        $'# Keep the flags fixed: timings are compared across commits.\nmkdir -p build && c++ -O2 -std=c++17 -o build/bench bench.cpp\n'
      commit "$pos" "Comment on the fixed compiler flags"
      ;;
    26)
      replace_once bench.cpp $'std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {\n' \
        $'// 64-bit FNV-1a, see http://www.isthe.com/chongo/tech/comp/fnv/.\nstd::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {\n'
      commit "$pos" "Add a reference for FNV-1a"
      ;;
    27)
      write AUTHORS <<'EOF'
Ada Lindqvist <ada.lindqvist@example.com>
Tomas Okafor <tomas.okafor@example.com>
Priya Raman <priya.raman@example.com>
EOF
      commit "$pos" "Add AUTHORS"
      ;;
    28)
      rename_in bench.cpp 'std::string_view resource_of(std::string_view path) {' slash segment_end
      commit "$pos" "Rename slash to segment_end in resource_of"
      ;;
    29)
      append CHANGES.md <<'EOF'

## Notes

- `scripts/repeat.sh` runs the benchmark several times.
- Byte counts and percentiles have helpers for ad-hoc experiments.
EOF
      commit "$pos" "Update changelog"
      ;;
    30)
      insert_before bench.cpp 'constexpr std::size_t kFullLines = ' <<'EOF'
// Records in a full run; --quick uses a tenth. About 20 MB of log text.
EOF
      commit "$pos" "Document the input size"
      ;;
    31)
      append README.md <<'EOF'

## Troubleshooting

- `c++: command not found`: install a compiler (`apt install g++` or Xcode command line tools).
- Times vary a lot between runs: see "Reproducible timings" above.
EOF
      commit "$pos" "Add troubleshooting section"
      ;;
    32)
      rename_in bench.cpp 'std::vector<std::pair<std::string_view, std::uint64_t>> top_n(' items ranked
      commit "$pos" "Rename items to ranked in top_n"
      ;;
    33)
      write scripts/compare.sh <<'EOF'
#!/bin/sh
# Compares two bench binaries: compare.sh OLD NEW [RUNS]. Prints the median time of each.
set -e
old=$1
new=$2
n=${3:-11}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
run() {
  i=0
  while [ "$i" -lt "$n" ]; do
    "$1" 2>/dev/null | sed -n 's/^time_ms: //p'
    i=$((i + 1))
  done
}
echo "old: $(run "$old" | median) ms"
echo "new: $(run "$new" | median) ms"
EOF
      chmod 755 "$repo/scripts/compare.sh"
      commit "$pos" "Add a script to compare two builds"
      ;;
    34)
      replace_once bench.cpp $'// Usage: bench [--quick]    (--quick runs a 10x smaller input)\n' \
        $'// Usage: bench [--quick]    (--quick runs a 10x smaller input)\n//\n// The workload is deterministic: the same binary analyses the same bytes on every run.\n'
      commit "$pos" "Note that the workload is deterministic"
      ;;
    35)
      append docs/FORMAT.md <<'EOF'

The generator draws users and message words from skewed distributions, so a few users and
words dominate, much like in real logs.
EOF
      commit "$pos" "Explain the distributions in FORMAT.md"
      ;;
    36)
      replace_once README.md $'It prints a single line, `time_ms: <milliseconds>`, on stdout; everything else goes to stderr.\n' \
        $'It prints a single line, `time_ms: <milliseconds>`, on stdout; everything else goes to stderr.\nOnly the analysis is timed, not the generation of the input.\n'
      commit "$pos" "Say what is timed"
      ;;
    *)
      generic_change "$pos" $((harmless_count - 36))
      ;;
  esac
}

# Beyond the list above: FAQ entries, then numbered maintenance notes.
faq=(
  "Why is the input generated instead of read from a file?|So that the benchmark has no I/O and every machine analyses identical bytes."
  "Why is only one line printed on stdout?|Tools that collect timings parse stdout; details go to stderr."
  "Can I change the number of records?|Yes, edit kFullLines, but timings are then not comparable with older builds."
  "Is the checksum stable across compilers?|Yes; it only depends on the generated input and the analysis results."
  "Why string_view keys?|They avoid copying every token; the log text lives for the whole run."
  "Does the benchmark use threads?|No, it is single-threaded on purpose."
  "Which compiler flags are used?|-O2 -std=c++17, see build.sh."
  "Why does --quick exist?|For smoke tests in CI, where timing is not the point."
)

generic_change() {
  local pos=$1 n=$2
  if ((n == 1)); then
    append README.md <<'EOF'

## FAQ
EOF
  fi
  if ((n <= ${#faq[@]})); then
    local question answer
    IFS='|' read -r question answer <<<"${faq[$((n - 1))]}"
    printf '\n**%s**\n%s\n' "$question" "$answer" >>"$repo/README.md"
    commit "$pos" "FAQ: $question"
  else
    mkdir -p "$repo/docs"
    printf -- '- Maintenance pass %d: re-ran the benchmark, no functional changes.\n' \
      "$((n - ${#faq[@]}))" >>"$repo/docs/MAINTENANCE.md"
    commit "$pos" "Record maintenance pass $((n - ${#faq[@]}))"
  fi
}

release_commit() {
  [ -f "$repo/CHANGES.md" ] || printf '# Changes\n' >"$repo/CHANGES.md"
  append CHANGES.md <<'EOF'

## 1.1

- Released.
EOF
  commit "$1" "Prepare 1.1 release"
}

# ----------------------------------------------------------------------------------------------
# History

echo "generate.sh: creating $repo ($commits commits, culprit at $culprit, ~$slowdown% slower)" >&2
initial_commit
g tag -a v1.0 -m "bench 1.0"

for ((pos = 2; pos <= commits; pos++)); do
  if ((pos == culprit)); then
    culprit_commit "$pos"
  elif ((broken != 0 && pos == broken)); then
    broken_commit "$pos"
  elif ((broken != 0 && pos == broken + 1)); then
    fix_commit "$pos"
  elif ((pos == commits && commits > 2)); then
    release_commit "$pos"
  else
    harmless "$pos"
  fi
done
g tag -a v1.1 -m "bench 1.1"

count=$(g rev-list --count HEAD)
[ "$count" -eq "$commits" ] || die "expected $commits commits, got $count"
culprit_sha=$(g rev-list --reverse HEAD | sed -n "${culprit}p")
[ "$(g log -1 --format=%s "$culprit_sha")" = "$culprit_subject" ] || die "culprit mismatch"

# ----------------------------------------------------------------------------------------------
# perfbisect config

cat >"$dir/perfbisect.toml" <<'EOF'
# perfbisect config for the generated demo repository.
[repo]
path = "repo"            # relative to this file
first_parent = true

[build]
command = "./build.sh"
artifacts = ["build/bench"]
timeout = "2m"

[probe]
command = ["{artifacts}/bench"]
metric = "regex:time_ms: ([0-9.]+)"
direction = "lower"
timeout = "30s"

[decide]
min_effect = "5%"
samples = 10
EOF

echo "culprit $culprit_sha"
echo "subject $culprit_subject"
