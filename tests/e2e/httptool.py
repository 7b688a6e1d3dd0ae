#!/usr/bin/env python3
"""HTTP helpers of the serve tests (standard library only).

  httptool.py request METHOD URL [--body FILE] [--secret S | --token T] [--out FILE]
      one request; prints the status code, writes the body to --out
  httptool.py horreum --data FILE --port-file FILE [--api-key KEY]
      a stand-in for Horreum's REST API: GET /api/dataset/{id}/labelValues and
      GET /api/dataset/list/{test} answered from the JSON file
      {"labelValues": {"<id>": [...]}, "lists": {"<test>": {...}}}
  httptool.py receiver --out DIR --port-file FILE [--secret S] [--fail-first N]
      a callback receiver: stores each POST as DIR/<n>.json (+ .headers), checks
      X-Perfbisect-Signature when given a secret, answers 503 to the first N
  httptool.py load --url URL --secret S --token T --commits FILE [--requests N] [--clients N]
      the load test: valid, duplicate and invalid alerts from concurrent clients
"""
import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import os
import random
import sys
import threading
import time
import urllib.parse


def sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(url, method="GET", body=b"", headers=None, timeout=30, conn=None):
    """One request; returns (status, body bytes). Reuses conn when given."""
    parts = urllib.parse.urlsplit(url)
    own = conn is None
    if own:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    path = parts.path + ("?" + parts.query if parts.query else "")
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


def cmd_request(args):
    body = open(args.body, "rb").read() if args.body else b""
    headers = {"Content-Type": "application/json"}
    if args.secret:
        headers["X-Perfbisect-Signature"] = sign(args.secret, body)
    if args.token:
        headers["Authorization"] = "Bearer " + args.token
    if args.signature:
        headers["X-Perfbisect-Signature"] = args.signature
    try:
        status, data = send(args.url, args.method, body, headers)
    except (ConnectionError, http.client.HTTPException) as e:
        # The server may answer 413 and close before the whole body was sent.
        print(f"httptool: {e}", file=sys.stderr)
        status, data = 0, b""
    if args.out:
        with open(args.out, "wb") as f:
            f.write(data)
    print(status)


def serve_forever(handler_class, port_file):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


