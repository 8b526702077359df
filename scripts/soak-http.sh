#!/usr/bin/env bash
# soak-http.sh [--url URL --token TOKEN] [--seconds N] [--rows N] - the HTTP
# abuse scenarios of issue 11 at once against one weir serve, while /healthz
# is probed every 50 ms from another loopback address:
#   slowloris        connections from 8 loopback addresses that send their
#                    headers a byte every 2 s (reopened when closed)
#   heavy queries    3 clients asking ORDER BY over every row, again and again
#   unauthenticated  4 clients uploading 8 MiB bodies without the token
#   ingest           an authenticated ingest of 100,000 records (10 x 10,000)
# Prints /healthz latency p50/p99/max and what each scenario got; exits 1 if
# p99 reached 100 ms or the authenticated ingest failed.
#
# Without --url it starts its own server (build/weir, --token soak) over a
# stream of --rows records (default 1,000,000, 40-byte text each) and a table
# of them. With --url the server must have a source stream `big (id INT, pad
# TEXT, ts TIMESTAMP)`; loopback only (the attacker and the probe bind
# 127.0.0.x source addresses).
set -eu
cd "$(dirname "$0")/.."
url= token= seconds=30 rows=1000000
while [ $# -gt 0 ]; do
    case $1 in
    --url) url=$2; shift 2 ;;
    --token) token=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    *) echo "usage: $0 [--url URL --token TOKEN] [--seconds N] [--rows N]" >&2; exit 2 ;;
    esac
done
WEIR=${WEIR:-$PWD/build/weir}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-soak-XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid"; rm -rf "$tmp"; }
trap cleanup EXIT

if [ -z "$url" ]; then
    token=soak
    cat > "$tmp/p.sql" <<'SQL'
CREATE STREAM big (id INT, pad TEXT, ts TIMESTAMP) WITH (partitions = 4, key = 'id', timestamp = 'ts');
CREATE TABLE by_id AS SELECT id, MAX(pad) AS pad, COUNT(*) AS n FROM big GROUP BY id;
SQL
    echo "making $rows records..."
    python3 - "$rows" > "$tmp/big.ndjson" <<'EOF'
import random, string, sys
r = random.Random(1)
letters = string.ascii_letters
out = sys.stdout
for i in range(int(sys.argv[1])):
    out.write('{"id":%d,"pad":"%s","ts":%d}\n' % (i, "".join(r.choice(letters) for _ in range(40)), 1700000000000 + i))
EOF
    "$WEIR" produce big "$tmp/big.ndjson" --data "$tmp/data" --partitions 4 >/dev/null
    "$WEIR" serve -f "$tmp/p.sql" --data "$tmp/data" --listen 127.0.0.1:0 --token "$token" 2>"$tmp/serve.err" &
    pid=$!
    for _ in $(seq 400); do
        url=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$tmp/serve.err")
        [ -n "$url" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.err" >&2; exit 1; }
        sleep 0.05
    done
    [ -n "$url" ] || { echo "weir serve did not start:" >&2; cat "$tmp/serve.err" >&2; exit 1; }
    echo "waiting for the pipeline to read them..."
    for _ in $(seq 1200); do
        n=$(curl -s -H "Authorization: Bearer $token" "$url/v1/tables" | sed -n 's/.*"rows":\([0-9]*\).*/\1/p')
        [ "${n:-0}" -ge "$rows" ] && break
        sleep 0.1
    done
fi

python3 - "$url" "$token" "$seconds" <<'EOF'
import json, socket, sys, threading, time, urllib.parse
url, token, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
u = urllib.parse.urlparse(url)
host, port = u.hostname, u.port
stop = time.monotonic() + seconds
counts = {}
lock = threading.Lock()

def count(what):
    with lock:
        counts[what] = counts.get(what, 0) + 1

def connect(src, timeout=5):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((host, port))
    return s

def request(src, method, path, body=b"", headers=(), timeout=60):
    """One request on a new connection: (status, body, seconds)."""
    t = time.monotonic()
    s = connect(src, timeout)
    head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nContent-Length: %d\r\n%s\r\n" % (
        method, path, host, port, len(body), "".join(h + "\r\n" for h in headers))
    try:
        s.sendall(head.encode() + body)
    except OSError:
        pass  # refused early: the answer is there to read
    data = b""
    while True:
        try:
            b = s.recv(65536)
        except OSError:
            break
        if not b:
            break
        data += b
    s.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data.split(b"\r\n\r\n", 1)[-1], time.monotonic() - t

