#!/usr/bin/env bash
# compare.sh - the measurement behind weir's choice of HTTP library: the
# same hello-world server on libmicrohttpd (one epoll thread, then a pool
# of two) and on h2o's event loop (one thread), each under wrk -t2 with 50
# and with 1,000 keep-alive connections on this machine's two cores.
# Needs libmicrohttpd-dev, libh2o-evloop-dev and wrk (not weir's build deps).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gcc -O2 -o "$out/mhd" "$here/hello_mhd.c" $(pkg-config --cflags --libs libmicrohttpd)
gcc -O2 -DH2O_USE_EPOLL=1 -o "$out/h2o" "$here/hello_h2o.c" $(pkg-config --cflags --libs libh2o-evloop)
rate() { wrk -t2 -c"$1" -d5s http://127.0.0.1:18080/ | awk '/Requests\/sec/ {printf "%.0f", $2}'; }
echo "| server | 50 connections | 1,000 connections |"
echo "|---|---|---|"
for s in "mhd 1" "mhd 2" "h2o 1"; do
    set -- $s
    "$out/$1" 18080 "$2" & pid=$!
    sleep 0.3
    echo "| $1, $2 thread(s) | $(rate 50) req/s | $(rate 1000) req/s |"
    kill $pid; wait $pid 2>/dev/null || true
done
