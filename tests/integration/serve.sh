#!/usr/bin/env bash
# serve.sh - weir serve as a long-running process: it follows the log,
# closes the last window of a quiet stream by idle advance (one busy
# partition of four, then silence), stops cleanly on SIGTERM with a final
# checkpoint and its statistics, and refuses a changed pipeline without
# --reset.
. "$(dirname "$0")/../lib.sh"
plan 11
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM likes (video_id TEXT, ts TIMESTAMP) WITH (partitions = 4, key = 'video_id', timestamp = 'ts');
CREATE TABLE per_minute AS SELECT video_id, window_start, COUNT(*) AS likes
  FROM TUMBLE(likes, INTERVAL '1' MINUTE) GROUP BY video_id EMIT FINAL;
SQL
printf '{"video_id":"v1","ts":"2026-11-23T10:00:%02dZ"}\n' 55 56 57 58 59 | $WEIR produce likes --partitions 4 --key video_id
printf '{"video_id":"v2","ts":"yesterday"}\n{"video_id":"v3"}\n' | $WEIR produce likes
$WEIR serve -f "$SCRATCH/p.sql" --listen off --idle-ms 300 --checkpoint-ms 100 2>"$SCRATCH/serve.err" &
pid=$!
# Only one partition has data, the last at 10:00:59: once the stream has
# been quiet for 300 ms, event time follows the wall clock and the window
# [10:00, 10:01) closes about a second later.
for i in $(seq 1 60); do
    [ -n "$($WEIR consume per_minute --from-beginning -e 2>/dev/null)" ] && break
    sleep 0.1
done
row=$($WEIR consume per_minute --from-beginning -e)
[ "$row" = '{"video_id":"v1","window_start":"2026-11-23T10:00:00Z","likes":5}' ]
ok $? "idle advance closed the window of a quiet stream: $row"
kill -0 $pid; ok $? "serve keeps running"
kill -TERM $pid
wait $pid; ok $? "SIGTERM stops it cleanly"
grep -qE "per_minute: 5 in, 1 out, 0 dead letters \(0 late\), per partition \(4 engines\)$" "$SCRATCH/serve.err" &&
    grep -q "dead letters by reason: 1 undecodable, 0 constraint, 0 null_value, 1 no_event_time, 0 expression, 0 too_late" "$SCRATCH/serve.err"
ok $? "it reports each query's counts and the dead letters by reason on the way out"
[ "$($WEIR query 'SELECT likes FROM per_minute')" = '{"likes":5}' ]; ok $? "weir query reads the table afterwards"
echo "CREATE STREAM extra AS SELECT video_id FROM likes;" >> "$SCRATCH/p.sql"
$WEIR serve -f "$SCRATCH/p.sql" --once 2>"$SCRATCH/err"; rc=$?
[ $rc -eq 1 ] && grep -q "pipeline's SQL changed since its last checkpoint.*--reset" "$SCRATCH/err"; ok $? "a changed pipeline is refused without --reset"
$WEIR serve -f "$SCRATCH/p.sql" --once --reset && [ "$($WEIR consume extra --from-beginning -e | wc -l)" -eq 5 ] &&
    [ "$($WEIR consume per_minute --from-beginning -e | wc -l)" -eq 1 ]
ok $? "--reset rebuilds every output from the inputs, once"
# Readers outside serve see a pipeline output only up to its last checkpoint.
printf '{"n":%d}\n' 1 2 3 4 5 | $WEIR produce bounded --partitions 1
echo "bounded 0 2" >> "$WEIR_DATA/pipeline/stable"
[ "$($WEIR consume bounded --from-beginning -e | wc -l)" -eq 2 ]; ok $? "consume stops at the committed end an output's checkpoint names"
# --stdin: records piped into serve feed the pipeline; a bad line reaches the dead letters.
export WEIR_DATA="$SCRATCH/stdin-data"
{ printf '{"video_id":"v9","ts":"2026-11-23T11:00:%02dZ"}\n' 1 2 3; echo 'not json'; } |
    $WEIR serve -f "$SCRATCH/p.sql" --stdin likes --once 2>/dev/null
[ "$($WEIR query 'SELECT video_id, likes FROM per_minute')" = '{"video_id":"v9","likes":3}' ]; ok $? "serve --stdin feeds the pipeline"
[ "$($WEIR consume likes.dlq --from-beginning -e | grep -c '"record":"not json"')" -eq 1 ]; ok $? "a line that is not JSON goes to the dead letters"
# A table row whose expression fails is dead-lettered to the source stream's .dlq; serve goes on.
export WEIR_DATA="$SCRATCH/row-error-data"
$WEIR serve -f "$(dirname "$0")/../sql/grouped_row_error.sql" --stdin s --once 2>/dev/null < "$(dirname "$0")/../sql/grouped_row_error.input.ndjson" &&
    [ "$($WEIR consume s.dlq --from-beginning -e | grep -c 'row of t: integer overflow')" -eq 1 ]
ok $? "a failing expression over aggregates reaches the source's dead letters, and serve goes on"
finish
