#!/usr/bin/env bash
# file_sink.sh - the file sink: NDJSON out, exactly once across kill -9
# (the file is cut back to its last progress record on restart), and a
# clear error for a sink weir cannot deliver.
. "$(dirname "$0")/../lib.sh"
plan 6
cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM events (id INT, kind TEXT) WITH (partitions = 3, key = 'kind');
CREATE STREAM big AS SELECT id, kind FROM events WHERE id % 2 = 0;
CREATE SINK out FROM events WITH (connector = 'file', path = '$SCRATCH/out.ndjson');
CREATE SINK evens FROM big WITH (connector = 'file', path = '$SCRATCH/evens.ndjson');
SQL
post() {
    local body="" i
    for i in $(seq "$1" "$2"); do body+="{\"id\":$i,\"kind\":\"k$((i % 7))\"}"$'\n'; done
    printf '%s' "$body" > "$SCRATCH/post.ndjson"
    curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$SCRATCH/post.ndjson" "$URL/v1/streams/events"
}
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 50
[ "$(post 1 5000)" = 200 ]; ok $? "5000 events accepted"
for i in $(seq 3); do post $((5001 + (i - 1) * 5000)) $((i * 5000 + 5000)) >/dev/null; done
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
diag "at the kill: $(lines "$SCRATCH/out.ndjson") and $(lines "$SCRATCH/evens.ndjson") lines"
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 50
# Delivered once both files are complete and both sinks have nothing left to confirm (60 s at most).
for i in $(seq 1200); do
    [ "$(lines "$SCRATCH/out.ndjson")" -ge 20000 ] && [ "$(lines "$SCRATCH/evens.ndjson")" -ge 10000 ] &&
        [ "$(curl -s "$URL/v1/sinks" | grep -o '"lag":0,' | wc -l)" = 2 ] && break
    sleep 0.05
done
ids() { sed 's/.*"id":\([0-9]*\).*/\1/' "$1" | sort -n; }
[ "$(lines "$SCRATCH/out.ndjson")" = 20000 ] && [ "$(ids "$SCRATCH/out.ndjson" | uniq | wc -l)" = 20000 ]
ok $? "after kill -9 and a restart the source's sink holds each of 20000 events once"
[ "$(lines "$SCRATCH/evens.ndjson")" = 10000 ] && [ "$(ids "$SCRATCH/evens.ndjson" | uniq | wc -l)" = 10000 ]
ok $? "and the derived stream's sink each of its 10000 rows once"
grep '"kind":"k3"' "$SCRATCH/out.ndjson" | sed 's/.*"id":\([0-9]*\).*/\1/' | sort -nc 2>/dev/null
ok $? "in order per key"
stop_serve

printf 'CREATE STREAM e (id INT);\nCREATE SINK x FROM e WITH (connector = %s);\n' "'carrier-pigeon'" > "$SCRATCH/bad.sql"
$WEIR serve -f "$SCRATCH/bad.sql" --data "$SCRATCH/d2" --once 2>"$SCRATCH/err"; rc=$?
[ $rc = 1 ] && grep -q "sink x: unknown connector carrier-pigeon (known: file, kafka" "$SCRATCH/err"; ok $? "an unknown connector: exit 1 and the known ones"
printf 'CREATE STREAM e (id INT);\nCREATE SINK x FROM e WITH (connector = %s);\n' "'file'" > "$SCRATCH/bad.sql"
$WEIR serve -f "$SCRATCH/bad.sql" --data "$SCRATCH/d3" --once 2>"$SCRATCH/err"; rc=$?
[ $rc = 1 ] && grep -q "bad.sql:2:1: sink x: connector .file. needs option path (its options: path)" "$SCRATCH/err"; ok $? "a missing option: exit 1 and which"
finish
