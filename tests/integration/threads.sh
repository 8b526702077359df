#!/usr/bin/env bash
# threads.sh - serve --threads (exec/workers.c): the partitions of an input
# whose queries keep their state per partition run on worker threads. The
# outputs of `serve --once` must be the same records in the same order in
# every partition (`weir consume --meta`: partition, offset, key, value) with
# 1, 2 and 4 threads; a run killed -9 at random moments and restarted must
# end with exactly the records of a run never interrupted; the partitions'
# groups are in the state store, not the checkpoint file. A stream whose
# records were appended by its key keeps its state per partition whatever
# the thread count, `weir produce` without --key appends by the key the
# stream was created with, and a stream appended otherwise (or fed by
# Kafka clients) keeps it in one engine; a restart keeps the checkpoint's
# layout; a record outside its key's partition where the state is per
# partition is refused.
. "$(dirname "$0")/../lib.sh"
KILLS=${WEIR_KILLS:-10}
N=${WEIR_THREADS_N:-100000}
SQL="$(dirname "$0")/threads.sql"
OUTS="city_5m city_1m city_users user_sessions city_bursts retweets all_retweets top_users top_cities"
plan 29

# Tweets over a few hours of event time, a little out of order, with a few
# records far too late and a few that do not fit the schema.
awk -v n="$N" 'BEGIN {
    srand(7); base = 1795420800000
    for (i = 0; i < n; i++) {
        ts = base + int(i * 90) + int(rand() * 25000) - 20000
        if (i % 997 == 0) ts -= 600000
        rt = (rand() < 0.3) ? "true" : "false"
        if (i % 1499 == 0) rt = "\"maybe\""
        printf "{\"id\":\"%d\",\"user_id\":\"u%d\",\"city\":\"city%d\",\"is_retweet\":%s,\"created_at\":%.0f}\n", i, int(rand() * 500), int(rand() * 20), rt, ts
    }
}' > "$SCRATCH/tweets.ndjson"
$WEIR produce tweets --data "$SCRATCH/input" --partitions 4 --key city "$SCRATCH/tweets.ndjson"

# dump DIR NAME: every output (and the dead letters, sorted: one partition fed by four) of DIR into $SCRATCH/NAME.*
dump() {
    local s
    for s in $OUTS; do
        $WEIR consume "$s" --data "$1" --from-beginning -e --meta > "$SCRATCH/$2.$s"
    done
    $WEIR consume tweets.dlq --data "$1" --from-beginning -e | sort > "$SCRATCH/$2.dlq"
}
# same A B: every output of dump A equals dump B's byte for byte; says which differ
same() {
    local s bad=""
    for s in $OUTS dlq; do
        cmp -s "$SCRATCH/$1.$s" "$SCRATCH/$2.$s" || bad="$bad $s"
    done
    [ -z "$bad" ] || diag "differ:$bad"
    [ -z "$bad" ]
}

for t in 1 2 4; do
    cp -a "$SCRATCH/input" "$SCRATCH/t$t"
    $WEIR serve -f "$SQL" --data "$SCRATCH/t$t" --once --idle-ms 0 --threads "$t" 2>"$SCRATCH/t$t.err"
    ok $? "serve --once --threads $t" || diag "$(cat "$SCRATCH/t$t.err")"
    dump "$SCRATCH/t$t" "t$t"
done
[ -s "$SCRATCH/t1.city_5m" ] && [ -s "$SCRATCH/t1.city_bursts" ] && [ -s "$SCRATCH/t1.dlq" ]
ok $? "the outputs hold rows ($(cat "$SCRATCH"/t1.city_* | wc -l) of the grouped tables, $(wc -l < "$SCRATCH/t1.dlq") dead letters)"
# which queries ran per partition: serve says so on the way out (not with --once)
cp -a "$SCRATCH/t1" "$SCRATCH/layout"
$WEIR serve -f "$SQL" --data "$SCRATCH/layout" --listen off --idle-ms 0 2>"$SCRATCH/layout.err" &
pid=$!
for i in $(seq 600); do grep -q "Ctrl-C stops" "$SCRATCH/layout.err" && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -TERM $pid; wait $pid
grep -q "user_sessions: .*, per partition (4 engines)$" "$SCRATCH/layout.err" &&
    grep "city_bursts: " "$SCRATCH/layout.err" | grep -vq "per partition" && [ -s "$SCRATCH/t1.user_sessions" ]
