#!/usr/bin/env bash
# join_scale_out.sh - the join goldens (join_oracle.py: the stream-table
# joins, the FULL table-table join and the temporal join; interval_oracle.py:
# the INNER and FULL interval joins) run by two `weir serve --kafka
# --scale-out` processes in one consumer group on the mock cluster, one of
# them killed with kill -9 in the middle of a phase and the other after the
# first came back: each takeover restores the join's state (every input's
# partition of the task) from the state topic. The distinct records of each
# output topic must be the oracle's rows (a row may come twice after a
# takeover, with the same values), and the table's topic, compacted by key,
# the oracle's table.
. "$(dirname "$0")/../lib.sh"
plan 16
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
start_kafka_mock customers:2 accounts:2 orders:2 enriched:2 gold_orders:2 both_sides:2 prices:1 sales:1 priced:1 \
    clicks:4 buys:4 matched:4 everything:4 order_counts:2 g.state:1
[ -n "$B" ] || { echo "Bail out! the mock cluster did not start"; exit 1; }
cp "$(dirname "$0")/join_oracle.sql" "$SCRATCH/p.sql"
sed -n '/^CREATE/,$p' "$(dirname "$0")/join.sql" >> "$SCRATCH/p.sql"
echo "CREATE TABLE order_counts AS SELECT customer_id, COUNT(*) AS n FROM orders GROUP BY customer_id;" >> "$SCRATCH/p.sql"
python3 "$(dirname "$0")/join_oracle.py" "$SCRATCH" && python3 "$(dirname "$0")/interval_oracle.py" "$SCRATCH" 20000 ||
    { echo "Bail out! the oracle failed"; exit 1; }

# produce TOPIC KEY FILE: FILE's records, keyed by field KEY, to the topic (murmur2, as Kafka's Java clients)
produce() {
    python3 -c 'import json, sys
for line in open(sys.argv[2]): print(json.loads(line)[sys.argv[1]], line.rstrip("\n"), sep="\t")' "$2" "$SCRATCH/$3.ndjson" |
        kcat -b "$B" -t "$1" -P -K $'\t' -X topic.partitioner=murmur2_random 2>/dev/null
}
INPUTS="customers accounts orders prices sales clicks buys"
SERVE_IDLE_MS=600000
. "$(dirname "$0")/../scale_out_lib.sh"
# split: the group's partitions are all held, each stream's by a process (a join's inputs follow its first's)
split() {
    local s n
    for s in $INPUTS; do
        n=$(( $(owned "$U_a" $s) + $(owned "$U_b" $s) ))
        case $s in customers|accounts|orders) [ "$n" = 2 ] ;; prices|sales) [ "$n" = 1 ] ;; *) [ "$n" = 4 ] ;; esac || return 1
    done
    [ "$(owned "$U_a" orders)" = "$(owned "$U_a" customers)" ] && [ "$(owned "$U_a" buys)" = "$(owned "$U_a" clicks)" ] &&
        [ "$(owned "$U_a" clicks)" -ge 1 ] && [ "$(owned "$U_b" clicks)" -ge 1 ]
}
# the flush: a click and a buy an hour past every other record in each partition, so that the FULL join's
# unmatched records are emitted (they meet each other: their rows have negative ids and are left out)
flush() {
    local p
    for p in 0 1 2 3; do
        echo "{\"cid\":-$((p + 1)),\"user\":\"flush\",\"ts\":1795430000000}" | kcat -b "$B" -t clicks -P -p $p 2>/dev/null
        echo "{\"bid\":-$((p + 1)),\"user\":\"flush\",\"ts\":1795430000000}" | kcat -b "$B" -t buys -P -p $p 2>/dev/null
    done
}

serve a
serve b
wait_for 600 split
ok $? "the group splits the partitions, a join's inputs' partitions held together (a: customers $(owned "$U_a" customers), orders $(owned "$U_a" orders), clicks $(owned "$U_a" clicks), buys $(owned "$U_a" buys))"

produce customers customer_id customers1 && produce accounts customer_id accounts1 && produce prices sku prices &&
    produce sales sku sales || { echo "Bail out! kcat failed"; exit 1; }
wait_for 1200 'caught_up "$U_a" "$U_b"'
ok $? "phase 1 (the tables, the temporal join's records): both read their partitions to the end and deliver"

