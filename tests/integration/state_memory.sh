#!/usr/bin/env bash
# state_memory.sh - weir serve --state-memory (docs/STATE_STORE.md,
# "Bounded memory"): with a bound of 1 MiB over far more state, the groups
# and table rows the store holds leave memory after each checkpoint
# (weir_state_evictions_total in /metrics) and are read from the store
# when next used; yet the answers (endpoints, pull queries, weir query)
# and the engine's outputs (the tables' changelogs) equal those of a run
# without a bound, also after a kill -9 and a restart. The numbers recur
# across the inputs (a narrow range), so groups dropped from memory are
# updated again (COUNT(*) per number would come out wrong if one came
# back from the store wrongly), and a windowed table's rows go too. The
# changelogs are not compacted, so that they show every row emitted.
# WEIR_STATE_MEMORY_THREADS=N runs every serve with --threads N
# (state_memory_threads.sh: the partitions' engines' groups, in the store
# too, leave memory and come back alike).
. "$(dirname "$0")/../lib.sh"
THREADS=${WEIR_STATE_MEMORY_THREADS:-1}
plan 9
export WEIR_DATA="$SCRATCH/cap"
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM "conjecture.data" (number UINT, step UINT, value UINT, ts TIMESTAMP)
  WITH (partitions = 4, key = 'number', timestamp = 'ts');
CREATE TABLE chains WITH (cleanup_policy = 'delete') AS
  SELECT number, COUNT(*) AS n, MAX(step) AS steps, MAX(value) AS peak FROM "conjecture.data" GROUP BY number;
CREATE TABLE value_numbers WITH (cleanup_policy = 'delete') AS
  SELECT value, number, COUNT(*) AS n, MIN(step) AS step FROM "conjecture.data" GROUP BY value, number;
CREATE TABLE chain_steps WITH (cleanup_policy = 'delete') AS
  SELECT number, step, COUNT(*) AS n, MAX(value) AS value FROM "conjecture.data" GROUP BY number, step;
CREATE TABLE per_minute WITH (cleanup_policy = 'delete') AS
  SELECT number, window_start, COUNT(*) AS n, SUM(value) AS total
  FROM TUMBLE("conjecture.data", INTERVAL '1' MINUTE) GROUP BY number;
CREATE ENDPOINT 'GET /longest_step_chain' WITH (format = 'object') AS
  SELECT number AS longest, steps FROM chains ORDER BY steps DESC, number LIMIT 1;
CREATE ENDPOINT 'GET /part/{x}' WITH (format = 'rows') AS
  SELECT number FROM value_numbers WHERE value = {x} ORDER BY number;
CREATE ENDPOINT 'GET /plot/{n}' WITH (format = 'csv') AS
  SELECT step, value, n FROM chain_steps WHERE number = {n} ORDER BY step;
SQL
tables="chains value_numbers chain_steps per_minute"
for s in 1 2 3; do
    $WEIR gen collatz -n 20000 --numbers 1:400 --seed $s --start 2026-11-23T0$s:00:00Z > "$SCRATCH/in$s.ndjson"
done
cat "$SCRATCH/in1.ndjson" "$SCRATCH/in2.ndjson" "$SCRATCH/in3.ndjson" > "$SCRATCH/all.ndjson"

# the reference: every step, one run, no bound
$WEIR produce conjecture.data --data "$SCRATCH/ref" --partitions 4 --key number < "$SCRATCH/all.ndjson"
$WEIR serve -f "$SCRATCH/p.sql" --data "$SCRATCH/ref" --once --idle-ms 0 --threads "$THREADS" --state-memory 0 2>"$SCRATCH/ref.err" ||
    complain "the reference run failed: $(cat "$SCRATCH/ref.err")"

metric() { curl -s "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
caught_up() { [ "$(curl -s "$URL/metrics" | grep -c '^weir_pipeline_lag_records{stream="conjecture.data",partition="[0-3]"} 0$')" = 4 ]; }
# wait_for COMMAND...: until it succeeds (120 s at most)
wait_for() { local i; for i in $(seq 1200); do "$@" && return 0; sleep 0.1; done; return 1; }
evicted() { [ "$(metric weir_state_evictions_total)" -gt "${1:-0}" ] 2>/dev/null; }
# answers URL: the endpoints and pull queries of the server at URL, one per line
answers() {
    local u=$1 x
    curl -s "$u/longest_step_chain"; echo
    for x in 1 2 4 5 8 16 40 52 160 9232; do curl -s "$u/part/$x"; echo; done
    for x in 1 7 27 97 255 399; do curl -s "$u/plot/$x" | md5sum; done
    for t in $tables; do
        curl -s -X POST "$u/v1/query" -d "{\"sql\": \"SELECT * FROM $t ORDER BY $(key_of $t)\"}" | md5sum
    done
}
key_of() { case $1 in chains) echo number;; value_numbers) echo value, number;; chain_steps) echo number, step;;
                      per_minute) echo number, window_start;; esac; }