ok $? "a SESSION window grouped by the input's key runs per partition ($(wc -l < "$SCRATCH/t1.user_sessions") sessions), one over an unkeyed stream in one engine" ||
    diag "$(cat "$SCRATCH/layout.err")"
same t1 t2; ok $? "--threads 2 writes every output partition as --threads 1 does"
same t1 t4; ok $? "--threads 4 writes every output partition as --threads 1 does"
# the partitions' engines keep their groups in the state store (each its own tables), not in the checkpoint file
bytes=$(stat -c %s "$SCRATCH/t4/pipeline/checkpoint")
[ "$bytes" -lt 16384 ]; ok $? "with --threads 4 the checkpoint file holds no group ($bytes bytes)"

# Killed and restarted with threads: per-partition engines make each output
# partition a function of its input partition alone, so even the order holds.
cp -a "$SCRATCH/input" "$SCRATCH/killed"
serve_killed "$KILLS" "$SCRATCH/stderr" -f "$SQL" --data "$SCRATCH/killed" --once --idle-ms 0 --checkpoint-ms 30 --threads 4
[ "$KILLED" -ge "$KILLS" ]; ok $? "serve --threads 4 was killed $KILLED times mid-run and then finished"
dump "$SCRATCH/killed" killed
same t4 killed; ok $? "after the kills every output holds the uninterrupted run's records, in its order"
$WEIR query "SELECT * FROM city_users" --data "$SCRATCH/t1" | sort > "$SCRATCH/t1.q"
$WEIR query "SELECT * FROM city_users" --data "$SCRATCH/killed" | sort > "$SCRATCH/killed.q"
[ -s "$SCRATCH/t1.q" ] && cmp -s "$SCRATCH/t1.q" "$SCRATCH/killed.q"
ok $? "weir query reads the same table city_users ($(wc -l < "$SCRATCH/t1.q") rows)"

# a derived stream keyed by a column puts its rows without it in one partition: its NULL group is whole
cat > "$SCRATCH/derived.sql" <<'SQL'
CREATE STREAM tweets (id TEXT, user_id TEXT, city TEXT, is_retweet BOOL, created_at TIMESTAMP)
  WITH (partitions = 4, key = 'city', timestamp = 'created_at');
CREATE STREAM retweeters WITH (key = 'retweeter') AS
  SELECT CASE WHEN is_retweet THEN user_id END AS retweeter, created_at FROM tweets;
CREATE TABLE by_retweeter AS SELECT retweeter, COUNT(*) AS n FROM retweeters GROUP BY retweeter;
SQL
cp -a "$SCRATCH/input" "$SCRATCH/derived"
$WEIR serve -f "$SCRATCH/derived.sql" --data "$SCRATCH/derived" --once --idle-ms 0 --threads 4
nulls=$($WEIR query "SELECT n FROM by_retweeter WHERE retweeter IS NULL" --data "$SCRATCH/derived" | sed 's/{"n":\([0-9]*\)}/\1/')
[ "$nulls" = "$(grep -c '"is_retweet":false' "$SCRATCH/tweets.ndjson")" ]
ok $? "a derived stream's NULL key is one group, counted whole per partition ($nulls tweets that are not retweets)"

# per_partition DIR: whether DIR's checkpoint keeps partitions' engines (workers.c's section, magic "WPE1")
per_partition() { grep -qa WPE1 "$1/pipeline/checkpoint"; }
per_partition "$SCRATCH/t1" && per_partition "$SCRATCH/t4"
ok $? "a stream appended by its key keeps its state per partition, with one thread as with four"

# The stream was created by `produce --key city`, so the second half, appended without --key, goes by city
# too: the same records in the same partitions as the input's. Served with the default thread count.
half=$((N / 2))
head -n "$half" "$SCRATCH/tweets.ndjson" | $WEIR produce tweets --data "$SCRATCH/default" --partitions 4 --key city
tail -n +"$((half + 1))" "$SCRATCH/tweets.ndjson" | $WEIR produce tweets --data "$SCRATCH/default"
cp -a "$SCRATCH/default" "$SCRATCH/default1" # the dead letters carry the append times: compared on the same appends
$WEIR serve -f "$SQL" --data "$SCRATCH/default1" --once --idle-ms 0 --threads 1
grep -qx 'key=city' "$SCRATCH/default/streams/tweets/stream.conf"
ok $? "the stream keeps the key it was created with in its stream.conf"
$WEIR serve -f "$SQL" --data "$SCRATCH/default" --once --idle-ms 0 2>"$SCRATCH/default.err"
good=$?
[ $good -eq 0 ] && per_partition "$SCRATCH/default"
good=$?
ok $good "without --threads ($(nproc) cores), appended partly without --key, the stream's state is per partition"
[ $good -eq 0 ] || diag "$(cat "$SCRATCH/default.err")"
dump "$SCRATCH/default" default
dump "$SCRATCH/default1" default1
same default1 default; ok $? "... and every output partition is as with --threads 1"

