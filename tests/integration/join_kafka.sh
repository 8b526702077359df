#!/usr/bin/env bash
# join_kafka.sh - join_restart.sh's goldens with every stream and table on
# Kafka topics (weir serve --kafka against librdkafka's mock cluster; the
# records produced by kcat with Kafka's murmur2 partitioner, deletes as
# tombstones): the stream-table joins (LEFT, INNER with WHERE), the FULL
# table-table join and the temporal join, with out-of-order and late
# records, four phases of serve --once each killed with -9 at random
# moments, and a state bound that sends the join state to the store at
# every checkpoint. Every output topic must hold the oracle's rows
# (join_oracle.py, not weir), each once; the table's topic, compacted by
# key, the oracle's table. This is the Kafka path of one process;
# join_scale_out.sh runs the same goldens with --scale-out.
# WEIR_KILLS sets the kills per phase (3 here).
. "$(dirname "$0")/../lib.sh"
KILLS=${WEIR_KILLS:-3}
plan 9
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
start_kafka_mock customers:2 accounts:2 orders:2 enriched:2 gold_orders:2 both_sides:2 prices:1 sales:1 priced:1
[ -n "$B" ] || { echo "Bail out! the mock cluster did not start"; exit 1; }
data="$SCRATCH/data"
cp "$(dirname "$0")/join_oracle.sql" "$SCRATCH/p.sql"
python3 "$(dirname "$0")/join_oracle.py" "$SCRATCH" || { echo "Bail out! the oracle failed"; exit 1; }
read late_prices late_sales < "$SCRATCH/oracle.late"

# produce TOPIC KEY FILE: FILE's records, keyed by field KEY, to the topic (murmur2, as Kafka's Java clients)
produce() {
    python3 -c 'import json, sys
for line in open(sys.argv[2]): print(json.loads(line)[sys.argv[1]], line.rstrip("\n"), sep="\t")' "$2" "$SCRATCH/$3.ndjson" |
        kcat -b "$B" -t "$1" -P -K $'\t' -X topic.partitioner=murmur2_random 2>/dev/null
}
run() {
    serve_killed "$KILLS" "$SCRATCH/stderr" -f "$SCRATCH/p.sql" --data "$data" --kafka "$B" --kafka-group g --once \
        --checkpoint-ms 20 --idle-ms 0 --state-memory 65536
    diag "phase $1: $KILLED kills"
    [ "$KILLED" -ge 1 ] && ! grep -q -i "error" "$SCRATCH/stderr"
    ok $? "phase $1: serve --once over Kafka killed $KILLED times mid-run, then finished without error" ||
        diag "$(grep -i error "$SCRATCH/stderr" | head -3)"
}

produce customers customer_id customers1 && produce accounts customer_id accounts1 && produce prices sku prices &&
    produce sales sku sales || { echo "Bail out! kcat failed"; exit 1; }
run 1
produce orders customer_id orders2 || { echo "Bail out! kcat failed"; exit 1; }
run 2
produce customers customer_id customers3 && produce accounts customer_id accounts3 ||
    { echo "Bail out! kcat failed"; exit 1; }
sed 's/$/\t/' "$SCRATCH/deletes3" | kcat -b "$B" -t customers -P -K $'\t' -Z -X topic.partitioner=murmur2_random 2>/dev/null
run 3
produce orders customer_id orders4 || { echo "Bail out! kcat failed"; exit 1; }
run 4

for s in enriched gold_orders priced; do
    kcat -b "$B" -t "$s" -C -e -q 2>/dev/null | sort > "$SCRATCH/got.$s"
    cmp -s "$SCRATCH/oracle.$s" "$SCRATCH/got.$s"
    ok $? "topic $s holds the oracle's rows, each once ($(wc -l < "$SCRATCH/got.$s") records)" ||
        diff "$SCRATCH/oracle.$s" "$SCRATCH/got.$s" | head -5 | sed 's/^/# /'
done
# the table's topic compacted by key: the last record of each key, tombstones (NULL) removing it
kcat -b "$B" -t both_sides -C -e -q -Z -f '%k\t%s\n' 2>/dev/null |
    awk -F'\t' '{ last[$1] = $2 } END { for (k in last) if (last[k] != "NULL") print last[k] }' | sort > "$SCRATCH/got.both_sides"
cmp -s "$SCRATCH/oracle.both_sides" "$SCRATCH/got.both_sides"
ok $? "topic both_sides, compacted by key, holds the oracle's table ($(wc -l < "$SCRATCH/got.both_sides") rows)" ||
    diff "$SCRATCH/oracle.both_sides" "$SCRATCH/got.both_sides" | head -5 | sed 's/^/# /'
dead_p=$($WEIR consume prices.dlq --data "$data" --from-beginning -e 2>/dev/null | grep -c 'too late')
dead_s=$($WEIR consume sales.dlq --data "$data" --from-beginning -e 2>/dev/null | grep -c 'too late')
[ "$dead_p" = "$late_prices" ] && [ "$dead_s" = "$late_sales" ]
ok $? "the late records are the dead letters, each once (prices $dead_p of $late_prices, sales $dead_s of $late_sales)"
kill "$mock"; wait "$mock" 2>/dev/null
finish