tables_of() { # DATA: every table as weir query reads it
    local t
    for t in $tables; do $WEIR query --data "$1" "SELECT * FROM $t ORDER BY $(key_of $t)" | md5sum; done
}
changelogs_of() { # DATA: the engine's outputs, every table's changelog, sorted
    local t
    for t in $tables; do $WEIR consume "$t" --data "$1" --from-beginning -e | sort | md5sum; done
}

$WEIR produce conjecture.data --partitions 4 --key number < "$SCRATCH/in1.ndjson"
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 --idle-ms 0 --threads "$THREADS" --state-memory 1048576
wait_for caught_up && wait_for evicted
ok $? "with a bound of 1 MiB, rows and groups leave memory: $(metric weir_state_evictions_total) so far, $(metric weir_state_memory_bytes) bytes in memory"
before=$(metric weir_state_evictions_total)
$WEIR produce conjecture.data < "$SCRATCH/in2.ndjson" 2>/dev/null
wait_for caught_up && wait_for evicted "$before"
ok $? "the next steps update groups that left memory, and more leave ($(metric weir_state_evictions_total))"
# kill -9 while it works through the last steps, then start again with the bound
$WEIR produce conjecture.data < "$SCRATCH/in3.ndjson" 2>/dev/null
sleep 0.$((RANDOM % 5))
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 --idle-ms 0 --threads "$THREADS" --state-memory 1048576
wait_for caught_up; ok $? "after kill -9 the restarted server catches up"
sleep 0.5 # a checkpoint past the end: memory holds only what the store has not
wait_for evicted; ok $? "after the restart, rows and groups leave memory again"
answers "$URL" > "$SCRATCH/cap.answers"
lines=$(grep -c . "$SCRATCH/cap.answers")
stop_serve

start_serve -f "$SCRATCH/p.sql" --data "$SCRATCH/ref" --idle-ms 0 --threads "$THREADS" --state-memory 0
answers "$URL" > "$SCRATCH/ref.answers"
stop_serve
cmp -s "$SCRATCH/ref.answers" "$SCRATCH/cap.answers"
ok $? "the endpoints and pull queries answer as the run without a bound ($lines answers)"
[ -n "$(grep longest "$SCRATCH/cap.answers")" ] || diag "answers: $(head -3 "$SCRATCH/cap.answers")"
[ "$(tables_of "$SCRATCH/cap")" = "$(tables_of "$SCRATCH/ref")" ]
ok $? "weir query reads the same tables"
[ "$(changelogs_of "$SCRATCH/cap")" = "$(changelogs_of "$SCRATCH/ref")" ]
ok $? "the engine's outputs (every table's changelog) equal the run without a bound's"

# A restart reads the groups from the store; more steps of the same numbers update them.
$WEIR gen collatz -n 5000 --numbers 1:400 --seed 4 --start 2026-11-23T04:00:00Z > "$SCRATCH/in4.ndjson"
$WEIR produce conjecture.data --key number < "$SCRATCH/in4.ndjson" 2>/dev/null # no server: its key given
$WEIR serve -f "$SCRATCH/p.sql" --once --idle-ms 0 --threads "$THREADS" --state-memory 1048576 2>"$SCRATCH/cap.err"; r=$?
ok $r "a bounded run --once over more steps"
[ $r = 0 ] || diag "$(tail -3 "$SCRATCH/cap.err")"
# its reference: every step in one run (a run --once closes every window at its end: the first reference did)
cat "$SCRATCH/all.ndjson" "$SCRATCH/in4.ndjson" |
    $WEIR produce conjecture.data --data "$SCRATCH/ref2" --partitions 4 --key number
$WEIR serve -f "$SCRATCH/p.sql" --data "$SCRATCH/ref2" --once --idle-ms 0 --threads "$THREADS" --state-memory 0 2>/dev/null
(tables_of "$SCRATCH/cap"; changelogs_of "$SCRATCH/cap") > "$SCRATCH/cap.sums"
(tables_of "$SCRATCH/ref2"; changelogs_of "$SCRATCH/ref2") > "$SCRATCH/ref2.sums"
cmp -s "$SCRATCH/cap.sums" "$SCRATCH/ref2.sums"; r=$?
ok $r "after it the tables and outputs still equal the unbounded run's"
[ $r = 0 ] || diag "$(paste -d ' ' "$SCRATCH/cap.sums" "$SCRATCH/ref2.sums")"
finish
