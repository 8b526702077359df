#!/usr/bin/env bash
# first_hour.sh - what a new user meets first and was misled by: make run
# (scripts/run-demo.sh) on a taken address fails at once with exit 1 and a
# clear message instead of printing its banner over another server; the
# dashboard has a favicon.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")/../.." && pwd)
plan 3
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$SCRATCH" >/dev/null 2>&1 &
other=$!
for i in $(seq 1200); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
WEIR_DATA="$SCRATCH/demo" WEIR_LISTEN="127.0.0.1:$port" timeout 60 "$here/scripts/run-demo.sh" "$WEIR" >"$SCRATCH/out" 2>&1; rc=$?
kill "$other"; wait "$other" 2>/dev/null
[ $rc = 1 ] && grep -q "127.0.0.1:$port is taken by another program.*WEIR_LISTEN" "$SCRATCH/out" && ! grep -q "Try:" "$SCRATCH/out"
ok $? "make run on a taken address: exit $rc and $(head -c 160 "$SCRATCH/out")"
echo 'CREATE STREAM s (a TEXT);' > "$SCRATCH/p.sql"
start_serve -f "$SCRATCH/p.sql" || { echo "Bail out! weir serve did not start"; exit 1; }
type=$(curl -s -o "$SCRATCH/icon" -w '%{http_code} %{content_type}' "$URL/favicon.ico")
[ "$type" = "200 image/x-icon" ] && [ "$(head -c 4 "$SCRATCH/icon" | od -An -tx1 | tr -d ' ')" = 00000100 ]
ok $? "GET /favicon.ico is an icon ($type)"
grep -q 'rel="icon" href="/favicon.svg"' "$here/web/index.html" && [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/favicon.svg")" = 200 ]
ok $? "the dashboard names its SVG icon, and it is served"
stop_serve
finish
