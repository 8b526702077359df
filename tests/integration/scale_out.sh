#!/usr/bin/env bash
# scale_out.sh - two `weir serve --kafka --scale-out` processes in one
# consumer group on the mock cluster: they split the input topic's
# partitions, a pull query for a key the other holds is redirected there,
# after one is killed with kill -9 mid-stream the other takes its
# partitions over from the state topic (each task's groups there as
# pieces beside a small head), and the killed one restarted takes some
# back: the final windowed counts in the output topic (read with kcat)
# equal those of an uninterrupted run and an independent count of the
# input.
. "$(dirname "$0")/../lib.sh"
plan 14
start_kafka_mock clicks:4 counts:4 g.state:1
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM clicks (user TEXT, n INT, ts TIMESTAMP) WITH (partitions = 4, key = 'user', timestamp = 'ts');
CREATE TABLE counts AS SELECT user, window_start, COUNT(*) AS c, SUM(n) AS s
  FROM TUMBLE(clicks, INTERVAL '1' MINUTE) GROUP BY user;
SQL
records() { # records FROM TO: record i is user u(i % 37), n = i, 100 records a second from 10:00:00
    seq "$1" "$2" | awk '{ t = int($1 / 100); printf "u%d\t{\"user\":\"u%d\",\"n\":%d,\"ts\":\"2026-11-23T10:%02d:%02dZ\"}\n",
                           $1 % 37, $1 % 37, $1, int(t / 60), t % 60 }'
}
produce() { records "$1" "$2" | kcat -b "$B" -t clicks -P -K '\t' -X topic.partitioner=murmur2_random 2>/dev/null; }
metric() { curl -s "$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
owned() { metric "$1" 'weir_partitions_owned{stream="clicks"}'; }
delivered() { # every partition the process holds is read to its end, and the rows checkpointed are delivered
    local m; m=$(curl -s "$1/metrics")
    [ "$(echo "$m" | grep -c '^weir_pipeline_lag_records{stream="clicks",partition="[0-3]"} 0$')" = "$2" ] &&
        echo "$m" | grep -q '^weir_sink_lag_records{sink="counts.to_kafka",connector="kafka"} 0$'
}
# caught_up URL N: delivered, and still so after a checkpoint (sinks deliver what checkpoints cover)
caught_up() { delivered "$1" "$2" && sleep 0.5 && delivered "$1" "$2"; }
wait_for() { local i; for i in $(seq "$1"); do eval "$2" && return 0; sleep 0.1; done; return 1; }
serve() { # serve NAME: one process of the group, its URL in U_NAME
    $WEIR serve -f "$SCRATCH/p.sql" --data "$SCRATCH/$1" --kafka "$B" --kafka-group g --scale-out --idle-ms 0 \
        --checkpoint-ms 200 --listen 127.0.0.1:0 2>"$SCRATCH/$1.err" &
    eval "PID_$1=$!"
    wait_for 100 "grep -q listening '$SCRATCH/$1.err'" || diag "$1 did not start: $(cat "$SCRATCH/$1.err")"
    eval "U_$1=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$SCRATCH/$1.err")"
}
# the final row of each (user, window) in the output topic, as "user window_start c s" lines
final_rows() {
    kcat -b "$B" -t counts -C -e -q -f '%s\n' 2>/dev/null |
        sed 's/.*"user":"\([^"]*\)","window_start":"\([^"]*\)","c":\([0-9]*\),"s":\([0-9]*\).*/\1 \2 \3 \4/' |
        awk '{ last[$1 " " $2] = $0 } END { for (k in last) print last[k] }' | sort
}

serve a
serve b
wait_for 200 '[ "$(owned "$U_a")" = 2 ] && [ "$(owned "$U_b")" = 2 ]'
ok $? "the group splits the topic's 4 partitions between the two processes ($(owned "$U_a") and $(owned "$U_b"))"
produce 1 10000
wait_for 300 'caught_up "$U_a" 2 && caught_up "$U_b" 2'
ok $? "each reads its own partitions to the end and delivers their rows"

