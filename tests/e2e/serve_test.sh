#!/usr/bin/env bash
# End to end: perfbisect serve on a loopback port takes a generic, a Horreum
# and an Otava alert for three generated repositories (Horreum's REST API
# served by a stand-in answering with the saved payloads), runs each bisect to
# its planted culprit, and delivers each report to a callback receiver and a
# notify command. Then `perfbisect alert` runs one in the foreground.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
data="$(cd "$(dirname "$0")/../data/alerts" && pwd)"

culprit1=$(make_repo "$WORK/r1" 16 5)
culprit2=$(make_repo "$WORK/r2" 16 11)
culprit3=$(make_repo "$WORK/r3" 16 8)
for i in 1 2 3; do write_config "$WORK/p$i.toml" "$WORK/r$i" 6; done
rev() { git -C "$WORK/$1" rev-parse "$2"; }

# Horreum: dataset 1234 (the change) has r2's bad commit, 1230 (the run before) r2's good.
"$PYTHON" - "$data" "$WORK/horreum.json" "$(rev r2 good)" "$(rev r2 bad)" <<'PY'
import json, sys
data, out, good, bad = sys.argv[1:]
def load(name, old, new):
    return json.loads(open(f"{data}/{name}").read().replace(old, new))
json.dump({"labelValues": {
    "1234": load("horreum-label-values-1234.json", "9c2e7d1b5a0f4e3d2c1b0a9f8e7d6c5b4a3f2e1d", bad),
    "1230": load("horreum-label-values-1230.json", "1b0a9f8e7d6c5b4a3f2e1d9c2e7d1b5a0f4e3d2c", good)},
  "lists": {"789": json.load(open(f"{data}/horreum-dataset-list.json"))}}, open(out, "w"))
PY
start_standin horreum horreum --data "$WORK/horreum.json" --api-key HUSR_E2E
horreum_url=$STANDIN_URL
start_standin receiver receiver --out "$WORK/received" --secret callback-secret --fail-first 1
receiver_url=$STANDIN_URL
export PB_HORREUM_KEY=HUSR_E2E PB_CALLBACK_SECRET=callback-secret

write_server "$WORK/server.toml" "
[server]
db = \"db/p.db\"

[horreum]
url = \"$horreum_url\"
api_key_env = \"PB_HORREUM_KEY\"

[otava]
lookback = 15

[notify]
url = \"$receiver_url/hook\"
secret_env = \"PB_CALLBACK_SECRET\"
command = 'echo \"\$PERFBISECT_SESSION \$PERFBISECT_STATUS \$PERFBISECT_CULPRIT\" >> notified.txt'
backoff = \"200ms\"

[[route]]
test = \"checkout-latency\"
config = \"p1.toml\"

[[route]]
test = \"quarkus-rest-throughput\"
metric = \"throughput\"
config = \"p2.toml\"

[[route]]
test = \"local.sample\"
metric = \"response_time\"
config = \"p3.toml\"
"
start_serve serve "$WORK/server.toml" -q

# 1. Generic, signed: 202 with the session; the same range again: 200, the same session.
generic_alert "$WORK/generic.json" checkout-latency "$(rev r1 good)" "$(rev r1 bad)" ', "change": "+25%", "id": "g1"'
[ "$(post /v1/alerts "$WORK/generic.json")" = 202 ] || fail "generic: $(cat "$WORK/answer.json")"
s1=$(json "$WORK/answer.json" "d['session']")
[ "$(post /v1/alerts "$WORK/generic.json" --token "$PB_TEST_TOKEN")" = 200 ] || fail "duplicate: $(cat "$WORK/answer.json")"
[ "$(json "$WORK/answer.json" "d['session']")" = "$s1" ] || fail "the duplicate got another session"
echo "generic: 202 session $s1; the same alert again: 200 session $s1"

# 2. Horreum's change/new event as Horreum sends it (Horreum cannot sign: a bearer token).
#    Its change is a drop in throughput; this project's metric is a time, so
#    the saved description is turned into a rise.
sed 's/mean 880.000000/mean 1250.000000/' "$data/horreum-change-new.json" > "$WORK/horreum-event.json"
[ "$(post /v1/alerts/horreum "$WORK/horreum-event.json" --token "$PB_TEST_TOKEN")" = 202 ] \
  || fail "horreum: $(cat "$WORK/answer.json")"
s2=$(json "$WORK/answer.json" "d['session']")
[ "$(json "$WORK/answer.json" "d['sessions'][0]['good']")" = "$(rev r2 good)" ] || fail "horreum good"
grep -q "/api/dataset/1234/labelValues" "$WORK/horreum.json.requests" || fail "Horreum was not asked"
echo "horreum: 202 session $s2 ($(tr '\n' ' ' < "$WORK/horreum.json.requests"))"

