#!/usr/bin/env bash
# Each bad input of the History and Config lists ends with exit code 2 and one
# clear line on stderr.
source "$(dirname "$0")/lib.sh"

make_repo "$WORK/repo" 5 3 > /dev/null
write_config "$WORK/ok.toml" "$WORK/repo"
git -C "$WORK/repo" checkout -q -b side good
echo side > "$WORK/repo/SIDE" && git -C "$WORK/repo" add SIDE
GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@x GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@x \
  git -C "$WORK/repo" commit -q -m side
git -C "$WORK/repo" checkout -q main

# expect_usage_error NAME PATTERN -- ARGS...: exit 2, one stderr line matching PATTERN.
expect_usage_error() {
  local name=$1 pattern=$2
  shift 3
  set +e
  "$PERFBISECT" "$@" --db "$WORK/p.db" > "$WORK/out" 2> "$WORK/err"
  local code=$?
  set -e
  [ "$code" -eq 2 ] || fail "$name: exit code $code, want 2 ($(cat "$WORK/err"))"
  [ "$(wc -l < "$WORK/err")" -eq 1 ] || fail "$name: stderr is not one line: $(cat "$WORK/err")"
  grep -qE -- "$pattern" "$WORK/err" || fail "$name: '$(cat "$WORK/err")' does not match '$pattern'"
  echo "ok   $name: $(cat "$WORK/err")"
}

run() { echo run --config "$1" --good "$2" --bad "$3"; }

expect_usage_error "unknown revision" "unknown revision 'nope'" -- $(run "$WORK/ok.toml" nope bad)
expect_usage_error "good == bad" "same commit" -- $(run "$WORK/ok.toml" bad bad)
expect_usage_error "good not an ancestor" "not an ancestor" -- $(run "$WORK/ok.toml" side bad)
expect_usage_error "reversed range" "not an ancestor" -- $(run "$WORK/ok.toml" bad good)
mkdir -p "$WORK/plain"
write_config "$WORK/norepo.toml" "$WORK/plain"
# A shallow clone whose tags point below its boundary.
git clone -q --depth 2 --no-single-branch "file://$WORK/repo" "$WORK/shallow"
git -C "$WORK/shallow" fetch -q --depth 2 origin 'refs/tags/*:refs/tags/*'
write_config "$WORK/shallow.toml" "$WORK/shallow"
expect_usage_error "shallow clone missing the range" "the clone is shallow .*git fetch --unshallow" -- \
  $(run "$WORK/shallow.toml" good bad)
expect_usage_error "not a repository" "not a git repository" -- $(run "$WORK/norepo.toml" good bad)
write_config "$WORK/missing.toml" "$WORK/does-not-exist"
expect_usage_error "missing repository" "not a git repository" -- $(run "$WORK/missing.toml" good bad)

expect_usage_error "missing config" "cannot read config file" -- $(run "$WORK/none.toml" good bad)
printf '[build\ncommand = "x"\n' > "$WORK/bad.toml"
expect_usage_error "bad TOML" "invalid TOML" -- $(run "$WORK/bad.toml" good bad)
{ cat "$WORK/ok.toml"; printf "# Latin-1, not UTF-8: caf\xe9\n"; } > "$WORK/latin1.toml"
expect_usage_error "not UTF-8" "latin1.toml: not UTF-8 text \\(line [0-9]+, byte 0xe9 at offset [0-9]+\\); save the config as UTF-8" -- \
  $(run "$WORK/latin1.toml" good bad)
sed 's/^timeout = "1m"/timeut = "1m"/' "$WORK/ok.toml" > "$WORK/unknown.toml"
expect_usage_error "unknown key" "build.timeut: unknown key" -- $(run "$WORK/unknown.toml" good bad)
sed 's/^samples = 8/samples = "eight"/' "$WORK/ok.toml" > "$WORK/type.toml"
expect_usage_error "wrong type" "decide.samples: expected an integer" -- $(run "$WORK/type.toml" good bad)
sed 's/^timeout = "1m"/timeout = "-1m"/' "$WORK/ok.toml" > "$WORK/negative.toml"
expect_usage_error "negative duration" "build.timeout" -- $(run "$WORK/negative.toml" good bad)
sed 's/^command = ".\/build.sh"/command = ""/' "$WORK/ok.toml" > "$WORK/empty.toml"
expect_usage_error "empty command" "build.command: the command is empty" -- $(run "$WORK/empty.toml" good bad)
sed 's/{artifacts}/{artefacts}/' "$WORK/ok.toml" > "$WORK/placeholder.toml"
expect_usage_error "unknown placeholder" "unknown placeholder \{artefacts\}" -- $(run "$WORK/placeholder.toml" good bad)

expect_usage_error "missing flag" "--good" -- run --config "$WORK/ok.toml" --bad bad
expect_usage_error "unknown session" "unknown session 'nope'" -- resume nope
expect_usage_error "unknown format" "unknown --format" -- run --config "$WORK/ok.toml" --good good --bad bad --format yaml
[ ! -e "$WORK/repo/build" ] || fail "something was built"
echo "PASS"
