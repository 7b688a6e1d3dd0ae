#!/usr/bin/env bash
# What perfbisect serve refuses, over real HTTP: unsigned or wrongly signed
# requests (401), malformed JSON (400 with a message), bodies above 1 MiB
# (413), commits that are shell or git syntax (400, and nothing runs), unknown
# routes (404). Its logs, at debug level, never contain the secret or token.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"

make_repo "$WORK/repo" 8 4 > /dev/null
write_config "$WORK/project.toml" "$WORK/repo"
write_server "$WORK/server.toml" '
[server]
db = "db/p.db"

[[route]]
test = "bench"
config = "project.toml"
'
good=$(git -C "$WORK/repo" rev-parse good)
bad=$(git -C "$WORK/repo" rev-parse bad)
start_serve serve "$WORK/server.toml" --queue-only -v

expect() {  # expect STATUS WHAT PATH FILE [httptool options]
  local want=$1 what=$2 path=$3 file=$4 got
  shift 4
  got=$(post "$path" "$file" "$@")
  [ "$got" = "$want" ] || fail "$what: HTTP $got, want $want: $(cat "$WORK/answer.json")"
  if [ "$want" -ge 400 ]; then
    [ "$(json "$WORK/answer.json" "len(d['error']) > 10")" = True ] || fail "$what: no message"
  fi
  echo "$what: $got $(head -c 160 "$WORK/answer.json")"
}

generic_alert "$WORK/valid.json" bench "$good" "$bad"
expect 401 "unsigned" /v1/alerts "$WORK/valid.json" --signature ""
expect 401 "signed with another secret" /v1/alerts "$WORK/valid.json" --secret "not-$PB_TEST_SECRET"
expect 401 "signature of another body" /v1/alerts "$WORK/valid.json" \
  --signature "sha256=$(printf '{}' | openssl dgst -sha256 -hmac "$PB_TEST_SECRET" | sed 's/.*= //')"
expect 401 "wrong bearer token" /v1/alerts "$WORK/valid.json" --token "not-$PB_TEST_TOKEN"
[ "$("${HTTPTOOL[@]}" request GET "$SERVE_URL/v1/sessions" --out "$WORK/answer.json")" = 401 ] \
  || fail "GET /v1/sessions without a token"

printf '{"test": "bench", "good": ' > "$WORK/malformed.json"
expect 400 "malformed JSON" /v1/alerts "$WORK/malformed.json"
grep -q "not valid JSON" "$WORK/answer.json" || fail "the message does not say what is wrong"

"$PYTHON" -c "import sys; sys.stdout.write('{\"test\": \"bench\", \"pad\": \"' + 'x' * (2 * 1024 * 1024) + '\"}')" > "$WORK/big.json"
status=$(post /v1/alerts "$WORK/big.json")
[ "$status" = 413 ] || fail "2 MiB body: HTTP $status, want 413"
echo "2 MiB body: 413"

# Commits that a shell or git would act on never get further than the parser.
generic_alert "$WORK/subst.json" bench "\$(touch $WORK/pwned)" "$bad"
expect 400 "commit \$(touch …)" /v1/alerts "$WORK/subst.json"
generic_alert "$WORK/option.json" bench "$good" "--upload-pack=touch $WORK/pwned2"
expect 400 "commit --upload-pack=…" /v1/alerts "$WORK/option.json"
generic_alert "$WORK/backtick.json" bench "\`touch $WORK/pwned3\`" "$bad"
expect 400 "commit \`…\`" /v1/alerts "$WORK/backtick.json"
printf '{"bench": [{"time": 1, "attributes": {"commit": "$(touch %s/pwned4)"}, "changes": [{"metric": "time", "forward_change_percent": "20"}]}]}' "$WORK" > "$WORK/otava.json"
expect 400 "Otava commit \$(touch …)" /v1/alerts/otava "$WORK/otava.json"
sleep 0.5
for f in pwned pwned2 pwned3 pwned4; do
  [ ! -e "$WORK/$f" ] || fail "$f was created"
  [ ! -e "$WORK/repo/$f" ] || fail "$f was created in the repository"
done

# Unknown routes.
expect 404 "unknown path" /v1/nothing "$WORK/valid.json"
generic_alert "$WORK/unrouted.json" "no-such-test" "$good" "$bad"
expect 404 "unrouted test" /v1/alerts "$WORK/unrouted.json"
expect 202 "the valid alert" /v1/alerts "$WORK/valid.json"
expect 200 "the valid alert again" /v1/alerts "$WORK/valid.json" --token "$PB_TEST_TOKEN"
[ "$(sqlite3 "$WORK/db/p.db" "SELECT count(*) FROM alert_queue")" = 1 ] || fail "the queue holds more than the valid alert"

# Neither secret appears in anything serve wrote.
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "serve exited $?"
grep -q "debug\|info" "$WORK/serve.err" || fail "no logs to check"
for secret in "$PB_TEST_SECRET" "$PB_TEST_TOKEN"; do
  if grep -qF "$secret" "$WORK/serve.err" "$WORK/serve.out"; then
    fail "a secret is in the log"
  fi
done
echo "PASS"