produce orders customer_id orders2 && produce clicks user clicks && produce buys user buys &
producer=$!
sleep 0.5
kill -9 "$PID_a"; wait "$PID_a" 2>/dev/null
wait $producer || { echo "Bail out! kcat failed"; exit 1; }
wait_for 1200 '[ "$(owned "$U_b" orders)" = 2 ] && [ "$(owned "$U_b" customers)" = 2 ] && [ "$(owned "$U_b" buys)" = 4 ]'
ok $? "phase 2: a killed -9 mid-phase, b holds every partition of every join's inputs"
wait_for 1200 'caught_up "$U_b"'
ok $? "b reads them to the end, restoring a's tasks from the state topic"

serve a # a comes back with its data directory: the group splits again
wait_for 600 split
ok $? "a restarted takes partitions back, a join's inputs' together"
produce customers customer_id customers3 && produce accounts customer_id accounts3 || { echo "Bail out! kcat failed"; exit 1; }
sed 's/$/\t/' "$SCRATCH/deletes3" | kcat -b "$B" -t customers -P -K $'\t' -Z -X topic.partitioner=murmur2_random 2>/dev/null
wait_for 1200 'caught_up "$U_a" "$U_b"'
ok $? "phase 3 (the tables' updates and deletes): both read to the end and deliver"
key_elsewhere() { # a customer of orders' partitions the process at $1 does not hold: its pull query's redirect
    local c
    for c in $(seq 0 40); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/v1/tables/order_counts?key=c$c")" = 307 ] &&
            { curl -s -o /dev/null -w '%{redirect_url}' "$1/v1/tables/order_counts?key=c$c"; return 0; }
    done
    return 1
}
redirect=$(key_elsewhere "$U_a")
[[ "$redirect" == "$U_b/v1/tables/order_counts?key=c"* ]]
ok $? "a pull query on a for a key of a joined stream's partition b holds is sent to b ($redirect)"

produce orders customer_id orders4 && flush &
producer=$!
sleep 0.3
kill -9 "$PID_b"; wait "$PID_b" 2>/dev/null
wait $producer || { echo "Bail out! kcat failed"; exit 1; }
wait_for 1200 '[ "$(owned "$U_a" orders)" = 2 ] && [ "$(owned "$U_a" clicks)" = 4 ] && caught_up "$U_a"'
ok $? "phase 4: b killed -9 mid-phase, a takes every partition over and reads them to the end"
[ "$(metrics "$U_a" | awk '$1 == "weir_task_state_save_failures_total" { print $2 }')" = 0 ]; ok $? "no state save failed"

for s in enriched gold_orders priced matched everything; do
    kcat -b "$B" -t "$s" -C -e -q 2>/dev/null | grep -v -e '"cid":-' -e '"bid":-' | sort -u > "$SCRATCH/got.$s"
    cmp -s "$SCRATCH/oracle.$s" "$SCRATCH/got.$s"; rc=$?
    ok $rc "topic $s holds the oracle's rows ($(wc -l < "$SCRATCH/got.$s") distinct records)"
    [ $rc = 0 ] || diag "$(diff "$SCRATCH/oracle.$s" "$SCRATCH/got.$s" | grep -c '^<') missing, $(diff "$SCRATCH/oracle.$s" \
        "$SCRATCH/got.$s" | grep -c '^>') not the oracle's, e.g. $(diff "$SCRATCH/oracle.$s" "$SCRATCH/got.$s" | grep '^[<>]' | head -4 | tr '\n' ' ')"
done
# the table's topic compacted by key: the last record of each key, tombstones (NULL) removing it
kcat -b "$B" -t both_sides -C -e -q -Z -f '%k\t%s\n' 2>/dev/null |
    awk -F'\t' '{ last[$1] = $2 } END { for (k in last) if (last[k] != "NULL") print last[k] }' | sort > "$SCRATCH/got.both_sides"
cmp -s "$SCRATCH/oracle.both_sides" "$SCRATCH/got.both_sides"; rc=$?
ok $rc "topic both_sides, compacted by key, holds the oracle's table ($(wc -l < "$SCRATCH/got.both_sides") rows)"
[ $rc = 0 ] || diff "$SCRATCH/oracle.both_sides" "$SCRATCH/got.both_sides" | grep '^[<>]' | head -5 | sed 's/^/# /'
kill -TERM "$PID_a"; wait "$PID_a"
ok $? "a stops cleanly on SIGTERM"
kill "$mock"; wait "$mock" 2>/dev/null
finish
