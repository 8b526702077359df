#!/usr/bin/env bash
# kafka_outage.sh - two Kafka sinks (a source stream's records and a
# grouped table's changes) survive full broker outages of about 25 s in
# the middle of ingest at high volume (2 million records over HTTP): while
# the brokers are down `delivered` stays flat and the lag grows; after they
# return both sinks catch up by themselves (lag 0, up), `delivered` equals
# what the topics hold, and no record is missing or twice.
#
# librdkafka's mock cluster keeps only about 5 MB per partition, so the
# topics are checked through what survives of them: Kafka offsets of a
# partition without transactions are consecutive, so the last offset is
# the count ever written; each anchor record's weir.offset header must
# equal its Kafka offset (source partition p goes to topic partition p and
# the topics start empty: one record missing or twice before it shifts
# them); and the last change per key carries the exact final count.
. "$(dirname "$0")/../lib.sh"
plan 15
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }

BATCH=50000       # records per POST
BATCHES=40        # 2,000,000 records in all
KEYS=500
OUTAGE_S=25

start_kafka_mock ev_out:2 counts:2
[ -n "$B" ]; ok $? "the mock cluster listens ($B)"

cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM ev (k TEXT, n INT) WITH (partitions = 2, key = 'k');
CREATE TABLE per_key AS SELECT k, COUNT(*) AS c FROM ev GROUP BY k;
CREATE SINK raw FROM ev WITH (connector = 'kafka', topic = 'ev_out', brokers = '$B');
CREATE SINK counts FROM per_key WITH (connector = 'kafka', topic = 'counts', brokers = '$B');
SQL

post_batch() { # post_batch I: records n = I*BATCH+1 .. (I+1)*BATCH; 0 when accepted
    awk -v from=$(($1 * BATCH + 1)) -v to=$((($1 + 1) * BATCH)) -v keys=$KEYS \
        'BEGIN { for (n = from; n <= to; n++) printf "{\"k\":\"k%d\",\"n\":%d}\n", n % keys, n }' > "$SCRATCH/post.ndjson"
    local st i
    for i in $(seq 60); do # 503 while the pipeline or a quota catches up: retry as told
        st=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$SCRATCH/post.ndjson" "$URL/v1/streams/ev")
        [ "$st" = 200 ] && return 0
        [ "$st" = 503 ] || break
        sleep 1
    done
    diag "POST of batch $1 answered $st"
    return 1
}
sinks() { curl -s "$URL/v1/sinks"; }
field() { # field SINK NAME: a field of that sink in /v1/sinks
    sinks | sed 's/},{/}\n{/g' | sed -n "s/.*\"name\":\"$1\".*\"$2\":\([^,}]*\).*/\1/p"
}
settled() { # the pipeline caught up with its input, and every sink up with lag 0
    local s q
    q=$(curl -s "$URL/v1/queries")
    [ "$(echo "$q" | grep -o '"lag":[0-9]*' | grep -vc '"lag":0$')" = 0 ] && echo "$q" | grep -q '"lag":0' || return 1
    s=$(sinks)
    echo "$s" | grep -q '"up":false' && return 1
    [ "$(echo "$s" | grep -o '"lag":[0-9]*' | grep -vc '"lag":0$')" = 0 ] && echo "$s" | grep -q '"lag":0'
}
# The topic partition's record count: its last offset + 1 (kcat reads the last record of each).
topic_count() { kcat -b "$B" -t "$1" -C -o -1 -e -q -f '%o\n' 2>/dev/null | awk '{ s += $1 + 1 } END { print s + 0 }'; }
wait_settled() { # wait_settled SECONDS
    local i t0=$(date +%s)
    # two looks half a second apart: a table's changelog still growing shows as a new lag in between
    for i in $(seq $(($1 * 2))); do settled && sleep 0.5 && settled && { SETTLE_NOTE="$(($(date +%s) - t0)) s"; return 0; }; sleep 0.5; done
    diag "not settled after $1 s: $(sinks)"
    return 1
}

