#!/usr/bin/env bash
# collatz.sh [NUMBERS] - examples/collatz under load: the chains of NUMBERS
# (default 10000) 14-digit numbers loaded through weir serve, then each of
# the four endpoints hit by wrk (one connection, 5 s: latency without queueing): requests/s
# and latency p50/p99, against GET /healthz in the same run (the HTTP
# server's own ceiling). Also the load rate and the server's memory.
# Prints a markdown table for BENCHMARKS.md. Needs wrk.
set -eu
numbers=${1:-10000}
. "$(dirname "$0")/../tests/lib.sh"
ex="$(cd "$(dirname "$0")/../examples/collatz" && pwd)"
export WEIR_DATA="$SCRATCH/data"

$WEIR gen collatz -n 1000000000 --seed 1 2>/dev/null |
    awk -v want="$numbers" -F'[:,]' '{ if (!($2 in seen)) { if (n == want) exit; seen[$2] = 1; n++ } print }' > "$SCRATCH/steps.ndjson" || true
records=$(wc -l < "$SCRATCH/steps.ndjson")
$WEIR produce conjecture.data --partitions 4 --key number < "$SCRATCH/steps.ndjson"
start=$(date +%s%N)
start_serve -f "$ex/pipeline.sql" --checkpoint-ms 1000 >/dev/null
caught_up() { [ "$(curl -s "$URL/metrics" | grep -c '^weir_pipeline_lag_records{stream="conjecture.data",partition="[0-3]"} 0$')" = 4 ]; }
until caught_up; do sleep 0.2; done
sleep 2 # the last checkpoint, then quiet
load_s=$(( ($(date +%s%N) - start) / 1000000 ))
rss_mb=$(( $(awk '/^VmRSS/ { print $2 }' "/proc/$SERVE_PID/status") / 1024 ))

longest=$(curl -s "$URL/longest_step_chain" | sed 's/.*"longest":\([0-9]*\).*/\1/')
rare=$(awk -F'[:,]' -v n="$longest" '$2 == n && $4 == 3 { print $6; exit }' "$SCRATCH/steps.ndjson")
row() { # row PATH NOTE: wrk's requests/s, p50 and p99 for the path
    local out rps p50 p99
    out=$(wrk -t1 -c1 -d5s --latency "$URL$1" 2>&1)
    rps=$(echo "$out" | awk '/^Requests\/sec/ { printf "%.0f", $2 }')
    p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
    p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
    echo "| \`GET $1\` $2 | $rps | $p50 | $p99 |"
}
echo "collatz: $numbers numbers, $records steps loaded in $load_s ms ($(( records * 1000 / (load_s + 1) )) steps/s through the pipeline), server RSS $rss_mb MiB"
echo
echo "| request | requests/s | p50 | p99 |"
echo "|---|---|---|---|"
row /healthz "(the server's ceiling)"
row /longest_step_chain ""
row /highest_value ""
row "/part/$rare" "(a value few chains pass)"
row /part/16 "(every chain passes it: $numbers numbers in the answer)"
row "/plot/$longest" "(the longest chain, SVG)"
stop_serve