key_elsewhere() { # a user whose partition the process at $1 does not hold
    local u code
    for u in $(seq 0 36); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$1/v1/tables/counts?key=u$u")
        [ "$code" = 307 ] && { echo "u$u"; return 0; }
    done
    return 1
}
user=$(key_elsewhere "$U_a")
ok $? "a pull query on a for a key b holds answers 307 ($user)"
[ "$(curl -s -o /dev/null -w '%{redirect_url}' "$U_a/v1/tables/counts?key=$user")" = "$U_b/v1/tables/counts?key=$user" ]
ok $? "to the same query at b's address"
rows=$(curl -sL "$U_a/v1/tables/counts?key=$user" | grep -o "\"user\":\"$user\"" | wc -l)
[ "$rows" -ge 2 ]; ok $? "which answers with the key's rows ($rows windows)"

produce 10001 20000 &
producer=$!
sleep 0.3
kill -9 "$PID_a"; wait "$PID_a" 2>/dev/null
wait $producer
wait_for 400 '[ "$(owned "$U_b")" = 4 ]'
ok $? "after a is killed, b holds all 4 partitions ($(owned "$U_b"))"
wait_for 400 'caught_up "$U_b" 4'
ok $? "and reads them to the end, restoring a's partitions from the state topic"
[ "$(metric "$U_b" weir_task_state_save_failures_total)" = 0 ]; ok $? "no state save failed"

serve a # a comes back with its data directory: the group splits again, a restores from the state topic
wait_for 300 '[ "$(owned "$U_a")" = 2 ] && [ "$(owned "$U_b")" = 2 ]'
ok $? "a restarted takes 2 partitions back ($(owned "$U_a") and $(owned "$U_b"))"
produce 20001 30000
wait_for 300 'caught_up "$U_a" 2 && caught_up "$U_b" 2'
ok $? "both read the rest to the end"
# the state topic holds each task's groups as pieces, one record per group changed, beside a small head
kcat -b "$B" -t g.state -C -e -q -f '\n%S %k\n' 2>/dev/null > "$SCRATCH/state_records" # a piece's key is binary
pieces=$(grep -ao 'piece/clicks/[0-3]:' "$SCRATCH/state_records" | sort -u | wc -l)
largest_head=$(grep -a '^[0-9]* state/clicks/[0-3]$' "$SCRATCH/state_records" | awk '$1 > m { m = $1 } END { print m + 0 }')
[ "$pieces" = 4 ] && [ "$largest_head" -lt 4096 ]
ok $? "the state topic holds the 4 tasks' groups as pieces, the heads without them ($largest_head bytes at most)"

# the answer, counted independently: per user and minute, the count and sum
records 1 30000 | awk -F'\t' '{ match($2, /"n":[0-9]+/); n = substr($2, RSTART + 4, RLENGTH - 4);
                                 match($2, /T10:[0-9][0-9]/); m = substr($2, RSTART + 4, 2);
                                 c[$1 " " m]++; s[$1 " " m] += n }
                               END { for (k in c) print k, c[k], s[k] }' | awk '{ print $1, $3, $4 }' | sort > "$SCRATCH/expected"
final_rows | awk '{ print $1, $3, $4 }' | sort > "$SCRATCH/scaled"
cmp -s "$SCRATCH/expected" "$SCRATCH/scaled"
ok $? "the final count and sum of every (user, window) in topic counts equal the input's ($(wc -l < "$SCRATCH/scaled") windows)"
kill -TERM "$PID_a" "$PID_b"
wait "$PID_a"; a=$?; wait "$PID_b"
ok $((a + $?)) "both stop cleanly on SIGTERM"

# an uninterrupted run over the same topic, one process, nothing shared
sed "s/timestamp = 'ts')/timestamp = 'ts', connector = 'kafka', brokers = '$B')/" "$SCRATCH/p.sql" > "$SCRATCH/one.sql"
$WEIR serve -f "$SCRATCH/one.sql" --data "$SCRATCH/one" --kafka-group single --once 2>"$SCRATCH/one.err"
$WEIR query -d "$SCRATCH/one" 'SELECT user, c, s FROM counts' | sed 's/.*"user":"\([^"]*\)","c":\([0-9]*\),"s":\([0-9]*\).*/\1 \2 \3/' |
    sort > "$SCRATCH/single"
cmp -s "$SCRATCH/single" "$SCRATCH/scaled"
ok $? "and those of an uninterrupted single run ($(wc -l < "$SCRATCH/single") windows)"
kill $mock; wait $mock 2>/dev/null
finish
