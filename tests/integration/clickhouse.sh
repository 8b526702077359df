#!/usr/bin/env bash
# clickhouse.sh - the ClickHouse sink against Debian's clickhouse-server
# (18.16, started here on free ports): the table is created with the
# stream's types, rows land as declared, an outage is reported as what it
# is, and neither a ClickHouse outage nor kill -9 of weir loses or
# duplicates a row.
. "$(dirname "$0")/../lib.sh"
plan 14
command -v clickhouse-server >/dev/null || { echo "Bail out! clickhouse-server is missing (make test installs it)"; exit 1; }
start_clickhouse "$SCRATCH/ch"; ok $? "clickhouse-server starts ($CH_URL)"

cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM orders (id INT, customer TEXT, amount DOUBLE, paid BOOL, at TIMESTAMP)
  WITH (partitions = 3, key = 'customer', timestamp = 'at');
CREATE TABLE per_customer AS SELECT customer, COUNT(*) AS orders, SUM(amount) AS total FROM orders GROUP BY customer;
CREATE SINK raw FROM orders WITH (connector = 'clickhouse', url = '$CH_URL', table = 'orders', create = true);
CREATE SINK totals FROM per_customer WITH (connector = 'clickhouse', url = '$CH_URL', table = 'totals', create = true);
CREATE SINK plain FROM orders WITH (connector = 'clickhouse', url = '$CH_URL', table = 'plain');
SQL
ch 'CREATE TABLE plain (id Nullable(Int64)) ENGINE = Memory' # without the columns that place a row in the stream
post() {
    local body="" i
    for i in $(seq "$1" "$2"); do
        body+="{\"id\":$i,\"customer\":\"c$((i % 13))\",\"amount\":$((i % 100)).5,\"paid\":$([ $((i % 2)) = 0 ] && echo true || echo false),\"at\":\"2026-11-23T10:$(printf %02d $((i % 60))):00Z\"}"$'\n'
    done
    printf '%s' "$body" > "$SCRATCH/post.ndjson"
    curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$SCRATCH/post.ndjson" "$URL/v1/streams/orders"
}
wait_rows() { # wait_rows N: until table orders holds N rows (30 s at most)
    local i
    for i in $(seq 300); do [ "$(ch 'SELECT count() FROM orders' 2>/dev/null)" = "$1" ] && return 0; sleep 0.1; done
    return 1
}
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100
[ "$(post 1 1000)" = 200 ]; ok $? "1000 orders accepted over HTTP"
wait_rows 1000; ok $? "and inserted into ClickHouse"
[ "$(ch "SELECT name, type FROM system.columns WHERE table = 'orders' FORMAT TSV" | tr '\t\n' ' ,')" = \
  "id Nullable(Int64),customer Nullable(String),amount Nullable(Float64),paid Nullable(UInt8),at Nullable(DateTime),at_ms Nullable(UInt64),_weir_partition UInt32,_weir_offset UInt64," ]
ok $? "the table has the stream's columns with ClickHouse types (18.16: a TIMESTAMP's milliseconds in <col>_ms)"
[ "$(ch "SELECT id, customer, amount, paid, at FROM orders WHERE id = 7 FORMAT TSV")" = "$(printf '7\tc7\t7.5\t0\t2026-11-23 10:07:00')" ]
ok $? "and a row reads back as it was sent"
for i in $(seq 600); do
    err=$(curl -s "$URL/v1/sinks" | sed 's/},{/}\n{/g' | sed -n 's/.*"name":"plain".*"last_error":\(".*"\)}.*/\1/p')
    [ "$err" != '""' ] && break
    sleep 0.1
done
echo "$err" | grep -q 'table plain needs the columns _weir_partition UInt32 and _weir_offset UInt64'
ok $? "a table without _weir_partition and _weir_offset: /v1/sinks says it needs them ($err)"
plain_sink() { curl -s "$URL/v1/sinks" | sed 's/},{/}\n{/g' | grep '"name":"plain"'; }
sleep 1.5 # RETRY would have tried four more times by now (100, 200, 400, 800 ms)
plain_sink | grep -q '"failures":1,.*"up":false' && curl -s "$URL/metrics" | grep -q '^weir_sink_up{sink="plain",connector="clickhouse"} 0'
ok $? "it is FATAL: one failure, no retries, weir_sink_up 0 ($(plain_sink))"
ch 'DROP TABLE plain' && ch 'CREATE TABLE plain (id Nullable(Int64), _weir_partition UInt32, _weir_offset UInt64) ENGINE = Memory'
st=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/v1/sinks/plain/restart")
for i in $(seq 300); do [ "$(ch 'SELECT count() FROM plain')" = 1000 ] && break; sleep 0.1; done
[ "$st" = 200 ] && [ "$(ch 'SELECT count(), uniqExact(id) FROM plain FORMAT TSV')" = "$(printf '1000\t1000')" ] && plain_sink | grep -q '"up":true'
ok $? "with the table fixed, POST /v1/sinks/plain/restart ($st) delivers the 1000 rows once"

# An outage: ClickHouse stops for a few seconds while orders keep coming.
stop_clickhouse
st=$(post 1001 3000); [ "$st" = 200 ]; ok $? "with ClickHouse down, ingest is still accepted ($st)"
raw_sink() { curl -s "$URL/v1/sinks" | sed 's/},{/}\n{/g' | grep '"name":"raw"'; }
for i in $(seq 600); do # a failed INSERT, then at least one failed resume (it asks the table where it got to)
    [ "$(raw_sink | sed -n 's/.*"failures":\([0-9]*\).*/\1/p')" -ge 2 ] && break
    sleep 0.1
done
err=$(raw_sink | sed -n 's/.*"last_error":\(".*"\)}.*/\1/p')
echo "$err" | grep -q 'Connection refused' && ! echo "$err" | grep -q '_weir_'
ok $? "/v1/sinks says the connection was refused, and blames no missing column ($err)"
start_clickhouse "$SCRATCH/ch"
wait_rows 3000; ok $? "after it restarts, every row arrives"

# kill -9 weir while it delivers; the restart resumes from the table itself.
post 3001 8000 >/dev/null
sleep 0.2
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100
wait_rows 8000
want=$(seq 1 8000 | awk '{ s += 2 * ($1 % 100) + 1 } END { printf "8000\t8000\t%d", s }')
got=$(ch "SELECT count(), uniqExact(id), toUInt64(sum(amount) * 2) FROM orders FORMAT TSV")
[ "$got" = "$want" ] || diag "got $got"
[ "$got" = "$want" ]
ok $? "after kill -9: count, distinct ids and twice the sum are exact ($want)"
for i in $(seq 300); do [ "$(ch 'SELECT sum(orders) FROM totals FINAL')" = 8000 ] && break; sleep 0.1; done
[ "$(ch 'SELECT count(), sum(orders) FROM totals FINAL FORMAT TSV')" = "$(printf '13\t8000')" ]
ok $? "the table's sink: FINAL reads its 13 customers' latest rows, adding up to 8000 orders"
[ "$(ch 'SELECT count() - uniqExact(_weir_partition, _weir_offset) FROM totals')" = 0 ]; ok $? "and no update twice"
stop_serve
stop_clickhouse
finish
