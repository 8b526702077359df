#!/usr/bin/env bash
# tombstones.sh - a row that leaves a table (an EMIT CHANGES update made
# it fail HAVING) leaves everything fed from it (issue 15): the table's
# rows over HTTP, its changelog (a record with the key and no value, which
# `weir consume` prints as null), its change feed (row null, "removed": the
# key), a file sink ({"removed": key}), a Kafka sink (the key with a null
# value: a tombstone, against librdkafka's mock cluster), and the state
# store, so it stays gone after a restart and a kill -9.
. "$(dirname "$0")/../lib.sh"
plan 10
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
start_kafka_mock positive:2
[ -n "$B" ] || { echo "Bail out! the mock cluster did not start"; exit 1; }

cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM moves (account TEXT, amount INT, ts TIMESTAMP) WITH (partitions = 2, key = 'account', timestamp = 'ts');
CREATE TABLE positive AS
  SELECT account, SUM(amount) AS balance FROM moves GROUP BY account HAVING SUM(amount) > 0;
CREATE TABLE total AS SELECT COUNT(*) AS moves FROM moves;
CREATE SINK positive_file FROM positive WITH (connector = 'file', path = '$SCRATCH/positive.ndjson');
CREATE SINK positive_kafka FROM positive WITH (connector = 'kafka', topic = 'positive', brokers = '$B');
SQL
data="$SCRATCH/data"
start_serve -f "$SCRATCH/p.sql" --data "$data" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start"; exit 1; }
# a never positive: shown at +20, removed at -30, back at +40; b shown at 3, removed at 0; c shown and kept
req POST /v1/streams/moves --data-binary '{"account":"a","amount":-5,"ts":"2026-11-23T10:00:00Z"}
{"account":"a","amount":20,"ts":"2026-11-23T10:00:10Z"}
{"account":"b","amount":3,"ts":"2026-11-23T10:00:20Z"}
{"account":"c","amount":7,"ts":"2026-11-23T10:00:25Z"}
{"account":"a","amount":-30,"ts":"2026-11-23T10:01:10Z"}
{"account":"b","amount":-3,"ts":"2026-11-23T10:01:20Z"}'
[ "$STATUS" = 200 ] || diag "ingest: $STATUS $BODY"
# wait_rows WANT: until GET /v1/tables/positive lists exactly the accounts WANT (sorted, space-separated),
# and GET /v1/tables counts as many rows
wait_rows() {
    local n
    for i in $(seq 600); do
        req GET /v1/tables/positive
        n=$(curl -s "$URL/v1/tables" | python3 -c 'import json, sys
print(*[t["rows"] for t in json.load(sys.stdin)["tables"] if t["name"] == "positive"])' 2>/dev/null)
        [ "$(echo "$BODY" | grep -o '"account":"[a-z]*"' | sort | tr '\n' ' ')" = "$1" ] && [ "$n" = "$(echo "$1" | wc -w)" ] && return 0
        sleep 0.1
    done
    diag "positive: $BODY; rows counted: $n"; return 1
}
wait_rows '"account":"c" '; ok $? "the rows that failed HAVING left the table: only c is left"
req POST /v1/streams/moves --data-binary '{"account":"a","amount":40,"ts":"2026-11-23T10:01:30Z"}'
wait_rows '"account":"a" "account":"c" ' && [[ "$BODY" == *'"balance":25'* ]]; ok $? "a row comes back when HAVING holds again: $BODY"

for i in $(seq 600); do [ "$(grep -c removed "$SCRATCH/positive.ndjson" 2>/dev/null)" -ge 2 ] && [ "$(wc -l < "$SCRATCH/positive.ndjson")" -ge 6 ] && break; sleep 0.1; done
[ "$(cat "$SCRATCH/positive.ndjson" | sort | tr '\n' ' ')" = '{"account":"a","balance":15} {"account":"a","balance":25} {"account":"b","balance":3} {"account":"c","balance":7} {"removed":{"account":"a"}} {"removed":{"account":"b"}} ' ]
ok $? "the file sink writes each removal as {\"removed\": key}: $(tr '\n' ' ' < "$SCRATCH/positive.ndjson")"
topic() { kcat -b "$B" -t positive -C -e -q -f '%k %S %s\n' 2>/dev/null; }
for i in $(seq 600); do [ "$(topic | wc -l)" -ge 6 ] && break; sleep 0.1; done
[ "$(topic | grep -c '^[ab] -1 $')" = 2 ] && [ "$(topic | wc -l)" = 6 ]
ok $? "the Kafka sink sends each removal as a tombstone, the key with a null value: $(topic | tr '\n' ';')"

curl -s -m 5 -N "$URL/v1/tables/positive/changes?from=beginning" > "$SCRATCH/sse" 2>/dev/null
grep -q '"row":null,"removed":{"account":"b"}' "$SCRATCH/sse" && [ "$(grep -c '"removed"' "$SCRATCH/sse")" = 2 ]
ok $? "the change feed shows a removal as row null with the removed key: $(grep removed "$SCRATCH/sse" | head -1)"

stop_serve
$WEIR consume positive --data "$data" --from-beginning --exit --meta > "$SCRATCH/consumed" 2>&1
grep -q '"key":"b","value":null}' "$SCRATCH/consumed"; ok $? "weir consume prints a tombstone's value as null: $(grep null "$SCRATCH/consumed" | head -1)"
q=$($WEIR query --data "$data" -f "$SCRATCH/p.sql" 'SELECT account, balance FROM positive ORDER BY account' 2>&1)
[ "$(echo "$q" | tr -d '\n')" = '{"account":"a","balance":25}{"account":"c","balance":7}' ]; ok $? "weir query reads the table without the removed row: $q"

start_serve -f "$SCRATCH/p.sql" --data "$data" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start again"; exit 1; }
req POST /v1/streams/moves --data-binary '{"account":"c","amount":-7,"ts":"2026-11-23T10:02:00Z"}'
wait_rows '"account":"a" '; ok $? "after a restart the removed rows stay gone and a new removal applies"
# a checkpoint after the removal puts it in the state store: one more record (never shown) makes the
# pipeline read, so a checkpoint follows; wait until the last checkpoint is younger than that record
req POST /v1/streams/moves --data-binary '{"account":"z","amount":-1,"ts":"2026-11-23T10:02:10Z"}'
t0=$(date +%s.%N)
for i in $(seq 600); do
    age=$(curl -s "$URL/healthz" | sed -n 's/.*"checkpoint_age_s":\([0-9.]*\).*/\1/p')
    awk -v a="${age:-1e9}" -v t0="$t0" -v now="$(date +%s.%N)" 'BEGIN { exit !(a < now - t0) }' && break
    sleep 0.1
done
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
start_serve -f "$SCRATCH/p.sql" --data "$data" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start after kill -9"; exit 1; }
replayed=$(curl -s "$URL/metrics" | sed -n 's/^weir_table_rows_replayed{table="positive"} //p')
wait_rows '"account":"a" ' && [ "$replayed" = 0 ]
ok $? "after kill -9 the table is the same, read from the state store (changelog rows replayed: $replayed): $BODY"
req GET /v1/tables/total
expect 200 '"rows":[{"moves":9}]' "a table without a key (one row) is kept in the state store too"
stop_serve
kill $mock; wait $mock 2>/dev/null
finish
