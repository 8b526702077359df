#!/usr/bin/env bash
# kafka.sh - weir serve --kafka against librdkafka's mock cluster (3
# brokers on loopback, tests/helpers/kafka_mock), read back with kcat:
# records ingested over HTTP go through topic clicks into the pipeline and
# out to the sinks' topics; keys and partitions as Kafka's own partitioner
# puts them, a full broker outage while records keep arriving over HTTP,
# and kill -9 of weir mid-delivery; every record arrives exactly once, in
# order per partition.
. "$(dirname "$0")/../lib.sh"
plan 17
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }

start_kafka_mock clicks:2 clicks_out:2 per_page:2 check:2
[ -n "$B" ]; ok $? "the mock cluster listens ($B)"

cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM clicks (user TEXT, page TEXT, n INT) WITH (partitions = 2, key = 'user');
CREATE TABLE per_page AS SELECT page, COUNT(*) AS clicks FROM clicks GROUP BY page;
CREATE SINK raw FROM clicks WITH (connector = 'kafka', topic = 'clicks_out');
CREATE SINK pages FROM per_page WITH (connector = 'kafka', topic = 'per_page');
SQL

post() { # post FROM TO: clicks n = FROM..TO over HTTP
    local body="" i
    for i in $(seq "$1" "$2"); do body+="{\"user\":\"u$((i % 37))\",\"page\":\"p$((i % 5))\",\"n\":$i}"$'\n'; done
    printf '%s' "$body" > "$SCRATCH/post.ndjson"
    curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$SCRATCH/post.ndjson" "$URL/v1/streams/clicks"
}
topic_count() { kcat -b "$B" -t "$1" -C -e -q -f '%o\n' 2>/dev/null | wc -l; }
wait_count() { # wait_count TOPIC N: until the topic holds N records (20 s at most)
    local i
    for i in $(seq 600); do [ "$(topic_count "$1")" -ge "$2" ] && return 0; sleep 0.1; done
    return 1
}

start_serve -f "$SCRATCH/p.sql" --kafka "$B" --checkpoint-ms 100
[ "$(post 1 200)" = 200 ]; ok $? "200 clicks accepted over HTTP"
wait_count clicks_out 200; ok $? "and delivered to topic clicks_out"

# Keys land where Kafka's partitioner puts them: kcat (murmur2_random) agrees.
kcat -b "$B" -t clicks_out -C -e -q -f '%k %p\n' 2>/dev/null | sort -u > "$SCRATCH/weir_parts"
awk '{print $1 "\t" $1}' "$SCRATCH/weir_parts" | kcat -b "$B" -t check -P -K '\t' -X topic.partitioner=murmur2_random
kcat -b "$B" -t check -C -e -q -f '%k %p\n' 2>/dev/null | sort -u > "$SCRATCH/kcat_parts"
[ -s "$SCRATCH/weir_parts" ] && diff "$SCRATCH/weir_parts" "$SCRATCH/kcat_parts" >/dev/null
ok $? "each key's partition is the one kcat's murmur2 partitioner picks ($(wc -l < "$SCRATCH/weir_parts") keys)"
kcat -b "$B" -t clicks_out -C -e -q -f '%p %h\n' 2>/dev/null | awk 'NF == 2 {n++; split($2, h, /[=,]/); if (h[2] != $1) bad++}
    END {exit bad > 0 || n == 0}'
ok $? "and each record keeps its stream partition (anchor headers weir.partition)"

# A full outage: every broker down; ingest goes on, the backlog shows, nothing is lost.
kill -USR1 $mock
sleep 0.5
[ "$(post 201 500)" = 200 ]; ok $? "with Kafka down, HTTP ingest is still accepted"
lag=0
for i in $(seq 600); do
    # the backlog waits in weir's log for the sink forwarding it to topic clicks (raw reads that topic)
    lag=$(curl -s "$URL/metrics" | sed -n 's/^weir_sink_lag_records{sink="clicks.to_kafka",connector="kafka"} //p')
    [ "${lag:-0}" -gt 0 ] && break
    sleep 0.1
done
[ "${lag:-0}" -gt 0 ]; ok $? "the forwarding sink's lag shows in /metrics ($lag)"
kill -USR2 $mock
wait_count clicks_out 500; ok $? "after the brokers return, everything is delivered"

# Broker faults from the mock's error injection: produce and fetch requests fail, are retried.
kill -HUP $mock
[ "$(post 501 800)" = 200 ] && wait_count clicks_out 800; ok $? "produce and fetch errors injected by the mock are retried: all 800 arrive"

# The helper process stopped (SIGSTOP: every broker hangs, requests time out) and continued.
kill -STOP $mock
[ "$(post 801 1000)" = 200 ]; rc=$?
sleep 2
kill -CONT $mock
[ $rc = 0 ] && wait_count clicks_out 1000; ok $? "with the broker process stopped, ingest goes on; after it continues, all 1000 arrive"

# kill -9 while delivering, restart: the topic is read back, nothing twice.
post 1001 3000 >/dev/null
sleep 0.3
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
start_serve -f "$SCRATCH/p.sql" --kafka "$B" --checkpoint-ms 100
wait_count clicks_out 3000; ok $? "after kill -9 and a restart, all 3000 are delivered"
sleep 1
kcat -b "$B" -t clicks_out -C -e -q -f '%s\n' 2>/dev/null | sed 's/.*"n":\([0-9]*\).*/\1/' | sort -n > "$SCRATCH/ns"
[ "$(wc -l < "$SCRATCH/ns")" = 3000 ] && [ "$(sort -un "$SCRATCH/ns" | wc -l)" = 3000 ]
ok $? "exactly once: 3000 records, 3000 distinct"
kcat -b "$B" -t clicks_out -C -e -q -f '%p %s\n' 2>/dev/null | sed 's/^\([01]\) .*"user":"\([^"]*\)".*"n":\([0-9]*\).*/\1 \2 \3/' |
    awk '{ if (($2 in last) && $3 < last[$2]) bad++; last[$2] = $3 } END { exit bad > 0 }'
ok $? "in order per key"

# The table's changelog: the last row per page has the final count.
for p in 0 1 2 3 4; do echo "p$p $(seq 1 3000 | awk -v p=$p '$1 % 5 == p' | wc -l)"; done > "$SCRATCH/want"
for i in $(seq 180); do # a loaded machine delivers the changelog's 3000 updates slowly: up to 180 s
    kcat -b "$B" -t per_page -C -e -q -f '%s\n' 2>/dev/null |
        sed 's/.*"page":"\(p[0-9]\)","clicks":\([0-9]*\).*/\1 \2/' |
        awk '{ if ($2 > max[$1]) max[$1] = $2 } END { for (p in max) print p, max[p] }' | sort > "$SCRATCH/got"
    diff "$SCRATCH/want" "$SCRATCH/got" >/dev/null && break
    sleep 1
done
diff "$SCRATCH/want" "$SCRATCH/got" >/dev/null; ok $? "the table's sink ends with the exact count per page"
[ "$(kcat -b "$B" -t per_page -C -e -q -f '%s\n' 2>/dev/null | sort | uniq -d | wc -l)" = 0 ]
ok $? "and no table update twice (each page's count appears once)"
curl -s "$URL/v1/sinks" | grep -q '"name":"raw","from":"clicks","connector":"kafka"'
ok $? "GET /v1/sinks lists the sinks"
[ "$(topic_count clicks)" = 3000 ]; ok $? "with --kafka, what was ingested went through topic clicks, once each"
stop_serve
kill $mock; wait $mock 2>/dev/null
finish
