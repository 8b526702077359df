#!/usr/bin/env bash
# statements.sh [TWEETS...] - what applying a statement to a running server
# costs (README, "Changing a running pipeline"): for each TWEETS (default
# 100000 1000000), a server runs examples/tweets' pipeline over that many
# tweets (HOP windows by city with COUNT(DISTINCT): a large state), then
# while a client sends one small ingest every 5 ms, `weir sql` adds a table
# (tweets per user, 100,000 keys, read from the stream's start). Prints:
# how long the statement took to answer (the checkpoint of every runner,
# the catalog swapped, the views and sinks reopened), the longest and the
# median ingest round trip during that time against before it, how long
# the new table took to hold every user, CPU seconds of the server, and a
# markdown table for BENCHMARKS.md.
set -eu
. "$(dirname "$0")/../tests/lib.sh"
ex="$(cd "$(dirname "$0")/../examples/tweets" && pwd)"
[ $# -gt 0 ] || set -- 100000 1000000
ms() { echo $(( $(date +%s%N) / 1000000 )); }

echo "| tweets | statement answered, ms | ingest round trip before: median / max, ms | during: median / max, ms | new table complete, ms | server CPU, s |"
echo "|---|---|---|---|---|---|"
for n in "$@"; do
    data="$SCRATCH/data-$n"
    $WEIR gen tweets --count "$n" --seed 7 >"$SCRATCH/tweets.ndjson"
    $WEIR produce tweets --data "$data" --key city --partitions 4 "$SCRATCH/tweets.ndjson" >/dev/null
    start_serve -f "$ex/pipeline.sql" --data "$data" >/dev/null || exit 1
    until [ "$(curl -s "$URL/v1/streams" | python3 -c 'import json,sys; print(sum(s.get("pipeline_lag", 0) or 0 for s in json.load(sys.stdin)["streams"]))')" = 0 ]; do
        sleep 0.2
    done
    users=$(python3 -c 'import json,sys; print(len({json.loads(l)["user_id"] for l in open(sys.argv[1])}))' "$SCRATCH/tweets.ndjson")
    # one tweet every 5 ms, each round trip timed, until told to stop
    ( while [ ! -e "$SCRATCH/stop" ]; do
          t0=$(date +%s%N)
          curl -s -o /dev/null -X POST --data-binary '{"id":"x","user_id":"u-bench","city":"Oslo","is_retweet":false,"created_at":"2026-01-01T00:00:00Z"}' "$URL/v1/streams/tweets"
          echo "$(( $(date +%s%N) / 1000000 )) $(( ($(date +%s%N) - t0) / 1000000 ))"
          sleep 0.005
      done >"$SCRATCH/rtt" ) &
    client=$!
    sleep 2
    cpu0=$(awk '{print $14 + $15}' "/proc/$SERVE_PID/stat")
    t0=$(ms)
    $WEIR sql "CREATE TABLE per_user AS SELECT user_id, COUNT(*) AS n FROM tweets GROUP BY user_id" --data "$data" >/dev/null
    t1=$(ms)
    until [ "$(curl -s -X POST -d '{"sql": "SELECT user_id FROM per_user"}' "$URL/v1/query" | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("rows", [])))')" -ge "$users" ]; do
        sleep 0.05
    done
    t2=$(ms)
    cpu1=$(awk '{print $14 + $15}' "/proc/$SERVE_PID/stat")
    sleep 1
    touch "$SCRATCH/stop"; wait "$client"; rm -f "$SCRATCH/stop"
    stats() { python3 -c 'import sys,statistics; v=[int(l.split()[1]) for l in sys.stdin]; print("%d / %d" % (statistics.median(v), max(v)) if v else "-")'; }
    before=$(awk -v t="$t0" '$1 < t' "$SCRATCH/rtt" | stats)
    during=$(awk -v a="$t0" -v b="$t1" '$1 >= a && $1 <= b + 200' "$SCRATCH/rtt" | stats)
    hz=$(getconf CLK_TCK)
    echo "| $n | $((t1 - t0)) | $before | $during | $((t2 - t0)) | $(python3 -c "print('%.2f' % (($cpu1 - $cpu0) / $hz))") |"
    stop_serve
done
