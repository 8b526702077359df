#!/usr/bin/env bash
# join.sh - the interval join against an oracle: a short Python script (not
# weir) generates clicks and buys, a little out of order and with a few far
# too late, and computes the INNER and FULL joins of join.sql by brute force.
# weir replay, weir serve --once, and weir serve killed with -9 at random
# moments and restarted must each produce exactly those rows, each once,
# and send exactly the late records to the dead letters. WEIR_KILLS sets the
# number of kills (10 here). Last, a running server emits a LEFT join's
# unmatched click once both streams have been quiet for --idle-ms: event
# time then follows the clock past the click's interval.
. "$(dirname "$0")/../lib.sh"
KILLS=${WEIR_KILLS:-10}
SQL="$(dirname "$0")/join.sql"
plan 10

python3 "$(dirname "$0")/interval_oracle.py" "$SCRATCH" || { echo "Bail out! the oracle failed"; exit 1; }
read late_clicks late_buys < "$SCRATCH/oracle.late"
diag "oracle: $(wc -l < "$SCRATCH/oracle.matched") matched pairs, $(wc -l < "$SCRATCH/oracle.everything") rows of the FULL join, $late_clicks + $late_buys late records"

$WEIR replay -f "$SQL" --input "$SCRATCH/replay.ndjson" > "$SCRATCH/replay.out"
for s in matched everything; do
    sed -n "s/^{\"stream\":\"$s\",\"row\":\(.*\)}$/\1/p" "$SCRATCH/replay.out" | sort > "$SCRATCH/replay.$s"
    cmp -s "$SCRATCH/oracle.$s" "$SCRATCH/replay.$s"; ok $? "replay: $s equals the oracle's"
done

$WEIR produce clicks --data "$SCRATCH/input" --partitions 4 --key user "$SCRATCH/clicks.ndjson" &&
    $WEIR produce buys --data "$SCRATCH/input" --partitions 4 --key user "$SCRATCH/buys.ndjson"
cp -a "$SCRATCH/input" "$SCRATCH/once"
cp -a "$SCRATCH/input" "$SCRATCH/killed"

$WEIR serve -f "$SQL" --data "$SCRATCH/once" --once; ok $? "serve --once"
for s in matched everything; do
    $WEIR consume "$s" --data "$SCRATCH/once" --from-beginning -e | sort > "$SCRATCH/once.$s"
    cmp -s "$SCRATCH/oracle.$s" "$SCRATCH/once.$s"; ok $? "serve --once: $s equals the oracle's"
done
dead=$(( $($WEIR consume clicks.dlq --data "$SCRATCH/once" --from-beginning -e | grep -c 'too late') +
         $($WEIR consume buys.dlq --data "$SCRATCH/once" --from-beginning -e | grep -c 'too late') ))
# Each late record is a dead letter of each of the two joins.
[ "$dead" -eq $(( 2 * (late_clicks + late_buys) )) ]; ok $? "every late record is a dead letter, once per join ($dead)"

serve_killed "$KILLS" "$SCRATCH/stderr" -f "$SQL" --data "$SCRATCH/killed" --once --checkpoint-ms 30
killed=$KILLED
diag "$killed kills"
[ "$killed" -ge 1 ]; ok $? "serve was killed $killed times mid-run and then finished"
for s in matched everything; do
    $WEIR consume "$s" --data "$SCRATCH/killed" --from-beginning -e | sort > "$SCRATCH/killed.$s"
    cmp -s "$SCRATCH/oracle.$s" "$SCRATCH/killed.$s"; ok $? "after kills: $s equals the oracle's, each row once"
done
mkdir -p "$SCRATCH/live"
$WEIR produce clicks --data "$SCRATCH/live" --key user /dev/null && $WEIR produce buys --data "$SCRATCH/live" --key user /dev/null
cat > "$SCRATCH/left.sql" <<'SQL'
CREATE STREAM clicks (cid INT, user TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (bid INT, user TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM click_or_not AS SELECT c.cid, b.bid FROM clicks c LEFT JOIN buys b
  ON c.user = b.user AND b.ts BETWEEN c.ts AND c.ts + INTERVAL '1' SECOND;
SQL
start_serve -f "$SCRATCH/left.sql" --data "$SCRATCH/live" --idle-ms 200 --checkpoint-ms 100
echo "{\"cid\":7,\"user\":\"ann\",\"ts\":$(date +%s)}" | $WEIR produce clicks --data "$SCRATCH/live"
for i in $(seq 300); do
    got=$($WEIR consume click_or_not --data "$SCRATCH/live" --from-beginning -e)
    [ -n "$got" ] && break
    sleep 0.1
done
stop_serve
[ "$got" = '{"cid":7,"bid":null}' ]; ok $? "a quiet server emits the unmatched click with NULLs (got: $got)"
finish
