#!/usr/bin/env bash
# state_restart.sh - the Collatz example's table views live in the state
# store (docs/STATE_STORE.md): a server stopped and started again answers
# its endpoints as before without replaying any changelog (the rows each
# view replayed at start are weir_table_rows_replayed in /metrics); `weir
# query` beside the running server reads the store and answers the same;
# after kill -9 a restart replays only the changelog past the store's last
# checkpoint and the tables equal those of a run that was never stopped;
# the engine's groups are in the store too: a checkpoint file older than
# the store's (a crash between the store's commit and the file's rename)
# gives way to the store's copy, and a store older than the checkpoint
# file is refused with what to do; --reset rebuilds the store from the
# inputs. Its groups are read from its rows (no groups: table), and a
# clean stop leaves the store's file without free pages.
. "$(dirname "$0")/../lib.sh"
plan 13
ex="$(cd "$(dirname "$0")/../../examples/collatz" && pwd)"
export WEIR_DATA="$SCRATCH/data"

$WEIR gen collatz -n 60000 --seed 3 > "$SCRATCH/steps.ndjson"
head -n 40000 "$SCRATCH/steps.ndjson" > "$SCRATCH/first.ndjson"
tail -n +40001 "$SCRATCH/steps.ndjson" > "$SCRATCH/second.ndjson"
$WEIR produce conjecture.data --partitions 4 --key number < "$SCRATCH/first.ndjson"
# the reference: every step, processed by one run that never stops
$WEIR produce conjecture.data --data "$SCRATCH/ref" --partitions 4 --key number < "$SCRATCH/steps.ndjson"
$WEIR serve -f "$ex/pipeline.sql" --data "$SCRATCH/ref" --once 2>/dev/null
# Collatz's tables hold their groups (keys, then MAX or MIN): the store keeps the rows only, and a clean stop compacted it
$BUILD/bench/store_pages "$SCRATCH/ref/state" > "$SCRATCH/pages"
! grep -q '^| groups:' "$SCRATCH/pages" && grep -q '^| table:value_numbers' "$SCRATCH/pages" &&
    [ "$(awk '/^pages / { print $3 }' "$SCRATCH/pages")" -lt 1048576 ]
st=$?
ok $st "the store holds the tables' rows and no groups table, and after a clean stop under 1 MiB of free pages"
[ $st -eq 0 ] || diag "$(cat "$SCRATCH/pages")"

caught_up() { [ "$(curl -s "$URL/metrics" | grep -c '^weir_pipeline_lag_records{stream="conjecture.data",partition="[0-3]"} 0$')" = 4 ]; }
wait_caught_up() { local i; for i in $(seq 1200); do caught_up && return 0; sleep 0.1; done; return 1; }
replayed() { curl -s "$URL/metrics" | awk '/^weir_table_rows_replayed/ { n += $2 } END { print n + 0 }'; }
# answers: what the endpoints say, one per line
answers() {
    local longest
    longest=$(curl -s "$URL/longest_step_chain" | sed 's/.*"longest":\([0-9]*\).*/\1/')
    curl -s "$URL/longest_step_chain"; echo
    curl -s "$URL/highest_value"; echo
    curl -s "$URL/part/16" | md5sum
    curl -s "$URL/plot/$longest" | md5sum
    curl -s "$URL/chain/$longest" | md5sum
    curl -s "$URL/v1/tables" | grep -o '"rows":[0-9]*' | tr '\n' ' '; echo
}

start_serve -f "$ex/pipeline.sql" --checkpoint-ms 200
wait_caught_up; ok $? "the first 40,000 steps are processed"
answers > "$SCRATCH/before"
stop_serve

start_serve -f "$ex/pipeline.sql" --checkpoint-ms 200
answers > "$SCRATCH/after"
cmp -s "$SCRATCH/before" "$SCRATCH/after"; ok $? "after a restart the endpoints answer as before"
[ -n "$(sed -n 1p "$SCRATCH/after" | grep longest)" ] || diag "answers: $(cat "$SCRATCH/after")"
r=$(replayed)
[ "$r" = 0 ]; ok $? "the restart replayed no changelog row: the views opened the store ($r rows replayed)"

$WEIR query "SELECT number AS longest, steps FROM chains ORDER BY steps DESC, number LIMIT 1" > "$SCRATCH/q"
[ "$(tr -d ' \n' < "$SCRATCH/q")" = "$(sed -n 1p "$SCRATCH/after" | tr -d ' \n')" ]
ok $? "weir query beside the server reads the store and answers as the endpoint: $(cat "$SCRATCH/q")"

