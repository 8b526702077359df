#!/usr/bin/env bash
# browse.sh - looking into the log over HTTP, as Kafka-UI users do: a
# stream's records by partition and offset, from a time, by key, the newest;
# the consumer groups with their lag; pull queries on dead-letter streams.
. "$(dirname "$0")/../lib.sh"
plan 11
cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM orders (id INT, customer TEXT, amount INT NOT NULL, ts TIMESTAMP)
  WITH (partitions = 3, key = 'customer', timestamp = 'ts');
CREATE TABLE per_customer AS SELECT customer, COUNT(*) AS n FROM orders GROUP BY customer;
CREATE SINK archive FROM orders WITH (connector = 'file', path = '$SCRATCH/archive.ndjson');
SQL
start_serve -f "$SCRATCH/p.sql" || { echo "Bail out! weir serve did not start"; exit 1; }
awk 'BEGIN { for (i = 0; i < 300; i++) printf "{\"id\":%d,\"customer\":\"c%d\",\"amount\":%d,\"ts\":\"2026-11-23T10:%02d:%02dZ\"}\n", i, i % 7, i, int(i / 60), i % 60 }' > "$SCRATCH/orders"
echo '{"id":999,"customer":"c1","ts":"2026-11-23T11:00:00Z"}' >> "$SCRATCH/orders"
curl -s -o /dev/null --data-binary @"$SCRATCH/orders" "$URL/v1/streams/orders"
# A second batch after a moment T: a record's timestamp in the log is when it was appended.
T=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
awk 'BEGIN { for (i = 300; i < 310; i++) printf "{\"id\":%d,\"customer\":\"c%d\",\"amount\":%d,\"ts\":\"2026-11-23T10:05:00Z\"}\n", i, i % 7, i }' |
    curl -s -o /dev/null --data-binary @- "$URL/v1/streams/orders"
for i in $(seq 300); do [ "$(curl -s "$URL/v1/sinks" | grep -c '"lag":0')" = 1 ] && break; sleep 0.1; done
rec() { curl -s "$URL/v1/streams/orders/records?$1" | python3 -c "import json,sys; d=json.load(sys.stdin); $2"; }

got=$(rec "limit=5" 'print(len(d["records"]), len(d["partitions"]), sum(p["end_offset"] for p in d["partitions"]))')
[ "$got" = "5 3 311" ]; ok $? "the newest records, and every partition's offsets (records, partitions, total: $got)"
got=$(rec "limit=5" 'r=d["records"]; print(all(a["timestamp"] >= b["timestamp"] for a, b in zip(r, r[1:])), all(x["value"]["id"] >= 300 for x in r))')
[ "$got" = "True True" ]; ok $? "newest first, across partitions ($got)"
got=$(rec "partition=1&offset=3&limit=4" 'print(*[(r["partition"], r["offset"]) for r in d["records"]])')
[ "$got" = "(1, 3) (1, 4) (1, 5) (1, 6)" ]; ok $? "by partition and offset: $got"
got=$(rec "time=$T&limit=100" 'print(sorted(r["value"]["id"] for r in d["records"]) == list(range(300, 310)))')
[ "$got" = "True" ]; ok $? "from a time: the records appended at or after it, and none before"
got=$(rec "key=c3&limit=1000" 'print(len(d["records"]), {r["key"] for r in d["records"]}, {r["value"]["customer"] for r in d["records"]})')
[ "$got" = "44 {'c3'} {'c3'}" ]; ok $? "by key: every record of that key and no other ($got)"
code=$(curl -s -o "$SCRATCH/err" -w '%{http_code}' "$URL/v1/streams/orders/records?partition=7")
[ "$code" = 400 ] && grep -q "partitions 0 to 2, not 7" "$SCRATCH/err"; ok $? "a partition that does not exist: 400 ($(cat "$SCRATCH/err"))"
code=$(curl -s -o "$SCRATCH/err" -w '%{http_code}' "$URL/v1/streams/orders/records?offset=3")
[ "$code" = 400 ] && grep -q "offset needs partition" "$SCRATCH/err"; ok $? "an offset without its partition: 400"
code=$(curl -s -o "$SCRATCH/err" -w '%{http_code}' "$URL/v1/streams/nope/records")
[ "$code" = 404 ]; ok $? "an unknown stream: 404"
got=$(curl -s "$URL/v1/groups" | python3 -c 'import json,sys; g=json.load(sys.stdin)["groups"]; print(*[(x["group"], x["stream"], x["lag"], len(x["partitions"])) for x in g])')
[ "$got" = "('sink.archive', 'orders', 0, 3)" ]; ok $? "consumer groups with their lag: $got"
got=$(curl -s "$URL/v1/query" -d '{"sql":"SELECT reason, offset FROM \"orders.dlq\""}')
echo "$got" | grep -q '"reason":"column amount is missing or null (NOT NULL)"'; ok $? "a pull query reads a dead-letter stream: $got"
code=$(curl -s -o "$SCRATCH/err" -w '%{http_code}' "$URL/v1/query" -d '{"sql":"SELECT * FROM \"nope.dlq\""}')
[ "$code" = 400 ] && grep -q "unknown stream or table nope.dlq" "$SCRATCH/err"; ok $? "but only of a relation the pipeline has"
stop_serve
finish