def slowloris(src):
    conns = []
    while time.monotonic() < stop:
        while len(conns) < 256:
            try:
                s = connect(src, 1)
                s.setblocking(False)
                conns.append(s)
                count("slowloris connections opened")
            except OSError:
                count("slowloris connections refused")
                break
        alive = []
        for s in conns:
            try:
                s.send(b"G")
                alive.append(s)
            except OSError:
                s.close()
        conns = alive
        time.sleep(2)
    for s in conns:
        s.close()

auth = ("Authorization: Bearer " + token,) if token else ()

# GET /healthz every 50 ms on a new connection from 127.0.0.3; prints each latency in seconds (10 for a failure)
PROBE = r"""
import socket, sys, time
host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
stop = time.monotonic() + seconds
while time.monotonic() < stop:
    t = time.monotonic()
    try:
        s = socket.socket()
        s.bind(("127.0.0.3", 0))
        s.settimeout(10)
        s.connect((host, port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
        s.close()
        print(time.monotonic() - t if data.startswith(b"HTTP/1.1 200") else 10.0, flush=True)
    except OSError:
        print(10.0, flush=True)
    time.sleep(0.05)
"""

def heavy(src):
    sql = json.dumps({"sql": "SELECT * FROM big ORDER BY pad DESC"}).encode()
    while time.monotonic() < stop:
        try:
            status, _, secs = request(src, "POST", "/v1/query", sql, auth)
            count("heavy query %d" % status)
        except OSError:
            count("heavy query failed")

def upload(src):
    body = b'{"id":1,"pad":"x","ts":1}\n' * ((8 << 20) // 27)
    while time.monotonic() < stop:
        try:
            status, _, _ = request(src, "POST", "/v1/streams/big", body)
            count("unauthenticated upload %d" % status)
        except OSError:
            count("unauthenticated upload failed")

ingest = {"ok": 0, "failed": []}
def ingest_100k():
    time.sleep(min(5, seconds / 4))  # while the attacks run
    for batch in range(10):
        body = "".join('{"id":%d,"pad":"ingest","ts":%d}\n' % (5000000 + batch * 10000 + i, 1700000000000 + i)
                       for i in range(10000)).encode()
        for attempt in range(20):
            status, answer, _ = request("127.0.0.4", "POST", "/v1/streams/big", body, auth)
            if status == 200 and b'"accepted":10000' in answer:
                ingest["ok"] += 10000
                break
            if status != 503:
                ingest["failed"].append("%d %s" % (status, answer[:200]))
                return
            time.sleep(0.5)
        else:
            ingest["failed"].append("503 twenty times")
            return

threads = [threading.Thread(target=slowloris, args=("127.0.1.%d" % i,)) for i in range(1, 9)]
threads += [threading.Thread(target=heavy, args=("127.0.0.5",)) for _ in range(3)]
if token:
    threads += [threading.Thread(target=upload, args=("127.0.0.6",)) for _ in range(4)]
threads += [threading.Thread(target=ingest_100k)]
# the probe is a process of its own, so this one's threads (and their interpreter lock) do not delay it
import subprocess
prober = subprocess.Popen([sys.executable, "-c", PROBE, host, str(port), str(seconds)], stdout=subprocess.PIPE, text=True)
for t in threads:
    t.daemon = True
    t.start()
for t in threads:
    t.join(seconds + 120)

lat = sorted(float(x) for x in prober.communicate()[0].split())
def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("inf")
for what in sorted(counts):
    print("%-36s %d" % (what, counts[what]))
print("authenticated ingest: %d records stored%s" % (ingest["ok"], "; " + "; ".join(ingest["failed"]) if ingest["failed"] else ""))
print("/healthz: %d probes, p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (len(lat), pct(0.5), pct(0.99), lat[-1] * 1000 if lat else 0))
ok = lat and pct(0.99) < 100 and ingest["ok"] == 100000
print("PASS" if ok else "FAIL: /healthz p99 must stay under 100 ms and the 100,000 records must be stored")
sys.exit(0 if ok else 1)
EOF
