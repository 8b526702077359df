#!/usr/bin/env bash
# http_abuse.sh - weir serve's HTTP server under the abuse of issue 11, over
# loopback with raw sockets (python3) and curl: slowloris connections,
# heavy pull queries at once, unauthenticated uploads, too many query
# arguments, conflicting framing, cross-site requests and DNS rebinding,
# %00 in a path, and the URL printed for --listen :PORT. The attacker and
# the probe use different loopback addresses (127.0.0.x all reach lo), as
# the per-address connection limit tells them apart. Every failure of the
# issue has a check here that failed before the server defended itself
# (the rest guard what must keep working: /healthz beside the attack,
# ORDER BY ... LIMIT's answer, MHD's own 431, requests that are allowed).
. "$(dirname "$0")/../lib.sh"
plan 27

cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM big (id INT, pad TEXT, ts TIMESTAMP) WITH (partitions = 2, key = 'id', timestamp = 'ts');
CREATE TABLE by_id AS SELECT id, MAX(pad) AS pad FROM big GROUP BY id;
SQL
# 20,000 rows of 40 bytes of text: about 1.2 MB of answer for a query over all of them
python3 - > "$SCRATCH/big.ndjson" <<'EOF'
import random, string
r = random.Random(7)
for i in range(20000):
    print('{"id":%d,"pad":"%s","ts":%d}' % (i, "".join(r.choice(string.ascii_letters) for _ in range(40)), 1700000000000 + i))
EOF
$WEIR produce big "$SCRATCH/big.ndjson" --partitions 2 >/dev/null

# py SCRIPT ARGS...: runs python3 with the helpers below in scope
cat > "$SCRATCH/raw.py" <<'EOF'
import socket, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
HOST, PORT = u.hostname, u.port
def connect(src="127.0.0.1", timeout=10):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((HOST, PORT))
    return s
def answer(s):
    """Everything until the server closes (or 10 s): (status, body, seconds)."""
    t = time.monotonic()
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except OSError:
        pass
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return status, data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace"), "%.3f" % (time.monotonic() - t)
def raw(text, src="127.0.0.1"):
    s = connect(src)
    s.sendall(text.encode() if isinstance(text, str) else text)
    return answer(s)
