#!/usr/bin/env bash
# query.sh - pull queries with weir query: a table's current rows (the
# latest per key), WHERE, ORDER BY (ASC, DESC, by alias, several keys),
# LIMIT, projections, stream scans, and errors that say where.
. "$(dirname "$0")/../lib.sh"
plan 13
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM steps (number UINT, step UINT, value UINT) WITH (partitions = 2, key = 'number');
CREATE TABLE chains AS SELECT number, MAX(step) AS steps, MAX(value) AS peak FROM steps GROUP BY number;
SQL
# Collatz chains of 3, 6 and 7, one record per step.
awk 'BEGIN { split("3 6 7", ns, " "); for (i = 1; i <= 3; i++) { n = ns[i]; v = n; s = 0
    while (1) { printf "{\"number\":%d,\"step\":%d,\"value\":%d}\n", n, s, v; if (v == 1) break; v = (v % 2) ? 3 * v + 1 : v / 2; s++ } } }' |
    $WEIR produce steps --partitions 2 --key number
$WEIR serve -f "$SCRATCH/p.sql" --once; ok $? "serve the pipeline"
q() { $WEIR query "$1" | tr '\n' ' '; }
[ "$(q 'SELECT * FROM chains ORDER BY number')" = '{"number":3,"steps":7,"peak":16} {"number":6,"steps":8,"peak":16} {"number":7,"steps":16,"peak":52} ' ]
ok $? "a table's rows are its latest row per key"
[ "$(q 'SELECT number, steps FROM chains ORDER BY steps DESC LIMIT 1')" = '{"number":7,"steps":16} ' ]
ok $? "ORDER BY DESC LIMIT 1: the longest chain"
[ "$(q 'SELECT number AS n, peak FROM chains ORDER BY peak, n DESC')" = '{"n":6,"peak":16} {"n":3,"peak":16} {"n":7,"peak":52} ' ]
ok $? "ties broken by a second key given by its alias"
[ "$(q 'SELECT number FROM chains WHERE peak > 20')" = '{"number":7} ' ]
ok $? "WHERE on a table"
[ "$(q 'SELECT number, step FROM steps WHERE value = 16 ORDER BY number')" = '{"number":3,"step":3} {"number":6,"step":4} {"number":7,"step":12} ' ]
ok $? "a stream scan: which chains go through 16, and at which step"
[ "$($WEIR query 'SELECT number FROM steps LIMIT 5' | wc -l)" -eq 5 ]; ok $? "LIMIT on a stream scan"
$WEIR query 'SELECT nope FROM chains' 2>"$SCRATCH/err"; rc=$?
[ $rc -eq 2 ] && grep -q "1:8: unknown column nope in chains (it has: number, steps, peak)" "$SCRATCH/err"; ok $? "unknown column: exit 2, position and columns"
$WEIR query 'SELECT number FROM chains GROUP BY number' 2>"$SCRATCH/err"; rc=$?
[ $rc -eq 2 ] && grep -q "belong to CREATE TABLE" "$SCRATCH/err"; ok $? "GROUP BY in a pull query is refused with the reason"
# DROP: the stream, its records and its group offsets go; a new stream of the name starts empty.
$WEIR consume steps --from-beginning -e --group g >/dev/null
$WEIR query 'DROP TABLE chains' 2>/dev/null; ok $? "DROP TABLE deletes the table's stream"
! $WEIR streams | grep -q '^chains '; ok $? "it is no longer listed"
$WEIR query 'DROP STREAM chains' 2>"$SCRATCH/err"; rc=$?
[ $rc -eq 1 ] && grep -q "stream 'chains' does not exist" "$SCRATCH/err" && $WEIR query 'DROP STREAM IF EXISTS chains' 2>/dev/null
ok $? "dropping it again fails, unless IF EXISTS"
$WEIR query 'DROP STREAM steps' 2>/dev/null && printf '{"number":1,"step":0,"value":1}\n' | $WEIR produce steps &&
    [ "$($WEIR consume steps --group g --exit | wc -l)" -eq 1 ]
ok $? "a stream created again after DROP starts empty, and old group offsets are gone"
finish
