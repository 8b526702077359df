#!/usr/bin/env bash
# gen.sh - weir gen: every generator writes valid NDJSON objects, the same
# lines for the same seed, Collatz chains as an independent computation
# has them (and an overflow reported, not wrapped), about 5% malformed
# logins, and --rate paces by the wall clock.
. "$(dirname "$0")/../lib.sh"
plan 15
for g in collatz likes logins sensors tweets; do
    $WEIR gen "$g" -n 2000 --seed 3 > "$SCRATCH/$g.ndjson" &&
        $WEIR produce "gen_$g" "$SCRATCH/$g.ndjson" >/dev/null 2>&1 &&
        lines=$(wc -l < "$SCRATCH/$g.ndjson") && [ "$($WEIR consume "gen_$g" --from-beginning -e | wc -l)" = "$lines" ] &&
        { [ "$lines" = 2000 ] || { [ $g = collatz ] && [ "$lines" -ge 2000 ]; }; }
    ok $? "gen $g: 2000 lines (collatz: and the rest of the last chain), every one a JSON object"
done
cmp -s "$SCRATCH/tweets.ndjson" <($WEIR gen tweets -n 2000 --seed 3); ok $? "the same seed gives the same lines"
! cmp -s "$SCRATCH/tweets.ndjson" <($WEIR gen tweets -n 2000 --seed 4); ok $? "another seed gives others"

# Collatz: the chains of 1..40 as awk computes them (exact below 2^53).
$WEIR gen collatz --numbers 1:40 -n 3000 --seed 9 | sed 's/.*"number":\([0-9]*\),"step":\([0-9]*\),"value":\([0-9]*\).*/\1 \2 \3/' > "$SCRATCH/chains"
awk '{ if ($2 == 0) v = $1; else v = (v % 2 == 0) ? v / 2 : 3 * v + 1; if (v != $3 || (prev_n == $1 && $2 != prev_s + 1 && $2 != 0)) bad++;
       prev_n = $1; prev_s = $2 } END { exit bad > 0 || NR < 3000 || $3 != 1 }' "$SCRATCH/chains"
ok $? "collatz: every step of every chain is right, and -n 3000 ends with a whole chain (at value 1)"
$WEIR gen collatz --numbers 6148914691236517205:6148914691236517205 -n 1 >/dev/null 2>"$SCRATCH/err"
grep -q "collatz 6148914691236517205: step 1: 3 x 6148914691236517205 + 1 does not fit in 64 bits" "$SCRATCH/err"
ok $? "an overflowing step is reported, not wrapped"

bad=$($WEIR gen logins -n 10000 | grep -c -v '"user_id":"[0-9a-f-]\{36\}","app_version":"[0-9]\.[0-9]\.[0-9]","ip":"[0-9]\{1,3\}\.[0-9]\{1,3\}\.[0-9]\{1,3\}\.[0-9]\{1,3\}","locale":"[A-Z][A-Z]",.*"timestamp":[0-9]')
[ "$bad" -ge 300 ] && [ "$bad" -le 700 ]; ok $? "logins: about 5% malformed ($bad of 10000)"

start=$(date +%s%N)
[ "$($WEIR gen likes --rate 200 -n 100 | wc -l)" = 100 ]; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ $rc = 0 ] && [ "$ms" -ge 450 ] && [ "$ms" -le 1500 ]; ok $? "--rate 200 paces 100 records over half a second (${ms} ms)"

# --post: batches to a server, each record to the stream its "type" names
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM hoverboard (id TEXT);
CREATE STREAM customer (id TEXT);
CREATE STREAM trip (hoverboard_id TEXT);
SQL
start_serve -f "$SCRATCH/p.sql"
$WEIR gen sensors -n 7000 --seed 5 --post "$URL/v1/streams/{type}"; ok $? "gen --post sends 7000 records"
want=$($WEIR gen sensors -n 7000 --seed 5 | grep -o '"type":"[a-z]*"' | sort | uniq -c | awk '{ printf "%s%s", $1, " " }')
got=$(for t in customer hoverboard trip; do curl -s "$URL/metrics" | awk -v m="weir_ingest_records_total{stream=\"$t\"}" '$1 == m { printf "%s ", $2 }'; done)
[ "$got" = "$want" ]; ok $? "each to the stream of its type ($got)"
$WEIR gen likes -n 2 --post "$URL/v1/streams/{nothing}" 2>"$SCRATCH/err"
[ $? = 1 ] && grep -q 'the record has no such field' "$SCRATCH/err"; ok $? "a record without the URL's field is reported, and the exit status says so"
$WEIR gen likes -n 2 --post "$URL/v1/streams/nope" 2>"$SCRATCH/err"
[ $? = 1 ] && grep -q 'no stream nope in the pipeline' "$SCRATCH/err"; ok $? "a refused batch is reported with the server's answer"
stop_serve
finish
