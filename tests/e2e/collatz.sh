#!/usr/bin/env bash
# collatz.sh - examples/collatz end to end: generated chains (the last,
# possibly cut short by the count, left out) through weir serve; the four
# questions of the original system, answered by the endpoints the pipeline
# declares, equal the answers computed here from the numbers alone (awk
# walks each chain); bad parameters get 400 naming the parameter.
. "$(dirname "$0")/../lib.sh"
plan 11
ex="$(cd "$(dirname "$0")/../../examples/collatz" && pwd)"
$WEIR gen collatz -n 30000 --numbers 1:5000 --seed 9 > "$SCRATCH/raw.ndjson"
last=$(tail -1 "$SCRATCH/raw.ndjson" | sed 's/{"number":\([0-9]*\),.*/\1/')
grep -v "^{\"number\":$last," "$SCRATCH/raw.ndjson" > "$SCRATCH/steps.ndjson"
$WEIR produce conjecture.data --partitions 4 --key number < "$SCRATCH/steps.ndjson"

# every number's chain, walked here: "number steps peak" and "value number" lines
sed 's/{"number":\([0-9]*\),.*/\1/' "$SCRATCH/steps.ndjson" | sort -un |
    awk -v chains="$SCRATCH/chains" -v values="$SCRATCH/values" '{
        n = $1; v = n; steps = 0; peak = n; print v, n > values
        while (v != 1) { v = v % 2 ? 3 * v + 1 : v / 2; steps++; if (v > peak) peak = v; print v, n > values }
        print n, steps, peak > chains }'
longest=$(sort -k2,2nr -k1,1n "$SCRATCH/chains" | head -1)
highest=$(sort -k3,3nr -k1,1n "$SCRATCH/chains" | head -1)
part() { awk -v x="$1" '$1 == x { print $2 }' "$SCRATCH/values" | sort -un | tr '\n' ' '; }

start_serve -f "$ex/pipeline.sql"
expect_longest="{\"longest\":${longest%% *},\"steps\":$(echo "$longest" | cut -d' ' -f2)}"
for i in $(seq 600); do [ "$(curl -s "$URL/longest_step_chain")" = "$expect_longest" ] && break; sleep 0.1; done
# The longest chain can be whole before the other tables are: wait until every step is read.
caught_up() { [ "$(curl -s "$URL/metrics" | grep -c '^weir_pipeline_lag_records{stream="conjecture.data",partition="[0-3]"} 0$')" = 4 ]; }
for i in $(seq 600); do caught_up && break; sleep 0.1; done
[ "$(curl -s "$URL/longest_step_chain")" = "$expect_longest" ]
ok $? "GET /longest_step_chain: $expect_longest ($(wc -l < "$SCRATCH/chains") numbers)"
n=${highest%% *}; peak=${highest##* }
[ "$(curl -s "$URL/highest_value")" = "{\"longest\":$n,\"number\":$n,\"value\":$peak}" ]
ok $? "GET /highest_value: number $n reaches $peak (under the original key 'longest' and as 'number')"
for x in 16 9232 $((RANDOM % 3000 + 2)); do
    want=$(part $x | sed 's/ $//; s/\([0-9][0-9]*\)/[\1]/g; s/ /,/g')
    [ "$(curl -s "$URL/part/$x")" = "[$want]" ]; ok $? "GET /part/$x: the $(part $x | wc -w) numbers whose chain passes $x, as the seed's [[n], ...]"
done
n=${longest%% *}
svg=$(curl -s -D "$SCRATCH/headers" "$URL/plot/$n")
grep -qi '^content-type: image/svg+xml' "$SCRATCH/headers" && echo "$svg" | grep -q '^<svg ' && echo "$svg" | grep -q '</svg>$'
ok $? "GET /plot/$n is an SVG document"
points=$(echo "$svg" | sed -n 's/.*points="\([^"]*\)".*/\1/p' | wc -w)
[ "$points" = $(($(echo "$longest" | cut -d' ' -f2) + 1)) ] && echo "$svg" | grep -q '>step</text>' && echo "$svg" | grep -q '>value</text>'
ok $? "with a point per step ($points) and its axes labelled step and value"
steps=$(echo "$longest" | cut -d' ' -f2)
csv=$(curl -s "$URL/chain/$n")
[ "$(echo "$csv" | head -1 | tr -d '\r')" = "step,value" ] && [ "$(echo "$csv" | sed -n 2p | tr -d '\r')" = "0,$n" ] &&
    [ "$(echo "$csv" | tail -1 | tr -d '\r')" = "$steps,1" ] && [ "$(echo "$csv" | wc -l)" = $((steps + 2)) ]
ok $? "GET /chain/$n answers CSV: step,value from 0,$n to $steps,1"
bad() { local body; body=$(curl -s -w ' %{http_code}' "$URL$1"); [ "${body##* }" = 400 ] && echo "$body" | grep -q "$2"; }
bad /part/abc "{x} must be a whole number" && bad /part/-5 "{x} must be a whole number" &&
    bad /part/99999999999999999999 "not '99999999999999999999'"
ok $? "a non-numeric, negative or too large value gets 400 naming the parameter"
bad /plot/1.5 "{n} must be a whole number"; ok $? "so does a fraction for /plot/{n}"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/plot/6000")" = 200 ]; ok $? "a number never loaded plots empty (200)"
stop_serve
finish