def cmd_horreum(args):
    data = json.load(open(args.data))
    log = open(args.data + ".requests", "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            log.write(self.path + "\n")
            if args.api_key and self.headers.get("X-Horreum-API-Key") != args.api_key:
                return self.answer(401, {"error": "no API key"})
            parts = urllib.parse.urlsplit(self.path)
            segments = parts.path.strip("/").split("/")
            if len(segments) == 4 and segments[:2] == ["api", "dataset"] and segments[3] == "labelValues":
                values = data["labelValues"].get(segments[2])
                return self.answer(200, values) if values is not None else self.answer(404, {})
            if len(segments) == 4 and segments[:3] == ["api", "dataset", "list"]:
                query = urllib.parse.parse_qs(parts.query)
                listing = data["lists"].get(segments[3])
                if listing is None:
                    return self.answer(404, {})
                limit = int(query.get("limit", ["100"])[0])
                page = int(query.get("page", ["1"])[0])
                rows = listing["datasets"][limit * (page - 1):limit * page]
                return self.answer(200, {"total": len(listing["datasets"]), "datasets": rows})
            self.answer(404, {})

        def answer(self, status, body):
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    serve_forever(Handler, args.port_file)


def cmd_receiver(args):
    os.makedirs(args.out, exist_ok=True)
    lock = threading.Lock()
    count = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                count["n"] += 1
                n = count["n"]
            if n <= args.fail_first:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            verdict = "unsigned"
            if args.secret:
                ok = hmac.compare_digest(self.headers.get("X-Perfbisect-Signature", ""),
                                         sign(args.secret, body))
                verdict = "signature-ok" if ok else "signature-bad"
            with open(os.path.join(args.out, f"{n}.headers"), "w") as f:
                f.write(f"{verdict}\n{self.headers.get('X-Perfbisect-Session', '')}\n")
            with open(os.path.join(args.out, f"{n}.json.tmp"), "wb") as f:
                f.write(body)
            os.rename(os.path.join(args.out, f"{n}.json.tmp"), os.path.join(args.out, f"{n}.json"))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    serve_forever(Handler, args.port_file)


def cmd_load(args):
    commits = open(args.commits).read().split()
    rng = random.Random(8)
    pairs = [(i, j) for i in range(len(commits)) for j in range(i + 1, len(commits))]
    rng.shuffle(pairs)
    distinct = pairs[:args.distinct]
    specs = []  # (kind, key, method, path, body, headers, expected statuses)

    def alert(good, bad, test="bench", extra=""):
        return json.dumps({"test": test, "good": good, "bad": bad}).encode()[:-1] + extra.encode() + b"}"

    for key, (i, j) in enumerate(distinct):
        body = alert(commits[i], commits[j])
        for copy in range(args.copies):
            headers = {"X-Perfbisect-Signature": sign(args.secret, body)} if copy % 2 == 0 \
                else {"Authorization": "Bearer " + args.token}
            specs.append(("valid", key, "POST", "/v1/alerts", body, headers, None))
    good, bad = commits[0], commits[-1]
    invalid_kinds = [
        ("unsigned", lambda: (alert(good, bad), {}), 401, "/v1/alerts"),
        ("wrong-signature", lambda: (alert(good, bad), {"X-Perfbisect-Signature": sign("not-the-secret", alert(good, bad))}), 401, "/v1/alerts"),
        ("wrong-token", lambda: (alert(good, bad), {"Authorization": "Bearer not-the-token"}), 401, "/v1/alerts"),
        ("malformed", lambda: (b'{"test": "bench", "good": ', None), 400, "/v1/alerts"),
        ("injection", lambda: (alert("$(touch " + args.pwned + ")", bad), None), 400, "/v1/alerts"),
        ("option", lambda: (alert("--upload-pack=touch " + args.pwned, bad), None), 400, "/v1/alerts"),
        ("unknown-test", lambda: (alert(good, bad, test="nobody"), None), 404, "/v1/alerts"),
        ("unknown-path", lambda: (alert(good, bad), None), 404, "/v1/alerts/nothing"),
        ("improvement", lambda: (alert(good, bad, extra=', "change": "-30%"'), None), 422, "/v1/alerts"),
        ("reversed", lambda: (alert(bad, good), None), 400, "/v1/alerts"),
    ]
    n_invalid = args.requests - len(specs)
    for k in range(n_invalid):
        name, make, status, path = invalid_kinds[k % len(invalid_kinds)]
        body, headers = make()
        if headers is None:
            headers = {"X-Perfbisect-Signature": sign(args.secret, body)}
        specs.append((name, None, "POST", path, body, headers, status))
    rng.shuffle(specs)

    results = [None] * len(specs)
    next_index = {"i": 0}
    lock = threading.Lock()
    parts = urllib.parse.urlsplit(args.url)

    def client():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        while True:
            with lock:
                i = next_index["i"]
                next_index["i"] += 1
            if i >= len(specs):
                break
            _, _, method, path, body, headers, _ = specs[i]
            start = time.monotonic()
            try:
                status, data = send(args.url + path, method, body,
                                    dict(headers, **{"Content-Type": "application/json"}), conn=conn)
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                status, data = send(args.url + path, method, body,
                                    dict(headers, **{"Content-Type": "application/json"}), conn=conn)
            results[i] = (status, data, time.monotonic() - start)
        conn.close()

    start = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start

    errors = []
    by_status = {}
    sessions_of = {}
    for spec, result in zip(specs, results):
        kind, key, _, _, _, _, expected = spec
        status, data, _ = result
        by_status[status] = by_status.get(status, 0) + 1
        if kind == "valid":
            if status not in (200, 202):
                errors.append(f"valid alert {key}: {status} {data[:200]!r}")
                continue
            answer = json.loads(data)
            sessions_of.setdefault(key, []).append((status, answer["session"]))
        elif status != expected:
            errors.append(f"{kind}: {status}, want {expected}: {data[:200]!r}")
        elif b'"error"' not in data:
            errors.append(f"{kind}: {status} without an error message: {data[:200]!r}")
    for key, answers in sessions_of.items():
        statuses = sorted(s for s, _ in answers)
        if statuses != [200] * (args.copies - 1) + [202]:
            errors.append(f"alert {key}: statuses {statuses}, want one 202 and the rest 200")
        if len({session for _, session in answers}) != 1:
            errors.append(f"alert {key}: several sessions {answers}")
    latencies = sorted(r[2] for r in results)
    summary = {
        "requests": len(specs),
        "clients": args.clients,
        "distinct_valid": len(distinct),
        "wall_seconds": round(wall, 2),
        "requests_per_second": round(len(specs) / wall, 1),
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "latency_p99_ms": round(1000 * latencies[int(len(latencies) * 0.99) - 1], 1),
        "statuses": {str(k): v for k, v in sorted(by_status.items())},
        "sessions": sorted({s for answers in sessions_of.values() for _, s in answers}),
    }
    json.dump(summary, open(args.summary, "w"), indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k != "sessions"}))
    for e in errors[:20]:
        print("FAIL:", e, file=sys.stderr)
    sys.exit(1 if errors else 0)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("request")
    p.add_argument("method")
    p.add_argument("url")
    p.add_argument("--body")
    p.add_argument("--secret")
    p.add_argument("--token")
    p.add_argument("--signature")
    p.add_argument("--out")
    p.set_defaults(run=cmd_request)
    p = sub.add_parser("horreum")
    p.add_argument("--data", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--api-key")
    p.set_defaults(run=cmd_horreum)
    p = sub.add_parser("receiver")
    p.add_argument("--out", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--secret")
    p.add_argument("--fail-first", type=int, default=0)
    p.set_defaults(run=cmd_receiver)
    p = sub.add_parser("load")
    p.add_argument("--url", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--commits", required=True)
    p.add_argument("--pwned", required=True)
    p.add_argument("--summary", required=True)
    p.add_argument("--requests", type=int, default=500)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--distinct", type=int, default=60)
    p.add_argument("--copies", type=int, default=3)
    p.set_defaults(run=cmd_load)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
