#!/usr/bin/env bash
# source_tables.sh - CREATE TABLE t (... PRIMARY KEY) (issues 15 and 17): a
# source table takes records like a stream (HTTP ingest here, a Kafka topic
# through the Kafka source connector against librdkafka's mock cluster) and
# keeps the latest record per key; a Kafka tombstone (a key with a null
# value) removes the key's row. Its rows answer pull queries, key lookups,
# `weir query` and the table list, and survive a restart and a kill -9,
# read from the state store, not replayed. A stream joined with the table
# meets each key's current row, also after a restart (the join's copy of
# the rows is in the state store); joined FOR SYSTEM_TIME AS OF its event
# time, the row as of that time, once the quiet table's watermark moves on.
# DELETE /v1/tables/t?key=K removes a row as a Kafka tombstone does.
. "$(dirname "$0")/../lib.sh"
plan 15
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
start_kafka_mock accounts:2
[ -n "$B" ] || { echo "Bail out! the mock cluster did not start"; exit 1; }

cat > "$SCRATCH/p.sql" <<SQL
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT, ts TIMESTAMP) WITH (partitions = 2, timestamp = 'ts');
CREATE TABLE accounts (account_id UINT PRIMARY KEY, owner TEXT)
  WITH (partitions = 2, connector = 'kafka', topic = 'accounts', brokers = '$B');
CREATE STREAM trips (trip_id TEXT, customer_id TEXT, km DOUBLE) WITH (partitions = 2, key = 'customer_id');
CREATE STREAM enriched AS
  SELECT t.trip_id, c.tier, t.km FROM trips AS t LEFT JOIN customers AS c ON t.customer_id = c.customer_id;
CREATE STREAM rides (ride_id TEXT, customer_id TEXT, ts TIMESTAMP) WITH (partitions = 2, key = 'customer_id', timestamp = 'ts');
CREATE STREAM rides_as_of AS
  SELECT r.ride_id, c.tier FROM rides AS r JOIN customers FOR SYSTEM_TIME AS OF r.ts AS c ON r.customer_id = c.customer_id;