# A server that takes Kafka producers' records cannot count on a stream's key (their partitioner is
# theirs): one engine. Its tables hold what the partitions' engines' do.
cp -a "$SCRATCH/input" "$SCRATCH/kl"
$WEIR serve -f "$SQL" --data "$SCRATCH/kl" --once --idle-ms 0 --threads 4 --kafka-listen 127.0.0.1:0 2>"$SCRATCH/kl.err"
good=$?
[ $good -eq 0 ] && ! per_partition "$SCRATCH/kl"
good=$?
ok $good "a server speaking Kafka keeps a keyed stream's state in one engine"
[ $good -eq 0 ] || diag "$(cat "$SCRATCH/kl.err")"
$WEIR query "SELECT * FROM city_users" --data "$SCRATCH/kl" | sort > "$SCRATCH/kl.q"
cmp -s "$SCRATCH/t1.q" "$SCRATCH/kl.q"; ok $? "... whose table city_users is the one the partitions' engines made"

# Appended round-robin (no key ever given): one engine, with any thread count.
$WEIR produce tweets --data "$SCRATCH/rr" --partitions 4 "$SCRATCH/tweets.ndjson"
cp -a "$SCRATCH/rr" "$SCRATCH/rr1"
$WEIR serve -f "$SQL" --data "$SCRATCH/rr1" --once --idle-ms 0 --threads 1
$WEIR serve -f "$SQL" --data "$SCRATCH/rr" --once --idle-ms 0 --threads 4 2>"$SCRATCH/rr.err"
good=$?
[ $good -eq 0 ] && ! per_partition "$SCRATCH/rr" && ! per_partition "$SCRATCH/rr1"
good=$?
ok $good "a stream appended without a key keeps its state in one engine, with four threads as with one"
[ $good -eq 0 ] || diag "$(cat "$SCRATCH/rr.err")"
dump "$SCRATCH/rr" rr
dump "$SCRATCH/rr1" rr1
same rr1 rr; ok $? "... and every output partition is the same"

# A record forced outside its key's partition: the stream forgets its key, and a state that starts then
# is kept in one engine.
cp -a "$SCRATCH/input" "$SCRATCH/misplaced"
misplace() { # DIR: city0 belongs in one partition; one of these two appends puts it in another
    for p in 0 1; do
        echo '{"id":"x","user_id":"u1","city":"city0","is_retweet":false,"created_at":1795420800000}' |
            $WEIR produce tweets --data "$1" --partition $p
    done
}
misplace "$SCRATCH/misplaced"
! grep -q '^key=' "$SCRATCH/misplaced/streams/tweets/stream.conf"
ok $? "a record forced outside its key's partition makes the stream forget its key"
$WEIR serve -f "$SQL" --data "$SCRATCH/misplaced" --once --idle-ms 0 --threads 4 2>"$SCRATCH/misplaced.err" &&
    ! per_partition "$SCRATCH/misplaced"
good=$?
ok $good "... whose state then starts in one engine"
[ $good -eq 0 ] || diag "$(cat "$SCRATCH/misplaced.err")"

# A checkpoint's layout stands whatever the thread count; a record outside its key's partition where the
# state is per partition would split its key's state between engines: refused, saying why.
cp -a "$SCRATCH/t4" "$SCRATCH/t4again"
cp -a "$SCRATCH/rr" "$SCRATCH/rragain"
$WEIR serve -f "$SQL" --data "$SCRATCH/t4again" --once --idle-ms 0 --threads 1 &&
    $WEIR serve -f "$SQL" --data "$SCRATCH/rragain" --once --idle-ms 0 --threads 4 &&
    per_partition "$SCRATCH/t4again" && ! per_partition "$SCRATCH/rragain"
ok $? "a restart keeps each checkpoint's layout, with another thread count"
# A Kafka producer picking another partition for a record is refused where the state is per partition (the
# pipeline goes on), and makes a stream whose state is not forget its key.
home=$($WEIR consume tweets --data "$SCRATCH/t4again" --from-beginning -e --meta | grep -m1 '"key":"city0"' |
    sed 's/^{"partition":\([0-9]*\),.*/\1/')