# 3. Otava's JSON output (numbers as strings); the routed metric's change point
#    is r3's bad commit, the series has no previous commit: a look-back of 15.
#    Its means are set to the planted +25 %.
sed -e "s/5b4a3f2e1d9c2e7d1b5a0f4e3d2c1b0a9f8e7d6c/$(rev r3 bad)/" -e 's/"0.749600"/"0.630000"/' \
  "$data/otava-analyze.json" > "$WORK/otava.json"
[ "$(post /v1/alerts/otava "$WORK/otava.json")" = 202 ] || fail "otava: $(cat "$WORK/answer.json")"
s3=$(json "$WORK/answer.json" "d['session']")
[ "$(json "$WORK/answer.json" "len(d['sessions'])")" = 1 ] || fail "otava queued other metrics"
echo "otava: 202 session $s3, good $(json "$WORK/answer.json" "d['sessions'][0]['good']") (look-back)"

# Each session ends with its planted culprit.
check_culprit() {  # check_culprit SESSION CULPRIT
  wait_done "$1"
  [ "$(json "$WORK/answer.json" "d['status']")" = culprit_found ] || fail "session $1: $(json "$WORK/answer.json" "d['summary']")"
  [ "$(json "$WORK/answer.json" "d['culprits'][0]['commit']")" = "$2" ] || fail "session $1: wrong culprit"
  [ "$(json "$WORK/answer.json" "d['queue']['state']")" = done ] || fail "session $1: queue state"
  echo "session $1: culprit_found $2 (the planted one), min_effect $(json "$WORK/answer.json" "d['min_effect']")"
}
check_culprit "$s1" "$culprit1"
[ "$(json "$WORK/answer.json" "d['min_effect']")" = 0.125 ] || fail "min_effect from +25%: $(json "$WORK/answer.json" "d['min_effect']")"
check_culprit "$s2" "$culprit2"
check_culprit "$s3" "$culprit3"
[ "$(get "/v1/sessions/$s1/report.html")" = 200 ] && grep -q "<svg" "$WORK/answer.json" || fail "html report"
[ "$(get /v1/sessions)" = 200 ] || fail "GET /v1/sessions"
[ "$(json "$WORK/answer.json" "sorted(s['id'] for s in d)")" = "$("$PYTHON" -c "print(sorted(['$s1','$s2','$s3']))")" ] \
  || fail "the session list: $(cat "$WORK/answer.json")"

# The receiver got each report once, signed (after one 503: retried); the command ran for each.
for i in $(seq 1 100); do
  [ "$(ls "$WORK/received"/*.json 2>/dev/null | wc -l)" -ge 3 ] && [ "$(wc -l < "$WORK/notified.txt" 2>/dev/null || echo 0)" -ge 3 ] && break
  sleep 0.2
done
[ "$(ls "$WORK/received"/*.json | wc -l)" = 3 ] || fail "the receiver got $(ls "$WORK/received" | grep -c json) reports"
for session in "$s1" "$s2" "$s3"; do
  grep -lq "\"session\": \"$session\"" "$WORK/received"/*.json || fail "no report of $session"
done
[ "$(cat "$WORK/received"/*.headers | grep -c signature-ok)" = 3 ] || fail "unsigned callbacks"
echo "callback receiver: 3 signed reports after one 503 ($(cat "$WORK/received"/*.headers | grep -v signature | tr '\n' ' '))"
[ "$(wc -l < "$WORK/notified.txt")" = 3 ] || fail "the notify command ran $(wc -l < "$WORK/notified.txt") times"
grep -q "^$s2 culprit_found $culprit2\$" "$WORK/notified.txt" || fail "notify command: $(cat "$WORK/notified.txt")"

# SIGTERM: a clean stop.
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "serve exited $? on SIGTERM"
grep -q "stopped; 0 alerts" "$WORK/serve.err" || fail "stop message: $(tail -2 "$WORK/serve.err")"
if grep -qF "$PB_TEST_SECRET" "$WORK/serve.err" || grep -qF "$PB_TEST_TOKEN" "$WORK/serve.err"; then
  fail "a secret is in the log"
fi

# `perfbisect alert` in the foreground: an alert whose range was bisected prints
# that report; a new range runs to its culprit (exit 0).
"$PERFBISECT" alert "$WORK/generic.json" --config "$WORK/server.toml" --format json -q > "$WORK/again.json" \
  || fail "alert of a finished range exited $?"
[ "$(json "$WORK/again.json" "d['session']")" = "$s1" ] || fail "alert did not find the session"
generic_alert "$WORK/new.json" checkout-latency "$(git -C "$WORK/r1" rev-parse good~0)" "$(git -C "$WORK/r1" rev-parse bad~2)"
"$PERFBISECT" alert - --config "$WORK/server.toml" --format json -q < "$WORK/new.json" > "$WORK/new-report.json" \
  || fail "alert exited $?"
[ "$(json "$WORK/new-report.json" "d['culprits'][0]['commit']")" = "$culprit1" ] || fail "alert: wrong culprit"
echo "PASS"
