#!/usr/bin/env bash
# run-demo.sh WEIR - what `make run` starts: a generator piping sensor
# readings into `weir serve` (scripts/demo.sql), and consumers following its
# outputs live: a row per sensor every 10 seconds, and an alert for every
# reading over 95, with the dashboard at http://127.0.0.1:8080/ (set
# WEIR_LISTEN to move it). Ctrl-C stops everything (serve checkpoints on
# the way out).
set -u
weir=${1:?usage: run-demo.sh path/to/weir}
here=$(cd "$(dirname "$0")" && pwd)
export WEIR_DATA=${WEIR_DATA:-./weir-data}

generate() {
    local i=0
    while :; do
        printf '{"sensor":"s%d","reading":%d,"seq":%d,"ts":%s}\n' $((i % 5)) $((RANDOM % 100)) "$i" "$(date +%s)"
        i=$((i + 1))
        sleep 0.1
    done
}
listen=${WEIR_LISTEN:-127.0.0.1:8080}
echo "weir demo: 10 readings/s through scripts/demo.sql (data in $WEIR_DATA). Ctrl-C stops."
echo "Dashboard: http://$listen/   Try: curl -s http://$listen/v1/tables/per_sensor_10s?key=s1"
echo "           curl -s -X POST http://$listen/v1/streams/readings -d '{\"sensor\":\"s9\",\"reading\":99,\"seq\":0,\"ts\":$(date +%s)}'"
generate | $weir serve -f "$here/demo.sql" --stdin readings --idle-ms 2000 --reset --listen "$listen" &
serve=$!
sleep 1
$weir consume alerts | sed -u 's/^/alert   /' &
alerts=$!
trap 'kill $serve $alerts 2>/dev/null; wait 2>/dev/null; echo; $weir streams' EXIT INT TERM
$weir consume per_sensor_10s | sed -u 's/^/window  /'