start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 200; ok $? "weir serve starts with two Kafka sinks"
next=0
d1=0 # raw's delivered when the brokers last came back
outage() { # outage UPTO: ingest up to batch UPTO, then take the brokers down for OUTAGE_S while 10 more batches go in
    local upto=$1 t0 d0 lag0 lag1 i
    while [ $next -lt $upto ]; do post_batch $next || return 1; next=$((next + 1)); done
    for i in $(seq 240); do [ "$(field raw delivered)" -gt "$d1" ] && break; sleep 0.25; done # raw is confirming
    kill -USR1 $mock
    t0=$(date +%s)
    sleep 2 # what the brokers acknowledged before going down may still be counted
    d0=$(field raw delivered)
    lag0=$(field raw lag)
    for i in $(seq 10); do
        post_batch $next || return 1
        next=$((next + 1))
        while [ $(($(date +%s) - t0)) -lt $((2 + i * (OUTAGE_S - 2) / 10)) ]; do sleep 0.2; done
    done
    d1=$(field raw delivered)
    lag1=$(field raw lag)
    OUTAGE_NOTE="delivered $d0 -> $d1, lag $lag0 -> $lag1"
    [ "$d0" = "$d1" ] && [ "${lag1:-0}" -gt "${lag0:-0}" ]
    FLAT=$?
    kill -USR2 $mock
    t0=$(date +%s)
    for i in $(seq 240); do # back: both sinks up and raw confirming again
        [ "$(field raw up)" = true ] && [ "$(field counts up)" = true ] && [ "$(field raw delivered)" -gt "$d1" ] && break
        sleep 0.5
    done
    RECOVERY_NOTE="$(($(date +%s) - t0)) s after the brokers returned: $(field raw delivered) delivered"
    [ "$(field raw up)" = true ] && [ "$(field counts up)" = true ] && [ "$(field raw delivered)" -gt "$d1" ]
}
outage 8; ok $? "first outage (400,000 records before, 500,000 during): both sinks up again by themselves ($RECOVERY_NOTE)"
ok $FLAT "with the brokers down, raw's delivered stays flat and its lag grows ($OUTAGE_NOTE)"
outage 22; ok $? "second outage, with the backlog of the first still draining: up again ($RECOVERY_NOTE)"
ok $FLAT "and again delivered stays flat while down ($OUTAGE_NOTE)"
while [ $next -lt $BATCHES ]; do post_batch $next || break; next=$((next + 1)); done
[ $next = $BATCHES ]; ok $? "all $((BATCHES * BATCH)) records accepted over HTTP"
wait_settled 120; ok $? "both sinks drain by themselves: lag 0, up (in $SETTLE_NOTE after the last POST)"
diag "$(sinks)"

total=$((BATCHES * BATCH))
raw_count=$(topic_count ev_out)
[ "$raw_count" = $total ]; ok $? "topic ev_out holds every record once ($raw_count of $total)"
[ "$(field raw delivered)" = "$raw_count" ]; ok $? "raw's delivered is what the topic holds ($(field raw delivered))"
counts_count=$(topic_count counts)
[ "$(field counts delivered)" = "$counts_count" ]; ok $? "counts' delivered is what its topic holds ($(field counts delivered) of $counts_count)"

# What the mock still holds of each topic: the anchors sit at their own source offsets.
for t in ev_out counts; do
    kcat -b "$B" -t $t -C -o beginning -e -q -f '%p %o %h\n' 2>/dev/null |
        awk 'NF == 3 { split($3, h, /[=,]/); for (i = 1; i < length(h); i += 2) v[h[i]] = h[i + 1];
                       n++; if (v["weir.partition"] != $1 || v["weir.offset"] != $2) bad++ }
             END { printf "%d %d\n", n, bad }' > "$SCRATCH/anchors.$t"
done
read -r n bad < "$SCRATCH/anchors.ev_out"
[ "$n" -gt 0 ] && [ "$bad" = 0 ]; ok $? "ev_out: every anchor read back is at its source offset ($n anchors, $bad off)"
read -r n bad < "$SCRATCH/anchors.counts"
[ "$n" -gt 0 ] && [ "$bad" = 0 ]; ok $? "counts: every anchor read back is at its source offset ($n anchors, $bad off)"

# The table's final count per key (its last change in the topic).
awk -v total=$total -v keys=$KEYS 'BEGIN { for (n = 1; n <= total; n++) c[n % keys]++; for (k in c) print "k" k, c[k] }' |
    sort > "$SCRATCH/want"
kcat -b "$B" -t counts -C -o beginning -e -q -f '%s\n' 2>/dev/null |
    sed -n 's/.*"k":"\(k[0-9]*\)","c":\([0-9]*\).*/\1 \2/p' | awk '{ last[$1] = $2 } END { for (k in last) print k, last[k] }' |
    sort > "$SCRATCH/got"
diff "$SCRATCH/want" "$SCRATCH/got" > "$SCRATCH/diff"; ok $? "the last change of each of the $KEYS keys has its exact count"
[ -s "$SCRATCH/diff" ] && diag "$(head -5 "$SCRATCH/diff")"
stop_serve; rc=$?
[ $rc = 0 ] || diag "weir serve's log: $(tail -20 "$SCRATCH/serve.err")"
ok $rc "weir serve stops cleanly"
kill $mock; wait $mock 2>/dev/null
finish
