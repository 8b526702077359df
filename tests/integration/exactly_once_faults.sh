#!/usr/bin/env bash
# exactly_once_faults.sh - `weir serve --scale-out --kafka-exactly-once`
# against a real Apache Kafka 4.4 broker when a transaction fails under a
# task that is still this process's: the broker times a transaction out
# (KIP-588: it aborts it and bumps the producer's epoch) while the process
# stalls for longer than transaction.timeout.ms but less than its consumer
# group's session; the task is restored from its last commit and goes on,
# so a read_committed reader still finds every row once. A checkpoint
# interval the transactions would not outlast is refused at start. A record
# the broker always refuses stops the server after a few tries, saying why.
. "$(dirname "$0")/../lib.sh"
plan 9
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
# the coordinator looks for timed-out transactions every 200 ms (default: 10 s)
start_kafka_broker transaction.abort.timed.out.transaction.cleanup.interval.ms=200 ||
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
# records FROM TO: record i is user u(i % 37), n = i
records() {
    seq "$1" "$2" | awk '{ t = int($1 / 100)
                           printf "u%d\t{\"user\":\"u%d\",\"n\":%d,\"ts\":\"2026-11-23T10:%02d:%02dZ\"}\n",
                                  $1 % 37, $1 % 37, $1, int(t / 60) % 60, t % 60 }'
}
produce() { records "$1" "$2" | kcat -b "$B" -t clicks -P -K $'\t' -X topic.partitioner=murmur2_random 2>>"$SCRATCH/kcat.err"; }
read_topic() { kcat -b "$B" -t "$1" -C -e -q -X isolation.level="$2" -f '%s\n' 2>>"$SCRATCH/kcat.err"; }
INPUTS=clicks
SERVE_IDLE_MS=0
# transactions time out after 5 s, a session of the consumer group after 20 s
printf 'transaction.timeout.ms=5000\nsession.timeout.ms=20000\n' > "$SCRATCH/txn.properties"
SERVE_ARGS="--kafka-exactly-once --kafka-config $SCRATCH/txn.properties"
. "$(dirname "$0")/../scale_out_lib.sh"
logs() { complain "a: $(tail -30 "$SCRATCH/a.err")"; }
# ok_or_logs CONDITION-EXIT-STATUS NAME: ok, and the server's log when not (then a non-zero status)
ok_or_logs() { ok "$@"; [ "$1" = 0 ] || { logs; return 1; }; }

serve a
wait_for 600 '[ "$(owned "$U_a" clicks)" = 2 ]'
ok_or_logs $? "one process holds both partitions"
N=60000
produce 1 "$N"
# amid the backlog, with a transaction open (rows of it seen read_uncommitted), the process stalls for 8 s:
# the broker aborts the transaction past its 5 s and bumps the producer's epoch (librdkafka then says the
# producer was fenced); the group's session goes on
wait_for 600 '[ "$(read_topic odd read_uncommitted | wc -l)" -gt 3000 ]'
kill -STOP "$PID_a"
sleep 8 # the stall itself: what is tested is what a stall this long does
kill -CONT "$PID_a"
wait_for 900 'caught_up "$U_a"'
seq 1 "$N" | awk '$1 % 2 == 1' | sort > "$SCRATCH/odd_expected"
wait_for 300 '[ "$(read_topic odd read_committed | wc -l)" -ge "$(wc -l < "$SCRATCH/odd_expected")" ]'
read_topic odd read_committed | sed 's/.*"n":\([0-9]*\).*/\1/' | sort > "$SCRATCH/odd_committed"
aborted=$(($(read_topic odd read_uncommitted | wc -l) - $(wc -l < "$SCRATCH/odd_committed")))
[ "$aborted" -gt 0 ]
ok_or_logs $? "the broker timed the open transaction out ($aborted records of aborted transactions in topic odd)"
cmp -s "$SCRATCH/odd_expected" "$SCRATCH/odd_committed"
ok_or_logs $? "after the broker timed its transaction out, the task went on from its last commit: every odd n once in topic odd ($(wc -l < "$SCRATCH/odd_committed") of $(wc -l < "$SCRATCH/odd_expected"))" ||
    complain "missing: $(comm -23 "$SCRATCH/odd_expected" "$SCRATCH/odd_committed" | sort -n | head -5 | tr '\n' ' ')"
kill -TERM "$PID_a"
wait "$PID_a"
ok_or_logs $? "it stops cleanly on SIGTERM"

# a record the broker refuses every time (larger than its topic's max.message.bytes): the task is restored from
# its last commit and tried again a few times, then the server stops, saying which partition, topic and why
kafka_topics --create --topic big --partitions 1 --replication-factor 1 >/dev/null &&
    kafka_topics --create --topic big_out --partitions 1 --replication-factor 1 --config max.message.bytes=20000 \
        >/dev/null || { echo "Bail out! kafka-topics could not create big and big_out"; exit 1; }
cat > "$SCRATCH/big.sql" <<'SQL'
CREATE STREAM big (user TEXT, n INT) WITH (partitions = 1, key = 'user');
CREATE STREAM big_out AS SELECT user, n FROM big;
SQL
{ seq 1 9 | awk '{ printf "u%d\t{\"user\":\"u%d\",\"n\":%d}\n", $1, $1, $1 }'
  printf 'wide\t{"user":"%s","n":10}\n' "$(head -c 30000 /dev/zero | tr '\0' w)"
  seq 11 20 | awk '{ printf "u%d\t{\"user\":\"u%d\",\"n\":%d}\n", $1, $1, $1 }'
} | kcat -b "$B" -t big -P -K $'\t' 2>>"$SCRATCH/kcat.err"
$WEIR serve -f "$SCRATCH/big.sql" --data "$SCRATCH/big" --kafka "$B" --kafka-group g2 --scale-out --kafka-exactly-once \
    --checkpoint-ms 200 --listen 127.0.0.1:0 2>"$SCRATCH/big.err" &
pid=$!
wait_for 3000 '! kill -0 $pid 2>/dev/null'
kill -0 $pid 2>/dev/null && kill -TERM $pid
wait $pid
rc=$?
[ "$rc" != 0 ] && grep -q 'partition 0 of big: its transaction was aborted 6 times in a row' "$SCRATCH/big.err" &&
    grep -q 'a record to big_out \[0\] was refused: Broker: Message size too large' "$SCRATCH/big.err"
stopped=$?
ok $stopped "a record the broker always refuses stops the server after 6 tries, naming the partition, the topic and why"
[ $stopped = 0 ] || complain "big (exit $rc): $(tail -5 "$SCRATCH/big.err")"

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