tweet='{"id":"k","user_id":"u1","city":"city0","is_retweet":false,"created_at":1795420800000}'
kafka_serve() { # DIR: weir serve --kafka-listen on DIR; its pid in KPID, its port in KPORT
    $WEIR serve -f "$SQL" --data "$1" --listen off --kafka-listen 127.0.0.1:0 2>"$1.err" &
    KPID=$!
    local i
    for i in $(seq 600); do
        grep -q 'speaking Kafka' "$1.err" && break
        kill -0 $KPID 2>/dev/null || { diag "weir serve did not start: $(cat "$1.err")"; break; }
        sleep 0.1
    done
    KPORT=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$1.err")
}
kafka_serve "$SCRATCH/t4again"
echo "$tweet" | kcat -P -b "127.0.0.1:$KPORT" -t tweets -p $(((home + 1) % 4)) -k city0 2>"$SCRATCH/kcat.err"
refused=$?
echo "$tweet" | kcat -P -b "127.0.0.1:$KPORT" -t tweets -p "$home" -k city0 2>/dev/null
[ $refused -ne 0 ] && [ $? -eq 0 ] && grep -q "failed to validate record" "$SCRATCH/kcat.err" && kill -0 $KPID
ok $? "per-partition state: a Kafka record in another partition than city0's ($home) is refused, one in it taken"
kill -TERM $KPID; wait $KPID; ok $? "... and the pipeline went on"
cp -a "$SCRATCH/input" "$SCRATCH/klfresh"
kafka_serve "$SCRATCH/klfresh"
echo "$tweet" | kcat -P -b "127.0.0.1:$KPORT" -t tweets -p $(((home + 1) % 4)) -k city0 2>/dev/null
good=$?
kill -TERM $KPID; wait $KPID
[ $good -eq 0 ] && ! grep -q '^key=' "$SCRATCH/klfresh/streams/tweets/stream.conf"
ok $? "in one engine it is taken, and the stream forgets its key"
misplace "$SCRATCH/t4again"
out=$($WEIR serve -f "$SQL" --data "$SCRATCH/t4again" --once --idle-ms 0 --threads 4 2>&1)
[ $? -ne 0 ] && [[ "$out" == *'has the key "city0" (city), which belongs in partition'*"weir produce --key city"*"--reset"* ]]
ok $? "a record outside its key's partition stops a run whose state is per partition, saying what to do"
[ $? -eq 0 ] || diag "$out"

# Idle advance reaches the partitions' engines: one busy partition of four,
# then silence; the window closes once event time follows the wall clock.
export WEIR_DATA="$SCRATCH/idle"
cat > "$SCRATCH/idle.sql" <<'SQL'
CREATE STREAM likes (video_id TEXT, ts TIMESTAMP) WITH (partitions = 4, key = 'video_id', timestamp = 'ts');
CREATE TABLE per_minute WITH (retention = 'forever') AS SELECT video_id, window_start, COUNT(*) AS likes
  FROM TUMBLE(likes, INTERVAL '1' MINUTE) GROUP BY video_id EMIT FINAL;
SQL
printf '{"video_id":"v1","ts":"2026-11-23T10:00:%02dZ"}\n' 55 56 57 58 59 | $WEIR produce likes --partitions 4 --key video_id
$WEIR serve -f "$SCRATCH/idle.sql" --listen off --idle-ms 300 --checkpoint-ms 100 --threads 4 2>"$SCRATCH/idle.err" &
pid=$!
for i in $(seq 1 600); do
    [ -n "$($WEIR consume per_minute --from-beginning -e 2>/dev/null)" ] && break
    sleep 0.1
done
row=$($WEIR consume per_minute --from-beginning -e)
[ "$row" = '{"video_id":"v1","window_start":"2026-11-23T10:00:00Z","likes":5}' ]
ok $? "with --threads 4, idle advance closed the window of a quiet stream: $row"
kill -TERM $pid
wait $pid; rc=$?
[ $rc -eq 0 ] && grep -q "per_minute: 5 in, 1 out, 0 dead letters (0 late).*, per partition (4 engines)$" "$SCRATCH/idle.err"
good=$?
ok $good "SIGTERM stops it cleanly, counting the partitions' engines, and says the query ran per partition"
[ $good -eq 0 ] || diag "exit $rc: $(cat "$SCRATCH/idle.err")"
finish
