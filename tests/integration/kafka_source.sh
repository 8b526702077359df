#!/usr/bin/env bash
# kafka_source.sh - a pipeline reading a Kafka topic (mock cluster, records
# produced by kcat): results equal an independent count, a kill -9 mid-run
# and a restart count each record once (the checkpoint holds the topic's
# offsets), and records ingested over HTTP reach the pipeline through the
# topic.
. "$(dirname "$0")/../lib.sh"
plan 8
start_kafka_mock events:3 small:2
cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM events (user TEXT, n INT) WITH (partitions = 3, key = 'user', connector = 'kafka', brokers = '$B');
CREATE TABLE per_user AS SELECT user, COUNT(*) AS c, SUM(n) AS s FROM events GROUP BY user;
SQL
produce() { # produce FROM TO: records n = FROM..TO into topic events with kcat, keyed by user
    seq "$1" "$2" | awk '{ printf "u%d\t{\"user\":\"u%d\",\"n\":%d}\n", $1 % 23, $1 % 23, $1 }' |
        kcat -b "$B" -t events -P -K '\t' -X topic.partitioner=murmur2_random 2>/dev/null
}
totals() { curl -s "$URL/v1/query" -d '{"sql":"SELECT c, s FROM per_user"}' |
    grep -o '"c":[0-9]*,"s":[0-9]*' | tr -c '0-9\n' ' ' | awk '{ c += $1; s += $2 } END { print c + 0, s + 0 }'; }
wait_totals() { local i; for i in $(seq 150); do [ "$(totals)" = "$1" ] && return 0; sleep 0.1; done; return 1; }

produce 1 5000
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 --kafka-group counters
wait_totals "5000 12502500"; ok $? "the pipeline counts the topic's 5000 records ($(totals))"
produce 5001 20000 &
producer=$!
sleep 0.4
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
wait $producer
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 --kafka-group counters
wait_totals "20000 200010000"; ok $? "after kill -9 and a restart, each of 20000 records counted once ($(totals))"
[ "$(curl -s -X POST "$URL/v1/streams/events" --data-binary $'{"user":"h1","n":1}\n{"user":"h2","n":2}\n' -o /dev/null -w '%{http_code}')" = 200 ]
ok $? "HTTP ingest into a Kafka stream is accepted"
wait_totals "20002 200010003"; ok $? "and reaches the pipeline through the topic"
[ "$(kcat -b "$B" -t events -C -e -q -f '%k\n' 2>/dev/null | grep -c '^h[12]$')" = 2 ]; ok $? "the two are in the topic, once"
[ "$(curl -s "$URL/metrics" | grep -c '^weir_pipeline_lag_records{stream="events",partition="[012]"} 0$')" = 3 ]
ok $? "/metrics shows the pipeline's lag behind the topic (none now)"
sleep 0.5
left=$(timeout 20 kcat -b "$B" -G counters -e -q -f '%o\n' events 2>/dev/null | wc -l)
[ "$left" = 0 ]; ok $? "the consumer group learned the checkpointed offsets: it has nothing left to read ($left)"
stop_serve
sed -i 's/partitions = 3/partitions = 2/; s/topic = .events./topic = '"'"'small'"'"'/' "$SCRATCH/p.sql"
sed -i "s/connector = 'kafka'/connector = 'kafka', topic = 'events'/" "$SCRATCH/p.sql"
$WEIR serve -f "$SCRATCH/p.sql" --data "$SCRATCH/d2" --once 2>"$SCRATCH/err"
grep -q "stream events has 2 partitions but kafka topic events has 3" "$SCRATCH/err"; ok $? "a partition count that differs from the topic's is refused"
kill $mock; wait $mock 2>/dev/null
finish
