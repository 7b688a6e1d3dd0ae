# Helpers of the `perfbisect serve` tests: sourced after lib.sh.
# Background processes started here are stopped on exit.

# Debian's python3 (scripts/deps.sh) when there is one: a version manager's
# shim in PATH can cost a second per start, and these tests start it often.
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
HTTPTOOL=("$PYTHON" "$(dirname "${BASH_SOURCE[0]}")/httptool.py")
json() {
  "$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}
# Secrets are random per run, so a test can look for them in logs.
PB_TEST_SECRET="hmac-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
PB_TEST_TOKEN="token-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export PB_TEST_SECRET PB_TEST_TOKEN
BACKGROUND=()
trap 'for p in "${BACKGROUND[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

# write_server FILE ROUTES_AND_SECTIONS: a server.toml authenticating with the
# test's secret and token, plus the given TOML.
write_server() {
  cat > "$1" <<TOML
[auth]
hmac_secret_env = "PB_TEST_SECRET"
token_env = "PB_TEST_TOKEN"

$2
TOML
}

# start_serve NAME SERVER_TOML [ARGS...]: perfbisect serve on a free loopback
# port, stderr in $WORK/NAME.err; sets SERVE_PID and SERVE_URL.
start_serve() {
  local name=$1 config=$2 port="" i
  shift 2
  "$PERFBISECT" serve --config "$config" --listen 127.0.0.1:0 "$@" \
    > "$WORK/$name.out" 2> "$WORK/$name.err" &
  SERVE_PID=$!
  BACKGROUND+=("$SERVE_PID")
  for i in $(seq 1 300); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$WORK/$name.err" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    kill -0 "$SERVE_PID" 2>/dev/null || fail "serve did not start: $(cat "$WORK/$name.err")"
    sleep 0.1
  done
  [ -n "$port" ] || fail "serve did not listen"
  SERVE_URL="http://127.0.0.1:$port"
}

# start_standin NAME ARGS...: httptool.py ARGS on a free port; sets STANDIN_URL.
start_standin() {
  local name=$1 i
  shift
  "${HTTPTOOL[@]}" "$@" --port-file "$WORK/$name.port" 2> "$WORK/$name.err" &
  BACKGROUND+=("$!")
  for i in $(seq 1 100); do
    [ -s "$WORK/$name.port" ] && break
    sleep 0.1
  done
  [ -s "$WORK/$name.port" ] || fail "$name did not start: $(cat "$WORK/$name.err")"
  STANDIN_URL="http://127.0.0.1:$(cat "$WORK/$name.port")"
}

# post PATH FILE [httptool options]: prints the status; the body is in $WORK/answer.json.
# Signed with the test's secret unless options are given.
post() {
  local path=$1 body=$2
  shift 2
  [ $# -gt 0 ] || set -- --secret "$PB_TEST_SECRET"
  "${HTTPTOOL[@]}" request POST "$SERVE_URL$path" --body "$body" --out "$WORK/answer.json" "$@"
}

# get PATH: prints the status; the body is in $WORK/answer.json (bearer token).
get() {
  "${HTTPTOOL[@]}" request GET "$SERVE_URL$1" --token "$PB_TEST_TOKEN" --out "$WORK/answer.json"
}

# wait_done SESSION [SECONDS]: polls GET /v1/sessions/SESSION until neither its
# status nor its queue entry's state is running or queued; the report is in
# $WORK/answer.json.
wait_done() {
  local session=$1 limit=${2:-240} i status queue
  for i in $(seq 1 $((limit * 5))); do
    [ "$(get "/v1/sessions/$session")" = 200 ] || fail "GET session $session: $(cat "$WORK/answer.json")"
    status=$(json "$WORK/answer.json" "d['status']")
    # The session's status is stored before the worker marks its queue entry
    # done: wait for both, or a check of the queue state races the worker.
    queue=$(json "$WORK/answer.json" "(d.get('queue') or {}).get('state', '')")
    if [ "$status" != running ] && [ "$status" != queued ] \
      && [ "$queue" != running ] && [ "$queue" != queued ]; then
      return 0
    fi
    sleep 0.2
  done
  fail "session $session still $status after $limit s"
}

# generic_alert FILE TEST GOOD BAD [EXTRA_JSON]: writes a generic alert.
generic_alert() {
  printf '{"test": "%s", "good": "%s", "bad": "%s"%s}' "$2" "$3" "$4" "${5:-}" > "$1"
}