EOF
py() { python3 -c "exec(open('$SCRATCH/raw.py').read())
$1" "$URL" "${@:2}"; }

start_serve -f "$SCRATCH/p.sql" --header-timeout 2 --max-connections-per-address 20 --max-result-bytes 400000
ok $? "serve starts with --header-timeout, --max-connections-per-address and --max-result-bytes"
for i in $(seq 1200); do # the table has every row
    [ "$(curl -s "$URL/v1/tables" | sed -n 's/.*"rows":\([0-9]*\).*/\1/p')" = 20000 ] && break
    sleep 0.05
done

# ---- slowloris: connections that never finish their headers ----
out=$(py '
held = []
for i in range(60):             # one address: 20 at most are taken
    try:
        s = connect("127.0.0.2", 2)
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
        held.append(s)
    except OSError:
        pass
time.sleep(0.3)
alive = 0
for s in held:                  # the refused ones are closed at once
    try:
        s.settimeout(0.05)
        alive += 0 if s.recv(1) == b"" else 1
    except socket.timeout:
        alive += 1
    except OSError:
        pass
status, body, secs = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", "127.0.0.3")
print("alive", alive, "probe", status, secs)
start = time.monotonic()
closed = 0
for s in held:                  # trickle a byte a second until the server closes them
    s.settimeout(6)
while closed < len(held) and time.monotonic() - start < 8:
    for s in held:
        try:
            s.send(b"X")
        except OSError:
            pass
    time.sleep(0.5)
    closed = 0
    for s in held:
        try:
            s.settimeout(0.01)
            closed += s.recv(1) == b""
        except socket.timeout:
            pass
        except OSError:
            closed += 1
print("closed", closed, "of", len(held), "after %.1f" % (time.monotonic() - start))
')
diag "$out"
alive=$(sed -n 's/^alive \([0-9]*\).*/\1/p' <<<"$out")
[ -n "$alive" ] && [ "$alive" -le 20 ]; ok $? "one address holds at most --max-connections-per-address connections"
[[ "$out" == *"probe 200 0."* ]]; ok $? "/healthz from another address answers at once while they are held"
closed=$(sed -n 's/^closed \([0-9]*\) of \([0-9]*\).*/\1 \2/p' <<<"$out")
[ -n "$closed" ] && [ "${closed% *}" = "${closed#* }" ] && [ "${closed% *}" -gt 0 ]
ok $? "connections trickling their headers are closed at --header-timeout"
curl -s "$URL/metrics" | grep -q '^weir_http_deadline_closes_total [1-9]'; ok $? "/metrics counts them"

# ---- heavy pull queries ----
big='{"sql": "SELECT * FROM big ORDER BY pad DESC"}'
(for i in 1 2 3; do curl -s -o /dev/null "$URL/v1/query" -d "$big" & done; wait) &
heavy=$!
t0=$(date +%s%N)
STATUS=$(curl -s -o "$SCRATCH/q" -w '%{http_code}' "$URL/v1/query" -d "$big")
grep -q -- '--max-result-bytes (400000 bytes)' "$SCRATCH/q" && [ "$STATUS" = 413 ]
ok $? "a query over every row is answered 413 naming --max-result-bytes"
h=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$URL/healthz")
[[ "$h" == "200 0."* ]]; ok $? "/healthz answers within a second while queries run ($h)"
wait $heavy
STATUS=$(curl -s -o "$SCRATCH/q" -w '%{http_code}' "$URL/v1/query" -d '{"sql": "SELECT id, pad FROM big ORDER BY pad DESC LIMIT 3"}')
want=$(sort -t'"' -k6,6r "$SCRATCH/big.ndjson" | head -3 | sed -n 's/.*"pad":"\([^"]*\)".*/\1/p' | tr '\n' ' ')
got=$(grep -o '"pad":"[^"]*"' "$SCRATCH/q" | cut -d'"' -f4 | tr '\n' ' ')
[ "$STATUS" = 200 ] && [ "$got" = "$want" ]; ok $? "ORDER BY with LIMIT keeps only the best rows and gives the same answer ($got)"
STATUS=$(curl -s -o "$SCRATCH/q" -w '%{http_code}' "$URL/v1/tables/by_id?limit=1000000")
[ "$STATUS" = 413 ]; ok $? "GET /v1/tables/T is bounded the same way"

# ---- too many query arguments, too long a URI, too large headers ----
out=$(py 'q = "&".join("a%d=%d" % (i, i) for i in range(950)); print(*raw("GET /v1/tables?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % q))')
[[ "$out" == "414 "*"256 arguments"* ]] && [[ "$out" =~ \ 0\.[0-9]+$ ]]; ok $? "950 query arguments: 414 at once (${out:0:40}...)"
out=$(py 'print(*raw("GET /v1/tables?x=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % ("a" * 9000)))')
[[ "$out" == "414 "*"8192 bytes"* ]]; ok $? "a 9,000-byte URI: 414"
out=$(py 'print(*raw("GET /v1/tables HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: %s\r\n\r\n" % ("a" * 70000)))')
[[ "$out" == "431 "* ]]; ok $? "70 KB of headers: 431"
stop_serve

# ---- unauthenticated uploads: refused on the headers, the body never read ----
start_serve -f "$SCRATCH/p.sql" --token s3cret --max-bodies 1048576
printf '{"id":1,"pad":"a","ts":1}\n%.0s' $(seq 30000) > "$SCRATCH/batch.ndjson" # 780 KB
out=$(py '
import subprocess
held = []
for i in range(4):              # 4 MiB bodies announced, 300 KB sent, the rest held back: 1.2 MB against --max-bodies
    s = connect("127.0.0.2")
    s.sendall(b"POST /v1/streams/big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4194304\r\n\r\n")
    try:
        s.settimeout(0.5)
        s.sendall(b"x" * 300000)
    except OSError:
        pass                    # refused already: the server reads no more
    held.append(s)
time.sleep(0.3)
auth = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer s3cret",
                       "--data-binary", "@" + sys.argv[2], sys.argv[1] + "/v1/streams/big"], capture_output=True, text=True)
print("authenticated", auth.stdout)
for s in held:
    s.settimeout(10)
    print(*answer(s)[::2])
' "$SCRATCH/batch.ndjson")
diag "$out"
[ "$(grep -c '^401 0\.' <<<"$out")" = 4 ]; ok $? "an unauthenticated upload is answered 401 before its body is sent"
[[ "$out" == *"authenticated 200"* ]]; ok $? "an authenticated ingest near --max-bodies gets 200 while they are held"
out=$(py 'print(*raw("POST /v1/streams/big HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer s3cret\r\nOrigin: http://127.0.0.1:8\r\nContent-Length: 2\r\n\r\n{}")[:2])')
[[ "$out" == "403 "* ]]; ok $? "with a token, a foreign Origin still may not write"
stop_serve

# ---- framing and the URI ----
start_serve -f "$SCRATCH/p.sql" --cors http://app.example
out=$(py 'print(*raw("POST /v1/streams/big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 26\r\nContent-Length: 90\r\n\r\n{\"id\":1,\"pad\":\"a\",\"ts\":1}")[:2])')
[[ "$out" == "400 "*"Content-Length"* ]]; ok $? "two different Content-Length headers: 400"
out=$(py 'print(*raw("POST /v1/streams/big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")[:2])')
[[ "$out" == "400 "*"Transfer-Encoding"* ]]; ok $? "Content-Length with Transfer-Encoding: 400"
out=$(py 'print(*raw("GET /index.html%00.png HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")[:2])')
[[ "$out" == "400 "*"%00"* ]]; ok $? "%00 in a path: 400, not index.html"
out=$(py 'print(*raw("GET /v1/tables/by_id?key=1%00x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")[:2])')
[[ "$out" == "400 "* ]]; ok $? "%00 in an argument: 400"

# ---- cross-site requests and DNS rebinding (no token) ----
before=$(curl -s "$URL/v1/streams" | grep -o '"name":"big"[^}]*"records":[0-9]*' | sed 's/.*://')
STATUS=$(curl -s -o "$SCRATCH/q" -w '%{http_code}' -H 'Content-Type: text/plain' -H 'Origin: http://evil.example' "$URL/v1/streams/big" -d '{"id":2,"pad":"b","ts":2}')
after=$(curl -s "$URL/v1/streams" | grep -o '"name":"big"[^}]*"records":[0-9]*' | sed 's/.*://')
[ "$STATUS" = 403 ] && [ "$before" = "$after" ]; ok $? "a cross-site text/plain POST: 403, nothing ingested"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H 'Origin: http://evil.example' "$URL/v1/schemas/s" -d '{"type":"object"}')
[ "$STATUS" = 403 ]; ok $? "a cross-site schema registration: 403"
STATUS=$(curl -s -o "$SCRATCH/q" -w '%{http_code}' -H 'Host: rebind.evil.example:8080' "$URL/v1/tables")
[ "$STATUS" = 403 ] && grep -q 'DNS rebinding' "$SCRATCH/q"; ok $? "a GET with a foreign Host name: 403"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: localhost:1' "$URL/v1/tables")
STATUS2=$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: $URL" "$URL/v1/streams/big" -d '{"id":3,"pad":"c","ts":3}')
[ "$STATUS" = 200 ] && [ "$STATUS2" = 200 ]; ok $? "Host localhost and weir's own Origin are taken ($STATUS, $STATUS2)"
hdrs=$(curl -s -D - -o /dev/null -X OPTIONS -H 'Origin: http://app.example' -H 'Access-Control-Request-Method: POST' "$URL/v1/query")
[[ "$hdrs" == *"204"* && "$hdrs" == *"Access-Control-Allow-Origin: http://app.example"* ]]; ok $? "--cors: the origin's preflight is answered"
hdrs=$(curl -s -D - -o /dev/null -H 'Origin: http://app.example' "$URL/v1/streams/big" -d '{"id":4,"pad":"d","ts":4}')
[[ "$hdrs" == "HTTP/1.1 200"* && "$hdrs" == *"Access-Control-Allow-Origin: http://app.example"* ]]; ok $? "--cors: the origin may write and read the answer"
hdrs=$(curl -s -D - -o /dev/null -H 'Origin: http://other.example' "$URL/v1/tables")
[[ "$hdrs" == "HTTP/1.1 200"* && "$hdrs" != *"Access-Control-Allow-Origin"* ]]; ok $? "another origin gets no CORS header"
stop_serve

# ---- the URL printed for --listen :PORT ----
$WEIR serve -f "$SCRATCH/p.sql" --listen :0 2>"$SCRATCH/listen.err" &
pid=$!
for i in $(seq 1200); do grep -q 'listening on' "$SCRATCH/listen.err" && break; sleep 0.05; done
url=$(sed -n 's|.*listening on \(http://[^/]*\)/.*|\1|p' "$SCRATCH/listen.err")
kill -TERM $pid; wait $pid
[[ "$url" == http://127.0.0.1:[1-9]* ]] || diag "$(cat "$SCRATCH/listen.err")"
[[ "$url" == http://127.0.0.1:[1-9]* ]]; ok $? "--listen :PORT prints a URL one can open ($url)"
finish
