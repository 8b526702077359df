#!/usr/bin/env bash
# exactly_once_scale_out.sh - `weir serve --kafka --scale-out
# --kafka-exactly-once` against a real Apache Kafka 4.4 broker (librdkafka's
# mock cluster does not honour transactions): three processes in one
# consumer group, each task writing its output rows, dead letters and state
# in one transaction per checkpoint. One process is killed with kill -9
# mid-stream; the other two fence its tasks' producers, abort what it left
# open and go on from its last commit. A read_committed reader (kcat) then
# finds every row exactly once: each record of a derived stream once, each
# (user, window, count) update of a table once with the final counts equal
# to an independent count of the input and to an uninterrupted
# single-process run, and each dead letter once. A read_uncommitted reader
# shows what the abort hid (a diagnostic: how much depends on the moment of
# the kill).
. "$(dirname "$0")/../lib.sh"
plan 18
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
start_kafka_broker || { echo "Bail out! the Kafka broker did not start"; exit 1; }
ok 0 "a real Kafka broker answers on $KB (after $SECONDS s)"
B=$KB
for t in clicks:4 odd:4 counts:4 clicks.dlq:1 kinds:4 g.kinds.repartition:4; do
    kafka_topics --create --topic "${t%:*}" --partitions "${t#*:}" --replication-factor 1 >/dev/null ||
        { echo "Bail out! kafka-topics could not create ${t%:*}"; exit 1; }
done
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM clicks (user TEXT, kind TEXT, n INT, ts TIMESTAMP) WITH (partitions = 4, key = 'user', timestamp = 'ts');
CREATE STREAM odd AS SELECT user, n FROM clicks WHERE n % 2 = 1;
CREATE TABLE counts AS SELECT user, window_start, COUNT(*) AS c, SUM(n) AS s
  FROM TUMBLE(clicks, INTERVAL '1' MINUTE) GROUP BY user;
CREATE TABLE kinds AS SELECT kind, window_start, COUNT(*) AS c
  FROM TUMBLE(clicks, INTERVAL '1' MINUTE) GROUP BY kind;
SQL
# records FROM TO: record i is user u(i % 37), kind k(i % 7) (through the repartition topic g.kinds.repartition),
# n = i, 100 a second from 10:00:00 (event time: the broker takes any past timestamp); every 499th has n
# "bad<i>", which is no INT: a dead letter naming it
records() {
    seq "$1" "$2" | awk '{ t = int($1 / 100); n = $1 % 499 ? $1 : "\"bad" $1 "\""
                           printf "u%d\t{\"user\":\"u%d\",\"kind\":\"k%d\",\"n\":%s,\"ts\":\"2026-11-23T10:%02d:%02dZ\"}\n",
                                  $1 % 37, $1 % 37, $1 % 7, n, int(t / 60), t % 60 }'
}
produce() { records "$1" "$2" | kcat -b "$B" -t clicks -P -K $'\t' -X topic.partitioner=murmur2_random 2>>"$SCRATCH/kcat.err"; }
INPUTS="clicks g.kinds.repartition"
N=70000 # records: 1 to 10000, then two backlogs
SERVE_IDLE_MS=0
SERVE_ARGS=--kafka-exactly-once
. "$(dirname "$0")/../scale_out_lib.sh"
held() { local n=0 u; for u; do n=$((n + $(owned "$u" clicks))); done; echo "$n"; }
logs() { local f; for f in "$SCRATCH"/[abc].err; do complain "$(basename "$f"): $(tail -30 "$f")"; done; }
# ok_or_logs CONDITION-EXIT-STATUS NAME: ok, and the servers' logs when not (then a non-zero status)
ok_or_logs() { ok "$@"; [ "$1" = 0 ] || { logs; return 1; }; }
# read TOPIC ISOLATION: the topic's values to its end, one per line
read_topic() { kcat -b "$B" -t "$1" -C -e -q -X isolation.level="$2" -f '%s\n' 2>>"$SCRATCH/kcat.err"; }

serve a
serve b
serve c
wait_for 600 '[ "$(held "$U_a" "$U_b" "$U_c")" = 4 ] && [ "$(owned "$U_a" clicks)" -ge 1 ] &&
              [ "$(owned "$U_b" clicks)" -ge 1 ] && [ "$(owned "$U_c" clicks)" -ge 1 ]'
ok_or_logs $? "the three processes share the 4 partitions ($(owned "$U_a" clicks), $(owned "$U_b" clicks), $(owned "$U_c" clicks))"
produce 1 10000
wait_for 600 'caught_up "$U_a" "$U_b" "$U_c"'
ok_or_logs $? "each reads its partitions to the end"

