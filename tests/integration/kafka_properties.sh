#!/usr/bin/env bash
# kafka_properties.sh - librdkafka properties reach weir's Kafka clients:
# a sink's and a source's WITH (properties.<name> = '...'), written as
# dotted names or quoted as Flink does, and serve --kafka-config FILE
# (kcat's -F format) for every client; a property librdkafka does not know,
# one weir sets itself or a bad line of the file stops serve at start
# naming it; and a secret's value is never shown (errors, /v1/pipeline,
# /metrics, the log). Against librdkafka's mock cluster, read with kcat.
. "$(dirname "$0")/../lib.sh"
plan 8
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
start_kafka_mock feed:2 out:2
[ -n "$B" ] || { echo "Bail out! the mock cluster did not start"; exit 1; }

cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM feed (k TEXT, n INT) WITH (partitions = 2, key = 'k', connector = 'kafka', brokers = '$B',
    properties.client.id = 'weir-feed', 'properties.fetch.wait.max.ms' = '50');
CREATE SINK out FROM feed WITH (connector = 'kafka', topic = 'out', brokers = '$B',
    properties.compression.type = 'lz4', properties.linger.ms = '20', properties.sasl.password = 'hunter2-secret');
SQL
printf '# every client of this server\nmessage.timeout.ms = 30000\n\n! kcat style comment\nsocket.keepalive.enable=true\n' > "$SCRATCH/kafka.conf"
start_serve -f "$SCRATCH/p.sql" --data "$SCRATCH/d" --kafka-config "$SCRATCH/kafka.conf" --checkpoint-ms 100 ||
    { echo "Bail out! weir serve did not start"; exit 1; }
body=""; for i in $(seq 1 100); do body+="{\"k\":\"k$((i % 7))\",\"n\":$i}"$'\n'; done
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "$body" "$URL/v1/streams/feed")
n=0
for i in $(seq 600); do n=$(kcat -b "$B" -t out -C -e -q -f '%o\n' 2>/dev/null | wc -l); [ "$n" -ge 100 ] && break; sleep 0.1; done
[ "$STATUS" = 200 ] && [ "$n" = 100 ]
ok $? "with the properties and the config file set, 100 records go through the source's topic and out of the lz4 sink ($STATUS, $n)"
curl -s "$URL/v1/pipeline" > "$SCRATCH/pipeline"
! grep -q hunter2 "$SCRATCH/pipeline" && grep -q "properties.sasl.password = '\*\**'" "$SCRATCH/pipeline"
ok $? "/v1/pipeline shows the SQL with the password blanked: $(grep -o "sasl.password = '[^']*'" "$SCRATCH/pipeline")"
! curl -s "$URL/metrics" | grep -q hunter2 && ! grep -q hunter2 "$SCRATCH/serve.err"; ok $? "nor do /metrics or the log show it"
stop_serve

refused() { # refused EXPECTED-TEXT NAME SQL [ARGS...]: serve stops at start with that error
    local want=$1 name=$2 sql=$3; shift 3
    printf '%s\n' "$sql" > "$SCRATCH/bad.sql"
    timeout 60 $WEIR serve -f "$SCRATCH/bad.sql" --data "$SCRATCH/d$TAP_N" --listen 127.0.0.1:0 "$@" 2>"$SCRATCH/err" </dev/null
    local rc=$?
    [ $rc = 1 ] && grep -qF -- "$want" "$SCRATCH/err" && ! grep -q hunter2 "$SCRATCH/err"
    ok $? "$name: $(head -c 300 "$SCRATCH/err")"
}
refused "sink s: properties.no.such.thing: kafka: no.such.thing=x: No such configuration property" \
    "a property librdkafka does not know stops serve naming it" \
    "CREATE STREAM e (n INT); CREATE SINK s FROM e WITH (connector = 'kafka', topic = 'out', brokers = '$B', properties.no.such.thing = 'x');"
refused "sink s: properties.enable.idempotence: weir sets enable.idempotence itself (the exactly-once sink stands on it)" \
    "one weir sets itself is refused with what to do" \
    "CREATE STREAM e (n INT); CREATE SINK s FROM e WITH (connector = 'kafka', topic = 'out', brokers = '$B', properties.enable.idempotence = 'false');"
refused "feed.to_kafka: properties.bootstrap.servers: weir sets bootstrap.servers itself (give the brokers option" \
    "so is a source's (its forwarding sink, the same cluster's, is checked first)" \
    "CREATE STREAM feed (n INT) WITH (connector = 'kafka', brokers = '$B', properties.bootstrap.servers = 'elsewhere:9092');"
printf 'acks=all\nno equals sign here\n' > "$SCRATCH/bad.conf"
refused "$SCRATCH/bad.conf:2: expected name=value" "a bad line of --kafka-config names the file and the line" \
    "CREATE STREAM e (n INT);" --kafka-config "$SCRATCH/bad.conf"
refused "kafka: sasl.password.typo=(hidden): No such configuration property" "a refused secret's value is not shown" \
    "CREATE STREAM e (n INT); CREATE SINK s FROM e WITH (connector = 'kafka', topic = 'out', brokers = '$B', properties.sasl.password.typo = 'hunter2');"
kill $mock; wait $mock 2>/dev/null
finish
