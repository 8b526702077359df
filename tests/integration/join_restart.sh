#!/usr/bin/env bash
# join_restart.sh - the stream-table joins (the current row: LEFT, and INNER
# with WHERE), a FULL table-table join and a temporal join (FOR SYSTEM_TIME
# AS OF, LEFT) against an oracle: a Python script (not weir) generates the
# tables' changes, orders and sales (out of order, a few far too late) and
# computes each output by brute force. weir serve --once runs four phases
# (tables; orders; table changes, then deletes over HTTP; orders again),
# each killed with -9 at random moments and restarted, with a state bound
# so small that the join rows leave memory at every checkpoint and are read
# back from the state store: every output must equal the oracle's, each row
# once, and the late records must be the dead letters. The interval joins
# have join.sh. WEIR_KILLS sets the kills per phase (4 here).
. "$(dirname "$0")/../lib.sh"
KILLS=${WEIR_KILLS:-4}
plan 10
data="$SCRATCH/data"
cp "$(dirname "$0")/join_oracle.sql" "$SCRATCH/p.sql"

python3 "$(dirname "$0")/join_oracle.py" "$SCRATCH" || { echo "Bail out! the oracle failed"; exit 1; }
read late_prices late_sales < "$SCRATCH/oracle.late"
diag "oracle: $(wc -l < "$SCRATCH/oracle.enriched") orders, $(wc -l < "$SCRATCH/oracle.both_sides") joined rows of the tables, $(wc -l < "$SCRATCH/oracle.priced") priced sales, $late_prices + $late_sales late"

produce() { $WEIR produce "$1" --data "$data" --partitions "$3" --key "$2" "$SCRATCH/$4.ndjson"; }
# run PHASE: serve --once, killed -9 KILLS times; a tiny state bound drops the join rows at every checkpoint
run() {
    serve_killed "$KILLS" "$SCRATCH/stderr" -f "$SCRATCH/p.sql" --data "$data" --once --checkpoint-ms 20 \
        --idle-ms 0 --state-memory 65536
    diag "phase $1: $KILLED kills"
    [ "$KILLED" -ge 1 ] && ! grep -q -i "error" "$SCRATCH/stderr"
    ok $? "phase $1: serve --once killed $KILLED times mid-run, then finished without error"
}

produce customers customer_id 2 customers1 && produce accounts customer_id 2 accounts1 &&
    produce prices sku 1 prices && produce sales sku 1 sales || { echo "Bail out! weir produce failed"; exit 1; }
run 1
produce orders customer_id 2 orders2 || { echo "Bail out! weir produce failed"; exit 1; }
run 2
produce customers customer_id 2 customers3 && produce accounts customer_id 2 accounts3 ||
    { echo "Bail out! weir produce failed"; exit 1; }
run 3
# the deletes over HTTP (a source table's removal), then a kill -9 once they are checkpointed
start_serve -f "$SCRATCH/p.sql" --data "$data" --checkpoint-ms 50 --idle-ms 0 --state-memory 65536 ||
    { echo "Bail out! weir serve did not start"; exit 1; }
failed=0
while read -r k; do
    req DELETE "/v1/tables/customers?key=$k"
    [ "$STATUS" = 200 ] || { failed=$((failed + 1)); diag "DELETE $k: $STATUS $BODY"; }
done < "$SCRATCH/deletes3"
rows_of() { $WEIR query --data "$data" -f "$SCRATCH/p.sql" "SELECT customer_id FROM $1" 2>/dev/null | wc -l; }
want_rows=$(grep -c '"tier":"' "$SCRATCH/oracle.both_sides")
for i in $(seq 600); do [ "$(rows_of customers)" = "$want_rows" ] && break; sleep 0.1; done
sleep 0.3 # a checkpoint or more past the deletes (50 ms apart): kill -9 must not lose them
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
[ "$failed" = 0 ] && [ "$(rows_of customers)" = "$want_rows" ]
ok $? "200 customers deleted over HTTP ($failed failed), then kill -9: $(rows_of customers) rows, as the oracle's $want_rows"
produce orders customer_id 2 orders4 || { echo "Bail out! weir produce failed"; exit 1; }
run 4

for s in enriched gold_orders priced; do
    $WEIR consume "$s" --data "$data" --from-beginning -e 2>/dev/null | sort > "$SCRATCH/got.$s"
    cmp -s "$SCRATCH/oracle.$s" "$SCRATCH/got.$s"
    ok $? "$s equals the oracle's, each row once ($(wc -l < "$SCRATCH/got.$s") rows)" ||
        diff "$SCRATCH/oracle.$s" "$SCRATCH/got.$s" | head -5 | sed 's/^/# /'
done
$WEIR query --data "$data" -f "$SCRATCH/p.sql" 'SELECT customer_id, tier, balance FROM both_sides' 2>/dev/null |
    sort > "$SCRATCH/got.both_sides"
cmp -s "$SCRATCH/oracle.both_sides" "$SCRATCH/got.both_sides"
ok $? "both_sides (FULL table-table join) equals the oracle's ($(wc -l < "$SCRATCH/got.both_sides") rows)" ||
    diff "$SCRATCH/oracle.both_sides" "$SCRATCH/got.both_sides" | head -5 | sed 's/^/# /'
dead_p=$($WEIR consume prices.dlq --data "$data" --from-beginning -e 2>/dev/null | grep -c 'too late')
dead_s=$($WEIR consume sales.dlq --data "$data" --from-beginning -e 2>/dev/null | grep -c 'too late')
[ "$dead_p" = "$late_prices" ] && [ "$dead_s" = "$late_sales" ]
ok $? "the late records are the dead letters, each once (prices $dead_p of $late_prices, sales $dead_s of $late_sales)"
finish
