#!/usr/bin/env bash
# sink_outage.sh [RECORDS] - how Kafka sinks come back from a full broker
# outage: weir serve with two Kafka sinks (a source stream's records and a
# grouped table's changes, 2 partitions each) into librdkafka's mock
# cluster (tests/helpers/kafka_mock). First RECORDS (default 2,000,000)
# records are POSTed with the brokers up and the time until both sinks
# have confirmed everything gives the delivery rate; then the brokers go
# down, RECORDS more are POSTed, and 25 s later they come back: the time
# until both sinks confirm again, and until their backlog is gone, is the
# recovery. All numbers come from GET /v1/sinks (confirmed records only).
# Prints a markdown table for BENCHMARKS.md.
set -eu
records=${1:-2000000}
. "$(dirname "$0")/../tests/lib.sh"
batch=50000

start_kafka_mock ev_out:2 counts:2
trap 'stop_serve 2>/dev/null; kill $mock 2>/dev/null; rm -rf "$SCRATCH"' EXIT
[ -n "$B" ] || exit 1
cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM ev (k TEXT, n INT) WITH (partitions = 2, key = 'k');
CREATE TABLE per_key AS SELECT k, COUNT(*) AS c FROM ev GROUP BY k;
CREATE SINK raw FROM ev WITH (connector = 'kafka', topic = 'ev_out', brokers = '$B');
CREATE SINK counts FROM per_key WITH (connector = 'kafka', topic = 'counts', brokers = '$B');
SQL
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 200 >/dev/null

post() { # post FROM COUNT: records n = FROM .. FROM+COUNT-1 in POSTs of $batch
    local n
    for ((n = $1; n < $1 + $2; n += batch)); do
        awk -v from=$n -v to=$((n + batch)) 'BEGIN { for (i = from; i < to; i++) printf "{\"k\":\"k%d\",\"n\":%d}\n", i % 500, i }' \
            > "$SCRATCH/post.ndjson"
        until [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$SCRATCH/post.ndjson" "$URL/v1/streams/ev")" = 200 ]; do
            sleep 0.2
        done
    done
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
delivered() { curl -s "$URL/v1/sinks" | grep -o '"delivered":[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }'; }
drained() { local s; s=$(curl -s "$URL/v1/sinks"); ! echo "$s" | grep -q '"up":false' && [ "$(echo "$s" | grep -o '"lag":0,' | wc -l)" = 2 ]; }
wait_for() { # wait_for SECONDS WHAT COMMAND...: polls the command; gives up (exit 1) after SECONDS
    local limit=$(($(now_ms) + $1 * 1000)) what=$2
    shift 2
    until "$@"; do
        [ "$(now_ms)" -lt $limit ] || { echo "sink_outage: $what not within the deadline: $(curl -s "$URL/v1/sinks")" >&2; exit 1; }
        sleep 0.1
    done
}
both_up() { [ "$(curl -s "$URL/v1/sinks" | grep -o '"up":true' | wc -l)" = 2 ]; }

t0=$(now_ms)
post 0 "$records"
posted_ms=$(($(now_ms) - t0))
wait_for 300 "everything confirmed" drained
up_ms=$(($(now_ms) - t0))

kill -USR1 $mock
t1=$(now_ms)
post "$records" "$records"
while [ $(($(now_ms) - t1)) -lt 25000 ]; do sleep 0.1; done
before=$(delivered)
kill -USR2 $mock
t2=$(now_ms)
back() { both_up && [ "$(delivered)" -gt "$before" ]; }
wait_for 300 "both sinks back" back
back_ms=$(($(now_ms) - t2))
wait_for 300 "the backlog confirmed" drained
drain_ms=$(($(now_ms) - t2))

rate() { echo $((2 * records * 1000 / $1)); } # both sinks' records per second
echo "| Kafka sinks, $records records each into 2 sinks | time | sink records/s |"
echo "|---|---:|---:|"
echo "| brokers up: POSTed in | ${posted_ms} ms | |"
echo "| brokers up: all confirmed after the first POST | ${up_ms} ms | $(rate "$up_ms") |"
echo "| after a 25 s outage (all $records POSTed meanwhile): both sinks confirming again | ${back_ms} ms | |"
echo "| after the outage: backlog confirmed | ${drain_ms} ms | $(rate "$drain_ms") |"
