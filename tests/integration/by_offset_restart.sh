#!/usr/bin/env bash
# by_offset_restart.sh - LATEST_BY_OFFSET and EARLIEST_BY_OFFSET across
# restarts of weir serve (issue 17): their values and the places of their
# records are in the groups the state store keeps, so a second run over
# more records keeps each key's earliest value from the first run, and
# after kill -9 mid-run the table still equals what one uninterrupted pass
# gives. Keys interleave over 4 partitions; the values are neither the
# least nor the greatest, so MIN or MAX would not pass for them. The
# expected rows come from awk over the input (a key's records share a
# partition, so offset order is file order).
. "$(dirname "$0")/../lib.sh"
plan 4
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM ev (k INT, v INT, note TEXT) WITH (partitions = 4, key = 'k');
CREATE TABLE kv AS SELECT k, LATEST_BY_OFFSET(v) AS last_v, EARLIEST_BY_OFFSET(v) AS first_v,
  LATEST_BY_OFFSET(note) AS note, COUNT(*) AS n FROM ev GROUP BY k;
SQL
# 6000 records over 50 keys; every 7th has no note (ignored by LATEST_BY_OFFSET).
awk 'BEGIN { for (i = 0; i < 6000; i++) { v = (i * 7919) % 1000; note = i % 7 ? "\"n" i "\"" : "null";
             printf "{\"k\":%d,\"v\":%d,\"note\":%s}\n", i % 50, v, note } }' > "$SCRATCH/all.ndjson"
head -n 2000 "$SCRATCH/all.ndjson" > "$SCRATCH/a.ndjson"
sed -n '2001,4000p' "$SCRATCH/all.ndjson" > "$SCRATCH/b.ndjson"
tail -n +4001 "$SCRATCH/all.ndjson" > "$SCRATCH/c.ndjson"
awk -F'[:,}]' '{ k = $2; v = $4; note = $6; if (!(k in first)) first[k] = v; last[k] = v; n[k]++;
                 if (note != "null") lastnote[k] = note }
               END { for (k in n) printf "{\"k\":%d,\"last_v\":%d,\"first_v\":%d,\"note\":%s,\"n\":%d}\n",
                                      k, last[k], first[k], lastnote[k], n[k] }' "$SCRATCH/all.ndjson" | sort > "$SCRATCH/want"
table() { $WEIR query "SELECT k, last_v, first_v, note, n FROM kv" | sort; }

$WEIR produce ev --partitions 4 --key k < "$SCRATCH/a.ndjson" &&
    $WEIR serve -f "$SCRATCH/p.sql" --once 2>"$SCRATCH/once.err"
ok $? "a first run over 2,000 records"
[ -s "$SCRATCH/once.err" ] && diag "$(cat "$SCRATCH/once.err")"
$WEIR produce ev < "$SCRATCH/b.ndjson" && $WEIR serve -f "$SCRATCH/p.sql" --once 2>"$SCRATCH/once.err"
ok $? "a second run over 2,000 more, from the first's checkpoint"

# The last third while a server runs, killed with -9 half-way, then a run to the end.
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 50
$WEIR produce ev < "$SCRATCH/c.ndjson" >/dev/null 2>&1
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
$WEIR serve -f "$SCRATCH/p.sql" --once 2>"$SCRATCH/once.err"
ok $? "after kill -9 a run to the end of the input"
table > "$SCRATCH/got"
[ "$(wc -l < "$SCRATCH/want")" = 50 ] && cmp -s "$SCRATCH/want" "$SCRATCH/got"
ok $? "each key's latest and earliest values (and last non-null note) equal one pass over the input's"
cmp -s "$SCRATCH/want" "$SCRATCH/got" || diag "$(diff "$SCRATCH/want" "$SCRATCH/got" | head -10)"
finish
