#!/usr/bin/env bash
# kafka_java.sh - the Java reference client and Kafka's own tools against
# `weir serve --kafka-listen`: org.apache.kafka:kafka-clients 4.4 (from
# Maven Central, tests/peers/pom.xml) produces with its defaults
# (idempotent, acks=all) and zstd, consumes by group and commits
# (tests/peers/KafkaClientCheck.java); its Admin client lists topics and
# the group's offsets; kafka-console-producer and kafka-console-consumer
# write and read, and kafka-consumer-groups describes the group's lag.
# Own file: a JVM takes seconds to start on 2 cores.
. "$(dirname "$0")/../lib.sh"
plan 7
command -v javac >/dev/null || { echo "Bail out! a JDK is missing (scripts/deps.sh test installs default-jdk-headless)"; exit 1; }
"$KAFKA_PEERS" fetch || { echo "Bail out! the Apache Kafka jars could not be fetched (tests/peers/kafka.sh fetch)"; exit 1; }
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM events (id INT, name TEXT) WITH (partitions = 2);
SQL
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 --kafka-listen 127.0.0.1:0 || { echo "Bail out! weir serve --kafka-listen did not start"; exit 1; }
K=127.0.0.1:$(sed -n 's/.*speaking Kafka on .* (port \([0-9]*\)).*/\1/p' "$SCRATCH/serve.err")
check=$(cd "$(dirname "$0")/../peers" && pwd)/KafkaClientCheck.java

out=$(kafka_tool "$check" "$K" 1000 2>"$SCRATCH/java.err")
diag "$out"
grep -qx 'acked 1000' <<<"$out"
ok $? "the Java producer (idempotent, acks=all, zstd) has its 1000 records acknowledged ($(tail -3 "$SCRATCH/java.err"))"
n=$($WEIR consume events --from-beginning -e 2>/dev/null | grep -c '"java"')
[ "$n" = 1000 ]
ok $? "weir stores each once ($n)"
grep -qx 'consumed 1000' <<<"$out"
ok $? "a Java consumer of group java-group reads them back"
grep -qx 'topics \[events, events.dlq\]' <<<"$out" && grep -qx 'committed 1000' <<<"$out"
ok $? "the Admin client lists the topics and the group's committed offsets (1000 in all)"
desc=$(kafka_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$K" --describe --group java-group 2>&1)
diag "$desc"
[ "$(grep -c '^java-group *events *[01] .* 0 ' <<<"$desc")" = 2 ]
ok $? "kafka-consumer-groups --describe shows both partitions consumed to the end (lag 0)"
echo 'console:{"id": 5000, "name": "console"}' |
    kafka_tool org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$K" --topic events \
        --property parse.key=true --property key.separator=: 2>"$SCRATCH/console.err"
$WEIR consume events --from-beginning -e --meta 2>/dev/null | grep -q '"key":"console".*"console"'
ok $? "kafka-console-producer produces a keyed record ($(tail -2 "$SCRATCH/console.err"))"
got=$(timeout 120 java "${KAFKA_JVM[@]}" -Xmx256m -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$("$KAFKA_PEERS" dir)/*" org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$K" \
    --topic events --from-beginning --max-messages 1001 --property print.key=true 2>/dev/null | grep -c '^\(java\|console\)')
[ "$got" = 1001 ]
ok $? "kafka-console-consumer reads them all with their keys ($got)"
stop_serve
finish