SQL
data="$SCRATCH/data"
start_serve -f "$SCRATCH/p.sql" --data "$data" --checkpoint-ms 100 --idle-ms 200 || { echo "Bail out! weir serve did not start"; exit 1; }
req POST /v1/streams/customers --data-binary '{"customer_id":"c1","tier":"gold","ts":"2026-12-01T10:00:00Z"}
{"customer_id":"c2","tier":"silver","ts":"2026-12-01T10:00:01Z"}
{"customer_id":"c1","tier":"platinum","ts":"2026-12-01T10:00:02Z"}
{"tier":"none","ts":"2026-12-01T10:00:03Z"}'
[ "$STATUS" = 200 ] || diag "ingest: $STATUS $BODY"
# wait_table T WANT: until GET /v1/tables/T?... lists exactly WANT (the rows' JSON, sorted, one per line)
wait_table() {
    for i in $(seq 600); do
        req GET "/v1/tables/$1"
        [ "$(echo "$BODY" | python3 -c 'import json, sys
for r in sorted(json.dumps(r, separators=(",", ":")) for r in json.load(sys.stdin)["rows"]): print(r)' 2>/dev/null)" = "$2" ] &&
            return 0
        sleep 0.1
    done
    diag "$1: $BODY"; return 1
}
wait_table customers '{"customer_id":"c1","tier":"platinum","ts":"2026-12-01T10:00:02Z"}
{"customer_id":"c2","tier":"silver","ts":"2026-12-01T10:00:01Z"}'
ok $? "the table keeps the latest record per primary key"
req GET '/v1/tables/customers?key=c2'
expect 200 '"rows":[{"customer_id":"c2","tier":"silver"' "a key lookup finds the row"
req POST /v1/query -d '{"sql":"SELECT customer_id FROM customers WHERE tier = '"'"'platinum'"'"'"}'
expect 200 '"rows":[{"customer_id":"c1"}]' "a pull query filters its rows"
req GET /v1/streams/customers.dlq/records
expect 200 'column customer_id is missing or null' "a record without the primary key is a dead letter"

# trips: after the customers' rows are in (the table above answered), each meets its customer's row
req POST /v1/streams/trips --data-binary '{"trip_id":"t1","customer_id":"c1","km":3}
{"trip_id":"t2","customer_id":"c2","km":4.5}
{"trip_id":"t3","customer_id":"c7","km":1}'
enriched() { $WEIR consume enriched --data "$data" --from-beginning --exit 2>/dev/null | sort; }
for i in $(seq 600); do [ "$(enriched | wc -l)" -ge 3 ] && break; sleep 0.1; done
[ "$(enriched | tr '\n' ' ')" = '{"trip_id":"t1","tier":"platinum","km":3.0} {"trip_id":"t2","tier":"silver","km":4.5} {"trip_id":"t3","tier":null,"km":1.0} ' ]
ok $? "a stream joined with the table meets each key's current row, NULLs without one: $(enriched | tr '\n' ' ')"

# rides at 10:00:01 and 10:00:03: c1 was gold from 10:00:00 and platinum from 10:00:02
req POST /v1/streams/rides --data-binary '{"ride_id":"r1","customer_id":"c1","ts":"2026-12-01T10:00:01Z"}
{"ride_id":"r2","customer_id":"c1","ts":"2026-12-01T10:00:03Z"}'
as_of() { $WEIR consume rides_as_of --data "$data" --from-beginning --exit 2>/dev/null | sort; }
for i in $(seq 600); do [ "$(as_of | wc -l)" -ge 2 ] && break; sleep 0.1; done
[ "$(as_of | tr '\n' ' ')" = '{"ride_id":"r1","tier":"gold"} {"ride_id":"r2","tier":"platinum"} ' ]
ok $? "a temporal join meets the row as of each record's event time: $(as_of | tr '\n' ' ')"

for r in '1	{"account_id":1,"owner":"ann"}' '2	{"account_id":2,"owner":"bob"}' '1	{"account_id":1,"owner":"ann b."}'; do
    printf '%s\n' "$r" | kcat -b "$B" -t accounts -P -K $'\t' 2>/dev/null
done
printf '2\t\n' | kcat -b "$B" -t accounts -P -K $'\t' -Z 2>/dev/null # -Z: the empty value is sent as null (a tombstone)
wait_table accounts '{"account_id":1,"owner":"ann b."}'
ok $? "from Kafka: the latest record per key, and a tombstone removes its key's row"

stop_serve
q=$($WEIR query --data "$data" -f "$SCRATCH/p.sql" 'SELECT customer_id, tier FROM customers ORDER BY customer_id' 2>&1)
[ "$(echo "$q" | tr -d '\n')" = '{"customer_id":"c1","tier":"platinum"}{"customer_id":"c2","tier":"silver"}' ]
ok $? "weir query reads the table: $q"

start_serve -f "$SCRATCH/p.sql" --data "$data" --checkpoint-ms 100 --idle-ms 200 || { echo "Bail out! weir serve did not start again"; exit 1; }
req POST /v1/streams/customers --data-binary '{"customer_id":"c3","tier":"gold","ts":"2026-12-01T10:01:00Z"}'
wait_table customers '{"customer_id":"c1","tier":"platinum","ts":"2026-12-01T10:00:02Z"}
{"customer_id":"c2","tier":"silver","ts":"2026-12-01T10:00:01Z"}
{"customer_id":"c3","tier":"gold","ts":"2026-12-01T10:01:00Z"}' && wait_table accounts '{"account_id":1,"owner":"ann b."}'
ok $? "after a restart both tables have their rows, and new records apply"
req POST /v1/streams/trips --data-binary '{"trip_id":"t4","customer_id":"c2","km":2}'
for i in $(seq 600); do enriched | grep -q t4 && break; sleep 0.1; done
enriched | grep -qx '{"trip_id":"t4","tier":"silver","km":2.0}'; ok $? "after a restart the join still meets the table's rows: $(enriched | grep t4)"
# a checkpoint well after c3 was taken puts it in the state store; c9's records, posted meanwhile, make the
# pipeline read (so checkpoints follow), and only they can be read again after the kill
t0=$(date +%s.%N)
for i in $(seq 600); do
    age=$(curl -s "$URL/healthz" | sed -n 's/.*"checkpoint_age_s":\([0-9.]*\).*/\1/p')
    awk -v a="${age:-1e9}" -v t0="$t0" -v now="$(date +%s.%N)" 'BEGIN { exit !(a < now - t0 - 0.5) }' && break
    req POST /v1/streams/customers --data-binary '{"customer_id":"c9","tier":"none","ts":"2026-12-01T10:02:00Z"}'
    sleep 0.1
done
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
start_serve -f "$SCRATCH/p.sql" --data "$data" --checkpoint-ms 100 --idle-ms 200 || { echo "Bail out! weir serve did not start after kill -9"; exit 1; }
replayed=$(curl -s "$URL/metrics" | sed -n 's/^weir_table_rows_replayed{table="customers"} //p')
wait_table customers '{"customer_id":"c1","tier":"platinum","ts":"2026-12-01T10:00:02Z"}
{"customer_id":"c2","tier":"silver","ts":"2026-12-01T10:00:01Z"}
{"customer_id":"c3","tier":"gold","ts":"2026-12-01T10:01:00Z"}
{"customer_id":"c9","tier":"none","ts":"2026-12-01T10:02:00Z"}' && [ "${replayed:-x}" = 0 ]
ok $? "after kill -9 the rows are read from the state store, none replayed from the log"
req POST /v1/streams/trips --data-binary '{"trip_id":"t5","customer_id":"c3","km":5}'
for i in $(seq 600); do enriched | grep -q t5 && break; sleep 0.1; done
[ "$(enriched | grep -c .)" = 5 ] && enriched | grep -qx '{"trip_id":"t5","tier":"gold","km":5.0}'
ok $? "after kill -9 the join meets the rows of the checkpoint, each trip joined once: $(enriched | tr '\n' ' ')"
req DELETE '/v1/tables/customers?key=c9'
expect 200 '{"removed":{"customer_id":"c9"}}' "DELETE /v1/tables/customers?key=c9 removes the row once durable"
three='{"customer_id":"c1","tier":"platinum","ts":"2026-12-01T10:00:02Z"}
{"customer_id":"c2","tier":"silver","ts":"2026-12-01T10:00:01Z"}
{"customer_id":"c3","tier":"gold","ts":"2026-12-01T10:01:00Z"}'
wait_table customers "$three" && stop_serve &&
    start_serve -f "$SCRATCH/p.sql" --data "$data" --checkpoint-ms 100 --idle-ms 200 && wait_table customers "$three"
ok $? "the row is gone, also after a restart"
req DELETE '/v1/tables/accounts?key=one'; a="$STATUS $BODY"
req DELETE '/v1/tables/enriched?key=t1'; b="$STATUS $BODY"
req DELETE '/v1/tables/customers'; c="$STATUS $BODY"
[[ "$a" == "400 "*"not a value of accounts's key column account_id (UINT)"* && "$b" == "404 "* &&
   "$c" == "400 "*"?key= must name the row to delete (its customer_id)"* ]]
ok $? "a key of the wrong type, a stream and no key are refused: $a | $b | $c"
stop_serve
kill $mock; wait $mock 2>/dev/null
finish