# the rest at once: a backlog the processes work through for a while, a killed amid it (once rows of the
# backlog reach topic odd, committed or not)
produce 10001 $((N / 2))
wait_for 600 '[ "$(read_topic odd read_uncommitted | wc -l)" -gt 5500 ]'
kill -9 "$PID_a"; wait "$PID_a" 2>/dev/null
wait_for 600 '[ "$(held "$U_b" "$U_c")" = 4 ]'
ok_or_logs $? "after a is killed mid-stream, b and c hold all 4 partitions ($(owned "$U_b" clicks) and $(owned "$U_c" clicks))"
wait_for 600 'caught_up "$U_b" "$U_c"'
ok_or_logs $? "and read them to the end, a's from its last committed state"
# a zombie: b stops answering (SIGSTOP) amid another backlog, c takes all its tasks over when its session
# times out, then b goes on (SIGCONT) believing it holds them, with rows emitted since its last commit
before=$(read_topic odd read_uncommitted | wc -l)
produce $((N / 2 + 1)) $N
wait_for 600 '[ "$(read_topic odd read_uncommitted | wc -l)" -gt $((before + 500)) ]'
kill -STOP "$PID_b"
wait_for 600 '[ "$(owned "$U_c" clicks)" = 4 ]'
ok_or_logs $? "while b is stopped, c takes all 4 partitions over"
kill -CONT "$PID_b"
wait_for 600 '[ "$(held "$U_b" "$U_c")" = 4 ] && [ "$(owned "$U_b" clicks)" -ge 1 ] && caught_up "$U_b" "$U_c"'
ok_or_logs $? "b, woken, rejoins and both read everything to the end"
fails=$(($(metrics "$U_b" | awk '$1 == "weir_task_state_save_failures_total" { print $2 }') +
         $(metrics "$U_c" | awk '$1 == "weir_task_state_save_failures_total" { print $2 }')))
[ "$fails" = 0 ]; ok $? "no transaction failed to commit ($fails)"

# the derived stream: each odd n that is no dead letter, once (the last rows commit with the next checkpoint)
seq 1 $N | awk '$1 % 2 == 1 && $1 % 499' | sort > "$SCRATCH/odd_expected"
wait_for 300 '[ "$(read_topic odd read_committed | wc -l)" -ge "$(wc -l < "$SCRATCH/odd_expected")" ]'
read_topic odd read_committed | sed 's/.*"n":\([0-9]*\).*/\1/' | sort > "$SCRATCH/odd_committed"
dups=$(uniq -d "$SCRATCH/odd_committed" | wc -l)
[ "$dups" = 0 ]; ok $? "a read_committed reader of topic odd finds no record twice ($dups twice)"
cmp -s "$SCRATCH/odd_expected" "$SCRATCH/odd_committed"
ok_or_logs $? "and every record of the input's odd n once ($(wc -l < "$SCRATCH/odd_committed") of $(wc -l < "$SCRATCH/odd_expected"))" ||
    complain "missing: $(comm -23 "$SCRATCH/odd_expected" "$SCRATCH/odd_committed" | sort -n | head -20 | tr '\n' ' ')"
uncommitted=$(read_topic odd read_uncommitted | wc -l)
diag "a read_uncommitted reader of odd sees $uncommitted records: $((uncommitted - $(wc -l < "$SCRATCH/odd_committed"))) of aborted transactions"

# the table: each (user, window, count) update once, and the last of each (user, window) the input's count
read_topic counts read_committed |
    sed 's/.*"user":"\([^"]*\)","window_start":"\([^"]*\)","c":\([0-9]*\),"s":\([0-9]*\).*/\1 \2 \3 \4/' > "$SCRATCH/updates"
dups=$(awk '{ print $1, $2, $3 }' "$SCRATCH/updates" | sort | uniq -d | wc -l)
[ "$dups" = 0 ] && [ -s "$SCRATCH/updates" ]
ok $? "a read_committed reader of topic counts finds no update twice ($dups twice of $(wc -l < "$SCRATCH/updates"))"
records 1 $N | awk -F'\t' '$2 !~ /bad/ { match($2, /"n":[0-9]+/); n = substr($2, RSTART + 4, RLENGTH - 4);
                                            match($2, /T10:[0-9][0-9]/); m = substr($2, RSTART + 4, 2);
                                            c[$1 " " m]++; s[$1 " " m] += n }
                                          END { for (k in c) print k, c[k], s[k] }' | awk '{ print $1, $3, $4 }' |
    sort > "$SCRATCH/expected"