# The rest of the steps while the server runs, then kill -9 while it works through them.
$WEIR produce conjecture.data < "$SCRATCH/second.ndjson" 2>/dev/null; ok $? "20,000 more steps sent to the running server"
sleep 0.$((RANDOM % 5))
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
start_serve -f "$ex/pipeline.sql" --checkpoint-ms 200
r=$(replayed)
wait_caught_up
# The store committed with the checkpoint the runner cut the changelogs
# back to: nothing to replay; or, killed between the store's commit and the
# checkpoint file's, the store is ahead and rebuilt from every changelog
# (the first 40,000 steps' rows at least, in three tables).
[ "$r" = 0 ] || [ "$r" -ge 120000 ]
ok $? "after kill -9 the views replayed nothing past the checkpoint ($r rows), and caught up"
answers > "$SCRATCH/final"
stop_serve
for t in chains value_numbers chain_steps; do
    $WEIR query "SELECT * FROM $t" --data "$SCRATCH/ref" | sort > "$SCRATCH/ref.$t"
    $WEIR query "SELECT * FROM $t" | sort > "$SCRATCH/got.$t"
    [ -s "$SCRATCH/ref.$t" ] && cmp -s "$SCRATCH/ref.$t" "$SCRATCH/got.$t"
    ok $? "table $t equals the uninterrupted run's ($(wc -l < "$SCRATCH/ref.$t") rows)"
done

# The engine's groups and the checkpoint file: a COUNT per number (MAX and MIN, the example's
# aggregates, would not show steps counted twice), on a data directory of its own.
cat > "$SCRATCH/count.sql" <<'SQL'
CREATE STREAM "conjecture.data" (number UINT, step UINT, value UINT, ts TIMESTAMP)
  WITH (partitions = 4, key = 'number', timestamp = 'ts');
CREATE TABLE counts AS SELECT number, COUNT(*) AS n FROM "conjecture.data" GROUP BY number;
SQL
cnt="$SCRATCH/cnt"
count_once() { $WEIR serve -f "$SCRATCH/count.sql" --data "$cnt" --once 2>"$SCRATCH/once.err"; }
$WEIR produce conjecture.data --data "$cnt" --partitions 4 --key number < "$SCRATCH/first.ndjson"
count_once
cp "$cnt/pipeline/checkpoint" "$SCRATCH/old.checkpoint"
cp -r "$cnt/state" "$SCRATCH/old.state"
$WEIR produce conjecture.data --data "$cnt" --key number < "$SCRATCH/second.ndjson"
count_once
# The first run's checkpoint file is older than the store, as after a crash between the
# store's commit and the file's rename: the store's copy must stand, or the second steps
# are counted twice.
cp "$SCRATCH/old.checkpoint" "$cnt/pipeline/checkpoint"
count_once
rc=$?
$WEIR query "SELECT number, n FROM counts" --data "$cnt" | sed 's/{"number":\([0-9]*\),"n":\([0-9]*\)}/\1 \2/' | sort > "$SCRATCH/counts"
awk -F'[:,]' '{ n[$2]++ } END { for (k in n) print k, n[k] }' "$SCRATCH/steps.ndjson" | sort > "$SCRATCH/want.counts"
[ "$rc" = 0 ] && [ -s "$SCRATCH/want.counts" ] && cmp -s "$SCRATCH/counts" "$SCRATCH/want.counts"
ok $? "a checkpoint file older than the state store's gives way to the store's copy: every step counted once"
mv "$cnt/state" "$SCRATCH/good.state"
mv "$SCRATCH/old.state" "$cnt/state"
count_once
rc=$?
[ "$rc" != 0 ] && grep -q "reset" "$SCRATCH/once.err"
ok $? "a state store older than the checkpoint file is refused: $(cat "$SCRATCH/once.err")"

start_serve -f "$ex/pipeline.sql" --reset
wait_caught_up
r=$(replayed)
answers > "$SCRATCH/reset"
stop_serve
[ "$r" = 0 ] && cmp -s "$SCRATCH/final" "$SCRATCH/reset" &&
    [ "$($WEIR query "SELECT * FROM chains" | sort | md5sum)" = "$(md5sum < "$SCRATCH/ref.chains")" ]
ok $? "--reset empties the store and rebuilds it from the inputs, answering the same ($r rows replayed: nothing to replay)"
finish
