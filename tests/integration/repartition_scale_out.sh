#!/usr/bin/env bash
# repartition_scale_out.sh - a GROUP BY on a column other than the input's
# key under `weir serve --kafka --scale-out`: three processes in one
# consumer group on the mock cluster re-key the input through the internal
# topic g.counts.repartition and count per page and minute from it; one is
# killed with kill -9 mid-stream and the other two take its tasks over (it
# may have written repartition records twice: the counting tasks apply each
# once). The final windowed counts in the output topic must equal those of
# an uninterrupted single-process run and an independent count of the
# input, late records (dropped by their origin partition's watermark, which
# each repartition record carries) included; so must those of a GROUP BY
# lower(page), re-keyed by the expression's value through its own topic.
# Then on a real Apache Kafka broker (the mock cluster makes any topic a
# client asks about, with 4 partitions, so only a broker shows who made
# one): weir makes the repartition topic it does not find, with the
# input's partition count, two processes starting at once over SASL with
# the credentials in --kafka-config, and its dead-letter topic under
# --kafka-exactly-once; one of another count is refused and left as it is.
. "$(dirname "$0")/../lib.sh"
plan 25
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
start_kafka_mock clicks:4 counts:4 g.counts.repartition:4 g.state:1 h.counts.repartition:2 finals:4 \
    f.finals.repartition:4 f.state:1 lowered:4 g.lowered.repartition:4
[ -n "$B" ] || { echo "Bail out! the mock cluster did not start"; exit 1; }
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM clicks (user TEXT, page TEXT, n INT, ts TIMESTAMP) WITH (partitions = 4, key = 'user', timestamp = 'ts');
CREATE TABLE counts AS SELECT page, window_start, COUNT(*) AS c, SUM(n) AS s
  FROM TUMBLE(clicks, INTERVAL '1' MINUTE) WHERE n % 10 <> 3 GROUP BY page;
SQL
BASE=1795420800000 # 2026-11-23T08:00:00Z
# records FROM TO: record i is user u(i % 37), n = i, 100 a second. Every 997th is two minutes old, too late
# for its partition's windows, on page "late"; every 101st has no page (a NULL group, all of whose records must
# meet in one partition too); the others are on ten pages p0...p11. Page late is alone in its partition of the
# repartition topic (murmur2: 3 of 4; the ten pages' and the NULL key's are 0, 1 and 2), so nothing but the
# watermark each record carries from its origin partition finds it late there.
records() {
    seq "$1" "$2" | awk -v base=$BASE 'BEGIN { split("p0 p1 p2 p3 p4 p5 p6 p9 p10 p11", pages, " ") }
        { late = $1 % 997 == 0; ts = base + int($1 / 100) * 1000 - (late ? 120000 : 0)
          page = late ? "\"page\":\"late\"," : $1 % 101 == 0 ? "" : "\"page\":\"" pages[int($1 / 7) % 10 + 1] "\","
          printf "u%d\t{\"user\":\"u%d\",%s\"n\":%d,\"ts\":%.0f}\n", $1 % 37, $1 % 37, page, $1, ts }'
}
produce() { records "$1" "$2" | kcat -b "$B" -t clicks -P -K $'\t' -X topic.partitioner=murmur2_random 2>/dev/null; }
INPUTS="clicks g.counts.repartition"
SERVE_IDLE_MS=0
. "$(dirname "$0")/../scale_out_lib.sh"
# split URL...: those processes hold every partition of both inputs, each process some of each
split() {
    local s u n
    for s in $INPUTS; do
        n=0
        for u; do
            [ "$(owned "$u" "$s")" -ge 1 ] || return 1
            n=$((n + $(owned "$u" "$s")))
        done
        [ "$n" = 4 ] || return 1
    done
}
# the final row of each (page, window) in the output topic (counts, or $1), as "page window_start c s" lines
final_rows() {
    kcat -b "$B" -t "${1:-counts}" -C -e -q -f '%s\n' 2>/dev/null | python3 -c 'import json, sys
last = {}
for line in sys.stdin:
    r = json.loads(line)
    last[(r["page"], r["window_start"])] = "%s %s %d %d" % (r["page"], r["window_start"], r["c"], r["s"])
print("\n".join(sorted(last.values())))'
}

