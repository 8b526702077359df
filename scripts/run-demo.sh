#!/usr/bin/env bash
# run-demo.sh WEIR - what `make run` starts: a generator feeding sensor
# readings into a stream of the embedded log and a consumer following it
# live, until Ctrl-C; then the stream's offsets. (The full demo, with
# `weir serve`, SQL and the dashboard, replaces this as those land.)
set -u
weir=${1:?usage: run-demo.sh path/to/weir}
data=${WEIR_DATA:-./weir-data}
stream=demo.readings

$weir produce "$stream" --data "$data" --partitions 4 </dev/null || exit 1
echo "weir demo: 5 readings/s into stream '$stream' (data in $data), consumed live below. Ctrl-C stops."
echo "In another terminal: $weir streams --data $data    or    $weir consume $stream --data $data --from-beginning --exit"
generate() {
    local i=0
    while :; do
        printf '{"sensor":"s%d","reading":%d,"seq":%d,"ts":%s}\n' $((i % 5)) $((RANDOM % 100)) "$i" "$(date +%s)"
        i=$((i + 1))
        sleep 0.2
    done
}
generate | $weir produce "$stream" --data "$data" --key sensor &
producer=$!
trap 'kill $producer 2>/dev/null; wait $producer 2>/dev/null; echo; $weir streams --data "$data"' EXIT
$weir consume "$stream" --data "$data" --meta
