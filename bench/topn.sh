#!/usr/bin/env bash
# topn.sh [NUMBERS] [full] - the Collatz top-N endpoints (/longest_step_chain,
# /highest_value: ORDER BY ... DESC LIMIT 1 over the `chains` table, one row
# per number) answered from the state store's ordered index, beside the same
# queries answered by the sorting path (the same SELECT with a WHERE that
# keeps every row, which no index answers) in the same server, after the load
# and again after a restart. wrk, one connection, 5 s each: p50 and p99
# (and GET /healthz's: the HTTP server's own floor on this machine; and
# GET /part/{x} of the highest value's: an endpoint's floor, a point
# lookup answered on the query threads as every endpoint is).
#
# NUMBERS (default 100000) 14-digit numbers' chains from `weir gen collatz`.
# Without `full`, each chain is cut to the two steps that make its `chains`
# row (its last step and its highest value), so `chains` is the table a full
# load makes (NUMBERS rows, the same values) while the load takes seconds,
# not the 18 minutes of 32.7M steps at 100,000 numbers; the other tables are
# smaller. With `full`, every step is loaded.
#
# WEIR_BEFORE=path/to/weir runs the same with another binary first (an older
# build: its /longest_step_chain is then the sorting path too), then starts
# this build on the store it left (no index yet: made at start).
# Prints markdown rows for BENCHMARKS.md. Needs wrk.
set -eu
numbers=${1:-100000}
mode=${2:-cut}
. "$(dirname "$0")/../tests/lib.sh"
ex="$(cd "$(dirname "$0")/../examples/collatz" && pwd)"

gen_start=$(date +%s)
if [ "$mode" = full ]; then
    $WEIR gen collatz -n 1000000000 --seed 1 2>/dev/null |
        awk -v want="$numbers" -F'[:,]' '{ if (!($2 in seen)) { if (n == want) exit; seen[$2] = 1; n++ } print }' \
            > "$SCRATCH/steps.ndjson" || true
else # per number (its steps come together): the record of its last step and the one of its highest value
    $WEIR gen collatz -n 1000000000 --seed 1 2>/dev/null |
        awk -v want="$numbers" -F'[:,]' '
            function flush() { if (cur != "") { print last; if (peak_line != last) print peak_line } }
            $2 != cur { flush(); if (++n > want) exit; cur = $2; peak = -1 }
            { last = $0; if ($6 + 0 > peak) { peak = $6 + 0; peak_line = $0 } }
            END { if (n <= want) flush() }' > "$SCRATCH/steps.ndjson" || true
fi
records=$(wc -l < "$SCRATCH/steps.ndjson")
echo "topn: $numbers numbers ($mode): $records records, made in $(( $(date +%s) - gen_start )) s"

# the example's pipeline, and its two top-N endpoints again with a WHERE that no index answers
cp "$ex/pipeline.sql" "$SCRATCH/pipeline.sql"
cat >> "$SCRATCH/pipeline.sql" <<'EOF'
CREATE ENDPOINT 'GET /longest_step_chain_sorted' WITH (format = 'object') AS
  SELECT number AS longest, steps FROM chains WHERE steps >= 0 ORDER BY steps DESC, number LIMIT 1;
CREATE ENDPOINT 'GET /highest_value_sorted' WITH (format = 'object') AS
  SELECT number AS longest, number, peak AS value FROM chains WHERE steps >= 0 ORDER BY peak DESC, number LIMIT 1;
EOF

row() { # row LABEL PATH: wrk's p50 and p99 for the path
    local out p50 p99 rps
    out=$(wrk -t1 -c1 -d5s --latency "$URL$2" 2>&1)
    rps=$(echo "$out" | awk '/^Requests\/sec/ { printf "%.0f", $2 }')
    p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
    p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
    echo "| $1 | \`GET $2\` | $rps | $p50 | $p99 |"
}
caught_up() { [ "$(curl -s "$URL/metrics" | grep -c '^weir_pipeline_lag_records{stream="conjecture.data",partition="[0-3]"} 0$')" = 4 ]; }
measure() { # measure LABEL: every endpoint, after checking the index's answers are the sorting path's
    local p
    for p in longest_step_chain highest_value; do
        [ "$(curl -s "$URL/$p")" = "$(curl -s "$URL/${p}_sorted")" ] || { echo "$1: /$p differs from the sorting path" >&2; exit 1; }
    done
    row "$1" /healthz
    row "$1" "/part/$(curl -s "$URL/highest_value" | sed 's/.*"value":\([0-9]*\).*/\1/')"
    row "$1" /longest_step_chain
    row "$1" /longest_step_chain_sorted
    row "$1" /highest_value
    row "$1" /highest_value_sorted
}

run() { # run LABEL: a fresh data directory loaded through serve, measured, restarted, measured
    export WEIR_DATA="$SCRATCH/data-$1"
    $WEIR produce conjecture.data --partitions 4 --key number < "$SCRATCH/steps.ndjson"
    local start load_ms first_ms
    start=$(date +%s%N)
    start_serve -f "$SCRATCH/pipeline.sql" --checkpoint-ms 1000 >/dev/null
    until caught_up; do sleep 0.2; done
    load_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    sleep 3 # the last checkpoint, then quiet
    echo "$1: loaded in $load_ms ms; data dir $(du -sm "$WEIR_DATA" | cut -f1) MB"
    measure "$1, loaded"
    stop_serve
    start=$(date +%s%N)
    start_serve -f "$SCRATCH/pipeline.sql" --checkpoint-ms 1000 >/dev/null
    until curl -sf "$URL/longest_step_chain" >/dev/null; do sleep 0.02; done
    first_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "$1: restarted, first answer of /longest_step_chain after $first_ms ms"
    measure "$1, restarted"
    stop_serve
    [ "$1" = before ] || rm -rf "$WEIR_DATA"
}

echo
echo "| build, when | request | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|"
if [ -n "${WEIR_BEFORE:-}" ]; then
    after=$WEIR
    WEIR=$WEIR_BEFORE run before
    WEIR=$after
    # this build started on the older build's store, which has no index: it is made at start
    start=$(date +%s%N)
    start_serve -f "$SCRATCH/pipeline.sql" --checkpoint-ms 1000 >/dev/null
    until curl -sf "$URL/longest_step_chain" >/dev/null; do sleep 0.02; done
    echo "after, on the older build's store: first answer of /longest_step_chain after $(( ($(date +%s%N) - start) / 1000000 )) ms (the indexes made at start)"
    measure "after, on the older build's store"
    stop_serve
    rm -rf "$WEIR_DATA"
fi
run after