# refused at start, saying why: a repartition topic of another partition count than the input's
timeout 120 $WEIR serve -f "$SCRATCH/p.sql" --data "$SCRATCH/h" --kafka "$B" --kafka-group h --scale-out \
    --listen 127.0.0.1:0 2>"$SCRATCH/h.err"
[ $? = 1 ] && grep -q 'kafka topic h.counts.repartition (.*) must exist with 4 partitions, as many as clicks has' "$SCRATCH/h.err"
ok $? "a repartition topic with 2 partitions is refused: $(tail -1 "$SCRATCH/h.err" | cut -c1-150)"

# the scaled run also groups by an expression: its own repartition topic, keyed by the expression's value (the
# pages are lower case already, so its rows are counts')
cp "$SCRATCH/p.sql" "$SCRATCH/p0.sql"
cat >> "$SCRATCH/p.sql" <<'SQL'
CREATE TABLE lowered AS SELECT lower(page) AS page, window_start, COUNT(*) AS c, SUM(n) AS s
  FROM TUMBLE(clicks, INTERVAL '1' MINUTE) WHERE n % 10 <> 3 GROUP BY lower(page);
SQL
serve a
serve b
serve c
wait_for 900 'split "$U_a" "$U_b" "$U_c"'
ok $? "three processes share clicks and the repartition topic (a: $(owned "$U_a" clicks) and $(owned "$U_a" g.counts.repartition), b: $(owned "$U_b" clicks) and $(owned "$U_b" g.counts.repartition), c: $(owned "$U_c" clicks) and $(owned "$U_c" g.counts.repartition))"
produce 1 10000
wait_for 1200 'caught_up "$U_a" "$U_b" "$U_c"'
ok $? "each reads its partitions of both to the end and delivers"

produce 10001 20000 &
producer=$!
sleep 0.3
kill -9 "$PID_b"; wait "$PID_b" 2>/dev/null
wait $producer
wait_for 1200 'split "$U_a" "$U_c"'
ok $? "after b is killed -9 mid-stream, a and c hold every partition of both"
produce 20001 30000
wait_for 1200 'caught_up "$U_a" "$U_c"'
ok $? "and read them to the end, restoring b's tasks from the state topic"
[ "$(metrics "$U_a" | awk '$1 == "weir_task_state_save_failures_total" { print $2 }')" = 0 ] &&
    [ "$(metrics "$U_c" | awk '$1 == "weir_task_state_save_failures_total" { print $2 }')" = 0 ]
ok $? "no state save failed"

page_elsewhere() { # a page whose repartition partition the process at $1 does not hold: its pull query's redirect
    local p
    for p in 0 1 2 3 4 5 6 9 10 11; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/v1/tables/counts?key=p$p")" = 307 ] &&
            { curl -s -o /dev/null -w '%{redirect_url}' "$1/v1/tables/counts?key=p$p"; return 0; }
    done
    return 1
}
redirect=$(page_elsewhere "$U_a")
[[ "$redirect" == "$U_c/v1/tables/counts?key=p"* ]]
ok $? "a pull query on a for a page c counts is sent to c ($redirect)"

curl -s "$U_a/v1/query" -d '{"sql": "SHOW STREAMS"}' | grep -q '"name":"g.counts.repartition","kind":"stream","partitions":4,"key":"page"'
ok $? "SHOW STREAMS lists the repartition stream, keyed by page"

# the origins in the repartition topic: each record of clicks that passes the WHERE, at least once (a process's
# lag may read 0 before its consumer has seen the last records: wait for them)
origins() {
    kcat -b "$B" -t g.counts.repartition -C -o beginning -e -q -f '%h\n' 2>/dev/null |
        sed -n 's/.*weir-origin=\([0-9]* [0-9]*\) .*/\1/p' | sort > "$SCRATCH/origins"
    [ "$(sort -u "$SCRATCH/origins" | wc -l)" = "$(records 1 30000 | grep -vc '"n":[0-9]*3,')" ]
}
wait_for 300 origins
ok $? "the repartition topic carries every record that passes the WHERE ($(sort -u "$SCRATCH/origins" | wc -l) origins, $(($(wc -l < "$SCRATCH/origins") - $(sort -u "$SCRATCH/origins" | wc -l))) written twice)"

