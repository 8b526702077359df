#!/usr/bin/env bash
# exactly_once_faults.sh - `weir serve --scale-out --kafka-exactly-once`
# against a real Apache Kafka 4.4 broker: a checkpoint interval the tasks'
# transactions would not outlast (transaction.timeout.ms, weir's 10 s or
# --kafka-config's) is refused at start.
. "$(dirname "$0")/../lib.sh"
plan 4
start_kafka_broker ||
    { echo "Bail out! the Kafka broker did not start"; exit 1; }
ok 0 "a real Kafka broker answers on $KB (after $SECONDS s)"
B=$KB
for t in clicks:2 odd:2 clicks.dlq:1; do
    kafka_topics --create --topic "${t%:*}" --partitions "${t#*:}" --replication-factor 1 >/dev/null ||
        { echo "Bail out! kafka-topics could not create ${t%:*}"; exit 1; }
done
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM clicks (user TEXT, n INT, ts TIMESTAMP) WITH (partitions = 2, key = 'user', timestamp = 'ts');
CREATE STREAM odd AS SELECT user, n FROM clicks WHERE n % 2 = 1;
SQL
printf 'transaction.timeout.ms=5000\n' > "$SCRATCH/txn.properties"

# a checkpoint interval the transactions would not outlast is refused at start, naming both settings
refused() { # refused NAME TEXT SERVE-ARGS...: serve exits at once, its error holding TEXT
    local name=$1 text=$2
    shift 2
    $WEIR serve -f "$SCRATCH/p.sql" --data "$SCRATCH/$name" --kafka "$B" --kafka-group g --scale-out --kafka-exactly-once \
        --listen 127.0.0.1:0 "$@" 2>"$SCRATCH/$name.err"
    [ $? != 0 ] && grep -qF -- "$text" "$SCRATCH/$name.err" || { complain "$name: $(cat "$SCRATCH/$name.err")"; return 1; }
}
refused long '--checkpoint-ms 2000 is not well below the transactions'"'"' timeout (transaction.timeout.ms 5000)' \
    --checkpoint-ms 2000 --kafka-config "$SCRATCH/txn.properties"
ok $? "--checkpoint-ms above a third of --kafka-config's transaction.timeout.ms is refused at start, saying why"
refused default '--checkpoint-ms 4000 is not well below the transactions'"'"' timeout (transaction.timeout.ms 10000)' \
    --checkpoint-ms 4000
ok $? "so is one above a third of weir's own 10 s"
echo "transaction.timeout.ms=10s" > "$SCRATCH/bad.properties"
refused bad '--kafka-config transaction.timeout.ms=10s: expected milliseconds' --kafka-config "$SCRATCH/bad.properties"
ok $? "a transaction.timeout.ms that is no number of milliseconds is refused naming it"
finish