awk '{ last[$1 " " $2] = $1 " " $3 " " $4 } END { for (k in last) print last[k] }' "$SCRATCH/updates" | sort > "$SCRATCH/scaled"
cmp -s "$SCRATCH/expected" "$SCRATCH/scaled"
ok_or_logs $? "the final count and sum of every (user, window) equal the input's ($(wc -l < "$SCRATCH/scaled") windows)"

# the repartitioned table: each (kind, window, count) update once, the last of each the input's count
read_topic kinds read_committed | sed 's/.*"kind":"\([^"]*\)","window_start":"\([^"]*\)","c":\([0-9]*\).*/\1 \2 \3/' \
    > "$SCRATCH/kind_updates"
dups=$(sort "$SCRATCH/kind_updates" | uniq -d | wc -l)
records 1 $N | awk -F'\t' '$2 !~ /bad/ { match($2, /"kind":"k[0-9]"/); k = substr($2, RSTART + 8, 2);
                                            match($2, /T10:[0-9][0-9]/); c[k " 2026-11-23T10:" substr($2, RSTART + 4, 2) ":00Z"]++ }
                                          END { for (k in c) print k, c[k] }' | sort > "$SCRATCH/kinds_expected"
awk '{ last[$1 " " $2] = $0 } END { for (k in last) print last[k] }' "$SCRATCH/kind_updates" | sort > "$SCRATCH/kinds"
[ "$dups" = 0 ] && cmp -s "$SCRATCH/kinds_expected" "$SCRATCH/kinds"
ok_or_logs $? "topic kinds, counted from the repartition topic, has no update twice ($dups) and the input's final counts ($(wc -l < "$SCRATCH/kinds") windows)"

# the dead letters: each bad record once
seq 1 $N | awk '$1 % 499 == 0 { print "bad" $1 }' | sort > "$SCRATCH/dead_expected"
read_topic clicks.dlq read_committed | python3 -c 'import json, sys
for line in sys.stdin:
    print(json.loads(line)["record"])' | grep -o 'bad[0-9]*' | sort > "$SCRATCH/dead"
cmp -s "$SCRATCH/dead_expected" "$SCRATCH/dead"
ok_or_logs $? "topic clicks.dlq holds each bad record once ($(wc -l < "$SCRATCH/dead") of $(wc -l < "$SCRATCH/dead_expected"))"

kill -TERM "$PID_b" "$PID_c"
wait "$PID_b"; b=$?; wait "$PID_c"
ok_or_logs $((b + $?)) "b and c stop cleanly on SIGTERM"

# an uninterrupted run over the same topic, one process, nothing shared
sed "s/timestamp = 'ts')/timestamp = 'ts', connector = 'kafka', brokers = '$B')/" "$SCRATCH/p.sql" > "$SCRATCH/one.sql"
$WEIR serve -f "$SCRATCH/one.sql" --data "$SCRATCH/one" --kafka-group single --once 2>"$SCRATCH/one.err"
$WEIR query -d "$SCRATCH/one" 'SELECT user, c, s FROM counts' | sed 's/.*"user":"\([^"]*\)","c":\([0-9]*\),"s":\([0-9]*\).*/\1 \2 \3/' |
    sort > "$SCRATCH/single"
cmp -s "$SCRATCH/single" "$SCRATCH/scaled"
ok $? "and those of an uninterrupted single run ($(wc -l < "$SCRATCH/single") windows)" ||
    complain "the single run: $(tail -5 "$SCRATCH/one.err")"
# --kafka-exactly-once is for scale-out only
$WEIR serve -f "$SCRATCH/p.sql" --data "$SCRATCH/alone" --kafka "$B" --kafka-exactly-once --listen 127.0.0.1:0 \
    2>"$SCRATCH/alone.err"
[ $? != 0 ] && grep -q -- '--kafka-exactly-once needs --scale-out' "$SCRATCH/alone.err"
ok $? "without --scale-out the option is refused, saying why"
$WEIR serve -f "$SCRATCH/p.sql" --data "$SCRATCH/ch" --kafka "$B" --scale-out --kafka-exactly-once \
    --clickhouse http://127.0.0.1:1 --listen 127.0.0.1:0 2>"$SCRATCH/ch.err"
[ $? != 0 ] && grep -q -- '--kafka-exactly-once with --clickhouse' "$SCRATCH/ch.err"
ok $? "so is --clickhouse beside it, whose sinks would read the local copies"
finish