# a writer that wrote twice (a takeover after its records were delivered, before its task's state was saved): 40
# records of the repartition topic again, with the same origin, key and partition; and one that no weir wrote
# (records of the NULL page, keyed by the empty text, are left out: read would merge their empty key's tabs)
kcat -b "$B" -t g.counts.repartition -C -e -q -f '%p\t%k\t%h\t%s\n' 2>/dev/null | awk -F'\t' 'NR % 500 == 7 && $2 != ""' |
    head -40 |
    while IFS=$'\t' read -r part key headers value; do
        origin=$(echo "$headers" | sed -n 's/.*weir-origin=\([^,]*\).*/\1/p')
        printf '%s\t%s\n' "$key" "$value" | kcat -b "$B" -t g.counts.repartition -P -p "$part" -K $'\t' -H "weir-origin=$origin" \
            2>/dev/null && echo "$origin"
    done > "$SCRATCH/again"
printf 'p1\t{"user":"u1","page":"p1","n":1,"ts":%s}\n' $BASE | kcat -b "$B" -t g.counts.repartition -P -K $'\t' 2>/dev/null
dead() { metrics "$1" | awk '$1 == "weir_dead_letters_total{stream=\"g.counts.repartition\",reason=\"undecodable\"}" { n = $2 }
                              END { print n + 0 }'; }
wait_for 600 '[ $(($(dead "$U_a") + $(dead "$U_c"))) = 1 ] && caught_up "$U_a" "$U_c"' && [ "$(wc -l < "$SCRATCH/again")" = 40 ]
ok $? "the counting tasks read the $(wc -l < "$SCRATCH/again") records written again, and dead-letter the one without an origin"

# count_of FROM TO: the answer, counted independently: per page and minute, the count and sum, without the late records
count_of() {
    records "$1" "$2" | python3 -c 'import json, sys, datetime
c, s = {}, {}
for line in sys.stdin:
    r = json.loads(line.split("\t")[1])
    if r["n"] % 10 == 3 or r.get("page") == "late":
        continue
    w = datetime.datetime.fromtimestamp(r["ts"] // 60000 * 60, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    k = (r.get("page"), w)
    c[k] = c.get(k, 0) + 1
    s[k] = s.get(k, 0) + r["n"]
print("\n".join(sorted("%s %s %d %d" % (k[0], k[1], c[k], s[k]) for k in c)))'
}
count_of 1 30000 > "$SCRATCH/expected"

# an uninterrupted run over the same topic, one process, nothing shared
sed "s/timestamp = 'ts')/timestamp = 'ts', connector = 'kafka', brokers = '$B')/" "$SCRATCH/p0.sql" > "$SCRATCH/one.sql"
$WEIR serve -f "$SCRATCH/one.sql" --data "$SCRATCH/one" --kafka-group single --once 2>"$SCRATCH/one.err" ||
    diag "the single run failed: $(cat "$SCRATCH/one.err")"
$WEIR query -d "$SCRATCH/one" 'SELECT page, window_start, c, s FROM counts' | python3 -c 'import json, sys
print("\n".join(sorted("%s %s %d %d" % (r["page"], r["window_start"], r["c"], r["s"]) for r in map(json.loads, sys.stdin))))' \
    > "$SCRATCH/single"
late=$($WEIR consume -d "$SCRATCH/one" --from-beginning --exit clicks.dlq | grep -c 'too late')
cmp -s "$SCRATCH/expected" "$SCRATCH/single" && [ "$late" -gt 0 ]
ok $? "the single run counts as the independent count ($(wc -l < "$SCRATCH/single") windows, $late records too late)"

# the scaled run's rows reach the topic as their checkpoints are delivered: wait for them
wait_for 600 'final_rows > "$SCRATCH/scaled" && cmp -s "$SCRATCH/single" "$SCRATCH/scaled"'; rc=$?
ok $rc "the final count and sum of every (page, window) in topic counts equal the single run's ($(wc -l < "$SCRATCH/scaled") windows)"
[ $rc = 0 ] || diff "$SCRATCH/single" "$SCRATCH/scaled" | head -6 | sed 's/^/# /'
wait_for 600 'final_rows lowered > "$SCRATCH/lowered" && cmp -s "$SCRATCH/single" "$SCRATCH/lowered"'; rc=$?
ok $rc "GROUP BY lower(page) through g.lowered.repartition: the same rows in topic lowered ($(wc -l < "$SCRATCH/lowered") windows)"
[ $rc = 0 ] || diff "$SCRATCH/single" "$SCRATCH/lowered" | head -6 | sed 's/^/# /'
kill -TERM "$PID_a" "$PID_c"
wait "$PID_a"; a=$?; wait "$PID_c"
ok $((a + $?)) "a and c stop cleanly on SIGTERM"

# EMIT FINAL through a repartition topic, one process of group f: a record an hour on from each input partition to
# each repartition partition (pages p0, p6, p1, p7 are its partitions 0 to 3) closes every window of the run; their
# own windows (09:00) close only once idle advance has moved time on for the origin partitions of each
for p in 0 1 2 3; do
    for page in p0 p6 p1 p7; do
        echo "{\"user\":\"flush\",\"page\":\"$page\",\"n\":0,\"ts\":$((BASE + 3659900))}"
    done | kcat -b "$B" -t clicks -P -p $p 2>/dev/null
done
sed 's/GROUP BY page;/GROUP BY page EMIT FINAL;/; s/CREATE TABLE counts/CREATE TABLE finals/' "$SCRATCH/p0.sql" > "$SCRATCH/f.sql"
$WEIR serve -f "$SCRATCH/f.sql" --data "$SCRATCH/f" --kafka "$B" --kafka-group f --scale-out --idle-ms 5000 \
    --checkpoint-ms 200 --listen 127.0.0.1:0 2>"$SCRATCH/f.err" &
PID_f=$!
wait_for 1200 'final_rows finals | grep -v T09: > "$SCRATCH/finals" && cmp -s "$SCRATCH/single" "$SCRATCH/finals"'; rc=$?
emitted=$(kcat -b "$B" -t finals -C -e -q -f '%s\n' 2>/dev/null | grep -vc T09:)
[ $rc = 0 ] && [ "$emitted" = "$(wc -l < "$SCRATCH/single")" ]
ok $? "EMIT FINAL: each (page, window) once ($emitted records), as in the single run ($(wc -l < "$SCRATCH/finals") windows)"
[ $rc = 0 ] || diff "$SCRATCH/single" "$SCRATCH/finals" | head -6 | sed 's/^/# /'
wait_for 1200 '[ "$(final_rows finals | grep -c T09:00)" = 4 ]'
ok $? "idle advance closes the last windows, held by origin partitions that send nothing more ($(final_rows finals | grep T09: | tr '\n' ' '))"
kill -TERM "$PID_f"; wait "$PID_f"
ok $? "f stops cleanly on SIGTERM"
kill "$mock"; wait "$mock" 2>/dev/null

started=$SECONDS
start_kafka_broker || { echo "Bail out! the Kafka broker did not start"; exit 1; }
ok 0 "a real Kafka broker answers on $KB, SASL_PLAINTEXT on $KB_SASL (after $((SECONDS - started)) s)"
B=$KB
for t in clicks:4 clicks.dlq:1 counts:4 ecounts:4 x.counts.repartition:2; do
    kafka_topics --create --topic "${t%:*}" --partitions "${t#*:}" --replication-factor 1 >/dev/null ||
        { echo "Bail out! kafka-topics could not create ${t%:*}"; exit 1; }
done
# partitions_of TOPIC: its partition count in the broker's list of every topic (kcat -L -t would ask for the one
# topic as a producer, which a broker that creates topics on use would answer by making it)
partitions_of() { kcat -b "$KB" -L 2>/dev/null | sed -n "s/^ *topic \"$1\" with \([0-9]*\) partitions.*/\1/p"; }

timeout 120 $WEIR serve -f "$SCRATCH/p0.sql" --data "$SCRATCH/x" --kafka "$KB" --kafka-group x --scale-out \
    --listen 127.0.0.1:0 2>"$SCRATCH/x.err"
[ $? = 1 ] && grep -q 'kafka topic x.counts.repartition (.*) must exist with 4 partitions, as many as clicks has (it has another count): create it so' \
    "$SCRATCH/x.err" && [ "$(partitions_of x.counts.repartition)" = 2 ]
ok $? "a repartition topic of 2 partitions is refused and left so: $(tail -1 "$SCRATCH/x.err" | cut -c1-150)"

# two processes of group r at once, on the SASL listener: each finds no r.counts.repartition, asks to create it,
# and one is told it exists
printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanisms=PLAIN\nsasl.username=%s\nsasl.password=%s\n' \
    "$KAFKA_USER" "$KAFKA_PASSWORD" > "$SCRATCH/sasl.properties"
for n in r1 r2; do
    $WEIR serve -f "$SCRATCH/p0.sql" --data "$SCRATCH/$n" --kafka "$KB_SASL" --kafka-config "$SCRATCH/sasl.properties" \
        --kafka-group r --scale-out --idle-ms 0 --checkpoint-ms 200 --listen 127.0.0.1:0 2>"$SCRATCH/$n.err" &
    eval "PID_$n=\$!"
done
listening() { grep -q listening "$SCRATCH/r1.err" && grep -q listening "$SCRATCH/r2.err"; }
wait_for 600 listening || diag "r1: $(cat "$SCRATCH/r1.err") r2: $(cat "$SCRATCH/r2.err")"
U_r1=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$SCRATCH/r1.err")
U_r2=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$SCRATCH/r2.err")
listening && [ "$(partitions_of r.counts.repartition)" = 4 ]
ok $? "two processes starting together make r.counts.repartition with 4 partitions ($(partitions_of r.counts.repartition)) and run"
produce 1 3000
count_of 1 3000 > "$SCRATCH/r_expected"
INPUTS="clicks r.counts.repartition"
listening && wait_for 1200 'split "$U_r1" "$U_r2" && caught_up "$U_r1" "$U_r2" && final_rows > "$SCRATCH/r_rows" &&
               cmp -s "$SCRATCH/r_expected" "$SCRATCH/r_rows"'; rc=$?
ok $rc "they count through it as the independent count ($(wc -l < "$SCRATCH/r_rows") windows)"
[ $rc = 0 ] || diff "$SCRATCH/r_expected" "$SCRATCH/r_rows" | head -6 | sed 's/^/# /'
kill -TERM "$PID_r1" "$PID_r2"
wait "$PID_r1"; a=$?; wait "$PID_r2"
ok $((a + $?)) "r1 and r2 stop cleanly on SIGTERM"

# exactly once: the tasks' transactions also write the repartition stream's dead letters, to a topic weir makes
sed 's/CREATE TABLE counts/CREATE TABLE ecounts/' "$SCRATCH/p0.sql" > "$SCRATCH/e.sql"
$WEIR serve -f "$SCRATCH/e.sql" --data "$SCRATCH/e" --kafka "$KB" --kafka-group e --scale-out --kafka-exactly-once \
    --idle-ms 0 --checkpoint-ms 200 --listen 127.0.0.1:0 2>"$SCRATCH/e.err" &
PID_e=$!
wait_for 600 "grep -q listening '$SCRATCH/e.err'" || diag "e did not start: $(cat "$SCRATCH/e.err")"
[ "$(partitions_of e.ecounts.repartition)" = 4 ] && [ "$(partitions_of e.ecounts.repartition.dlq)" = 1 ]
ok $? "--kafka-exactly-once: weir makes e.ecounts.repartition (4 partitions) and e.ecounts.repartition.dlq (1)"
late() { kcat -b "$KB" -t e.ecounts.repartition.dlq -C -e -q -X isolation.level=read_committed 2>/dev/null | grep -c 'too late'; }
grep -q listening "$SCRATCH/e.err" && wait_for 1200 'final_rows ecounts > "$SCRATCH/e_rows" && cmp -s "$SCRATCH/r_expected" "$SCRATCH/e_rows" && [ "$(late)" = 3 ]'
ok $? "its counts equal the independent count ($(wc -l < "$SCRATCH/e_rows") windows) and the 3 late records are in the dead-letter topic ($(late))"
kill -TERM "$PID_e"; wait "$PID_e"
ok $? "e stops cleanly on SIGTERM"
finish
