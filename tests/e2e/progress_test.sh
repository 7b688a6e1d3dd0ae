#!/usr/bin/env bash
# Progress while a session runs: on a terminal (a pty from script(1)) a status
# line redrawn in place; in a log plain lines, one per step, without carriage
# returns or escape sequences; with -q nothing on stderr at all.
source "$(dirname "$0")/lib.sh"

culprit=$(make_repo "$WORK/repo" 12 7)
write_config "$WORK/c.toml" "$WORK/repo"
command -v script > /dev/null || fail "script(1) (bsdutils) is needed"

# Not a terminal: plain lines.
"$PERFBISECT" run --config "$WORK/c.toml" --good good --bad bad --db "$WORK/plain.db" \
  > "$WORK/plain.out" 2> "$WORK/plain.err" || fail "run exited $?: $(cat "$WORK/plain.err")"
! grep -q $'\r' "$WORK/plain.err" || fail "carriage returns in a log"
! grep -q $'\033' "$WORK/plain.err" || fail "escape sequences in a log"
grep -Eq '^\[ *[0-9.]+s\] step [0-9]+/~[0-9]+ · [0-9]+ commits left \([0-9]+–[0-9]+ of 12\) · [0-9]+ samples · ' \
  "$WORK/plain.err" || fail "no step line: $(head -5 "$WORK/plain.err")"
grep -q "building " "$WORK/plain.err" || fail "no build lines"
steps=$(grep -c '\] step ' "$WORK/plain.err")
[ "$steps" -ge 3 ] || fail "only $steps step lines"
# One step line per step: no two equal step numbers.
[ "$(grep -o '\] step [0-9]*/' "$WORK/plain.err" | sort | uniq -d | wc -l)" -eq 0 ] ||
  fail "a step printed twice: $(grep '\] step ' "$WORK/plain.err")"
grep -q "^Culprit: $culprit" "$WORK/plain.out" || fail "the report is not on stdout"

# A terminal: script(1) runs perfbisect on a pty and records what it wrote there.
TERM=xterm script -qec "stty cols 120; '$PERFBISECT' run --config '$WORK/c.toml' --good good \
  --bad bad --db '$WORK/live.db' > '$WORK/live.out'" "$WORK/live.typescript" > /dev/null ||
  fail "run on a terminal exited $?"
python3 - "$WORK/live.typescript" <<'PY' || fail "live status line"
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
redraws = raw.split("\r\x1b[K")
status = [r for r in redraws if r.startswith("step ")]
assert len(status) >= 5, f"{len(status)} status redraws"
for line in status:
    shown = line.split("\r\n")[0]  # what stays on the line until the next redraw
    assert len(shown) <= 119, f"wider than the terminal: {shown!r}"
assert any(re.match(r"step \d+/~\d+ · \d+ commits? left .* · (building|measuring) [0-9a-f]{10}.* · \d+ samples · ", s)
           for s in status), status[:3]
assert any(" left" in s and "~" in s.split("·")[-1] for s in status), "no estimate of the time left"
# Log lines are printed above the status: each starts on a cleared line.
assert any(r.startswith("[") and "s] " in r for r in redraws), "no log lines"
# When the session ends, the status line is cleared before the summary.
tail = raw.rstrip("\r\n")
assert "culprit at position" in tail.split("\r\x1b[K")[-1], tail[-200:]
print(f"{len(status)} status redraws, e.g. {status[len(status) // 2].splitlines()[0]!r}")
PY
grep -q "^Culprit: $culprit" "$WORK/live.out" || fail "the report is not on stdout"

# Quiet: nothing on stderr; the report still on stdout.
"$PERFBISECT" run --config "$WORK/c.toml" --good good --bad bad --db "$WORK/quiet.db" -q \
  > "$WORK/quiet.out" 2> "$WORK/quiet.err" || fail "quiet run exited $?"
[ ! -s "$WORK/quiet.err" ] || fail "-q wrote to stderr: $(head -3 "$WORK/quiet.err")"
grep -q "^Culprit: $culprit" "$WORK/quiet.out" || fail "the quiet report"
echo "PASS"
