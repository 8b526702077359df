#!/usr/bin/env bash
# kafka_refused.sh - a Kafka sink whose topic the cluster refuses
# (TOPIC_AUTHORIZATION_FAILED, from the mock cluster on SIGALRM) stops in a
# failed state with Kafka's words instead of retrying, and after
# POST /v1/sinks/{name}/restart delivers every record once (it reads the
# topic back first). Outages, which it does retry, are kafka_outage.sh.
. "$(dirname "$0")/../lib.sh"
plan 4
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
start_kafka_mock out:1
cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM events (id INT) WITH (partitions = 1);
CREATE SINK k FROM events WITH (connector = 'kafka', topic = 'out', brokers = '$B');
SQL
sink() { curl -s "$URL/v1/sinks" | sed 's/},{/}\n{/g' | grep '"name":"k"'; }
failures() { sink | sed -n 's/.*"failures":\([0-9]*\).*/\1/p'; }
topic_ids() { kcat -b "$B" -t out -C -e -q -f '%s\n' 2>/dev/null | sed 's/.*"id":\([0-9]*\).*/\1/' | sort -n; }
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 50
kill -ALRM "$mock"
sleep 0.2 # the helper pushes the error within 20 ms
seq 100 | sed 's/.*/{"id":&}/' > "$SCRATCH/post.ndjson"
curl -s -o /dev/null -X POST --data-binary @"$SCRATCH/post.ndjson" "$URL/v1/streams/events"
for i in $(seq 300); do [ "$(failures)" = 1 ] && break; sleep 0.05; done
sink | grep -q '"up":false,"state":"failed","last_error":"sink k: kafka topic out: .*[Aa]uthoriz'
ok $? "the refused topic stops the sink with Kafka's reason ($(sink))"
sleep 1.5 # RETRY would have tried four more times by now (100, 200, 400, 800 ms)
[ "$(failures)" = 1 ] && sink | grep -q '"up":false'; ok $? "and it is not retried by itself (failures $(failures))"
answer=$(curl -s -X POST "$URL/v1/sinks/k/restart")
for i in $(seq 1200); do [ "$(topic_ids | wc -l)" -ge 100 ] && break; sleep 0.05; done
[ "$answer" = '{"sink":"k","restarted":true}' ] && [ "$(topic_ids | uniq | wc -l)" = 100 ] && [ "$(topic_ids | wc -l)" = 100 ]
ok $? "after POST /v1/sinks/k/restart ($answer) the topic holds each of the 100 records once ($(topic_ids | wc -l))"
for i in $(seq 1200); do sink | grep -q '"lag":0,"up":true' && break; sleep 0.05; done
sink | grep -q '"lag":0,"up":true'; ok $? "and the sink is up with no lag ($(sink))"
stop_serve
kill "$mock"; wait "$mock" 2>/dev/null
finish
