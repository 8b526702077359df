#!/usr/bin/env bash
# file_source.sh - a source stream fed from an NDJSON file: read whole, then
# followed as it grows, exactly once across restarts and kill -9, bad lines
# to the dead letters, lines that break the stream's schema to its dead
# letters through the same admission as HTTP ingest, and no other way into
# the stream.
. "$(dirname "$0")/../lib.sh"
plan 11
cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM events (id INT, kind TEXT) WITH (partitions = 3, key = 'kind', connector = 'file', path = '$SCRATCH/in.ndjson');
CREATE TABLE per_kind AS SELECT kind, COUNT(*) AS n, SUM(id) AS ids FROM events GROUP BY kind;
SQL
lines() { local i; for i in $(seq "$1" "$2"); do echo "{\"id\":$i,\"kind\":\"k$((i % 4))\"}"; done; }
total() { $WEIR query 'SELECT n, ids FROM per_kind' | sed 's/.*"n":\([0-9]*\),"ids":\([0-9]*\).*/\1 \2/' | awk '{ n += $1; s += $2 } END { print n + 0, s + 0 }'; }

lines 1 1000 > "$SCRATCH/in.ndjson"
$WEIR serve -f "$SCRATCH/p.sql" --once 2>/dev/null; ok $? "serve --once reads the file"
[ "$(total)" = "1000 500500" ]; ok $? "all 1000 lines counted once"
{ lines 1001 1500; echo '{"id": oops}'; } >> "$SCRATCH/in.ndjson"
$WEIR serve -f "$SCRATCH/p.sql" --once 2>/dev/null && [ "$(total)" = "1500 1125750" ]
ok $? "a second run reads only the new lines"
[ "$($WEIR consume events.dlq --from-beginning -e | wc -l)" = 1 ]; ok $? "the bad line is in the dead letters"

# Followed while it grows, killed, restarted: still each line once.
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 50
for k in $(seq 4); do lines $((1501 + (k - 1) * 500)) $((1500 + k * 500)) >> "$SCRATCH/in.ndjson"; sleep 0.2; done
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
lines 3501 4000 >> "$SCRATCH/in.ndjson"
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 50
n=0
for i in $(seq 600); do
    n=$(curl -s "$URL/v1/query" -d '{"sql":"SELECT n FROM per_kind"}' | grep -o '"n":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
    [ "$n" = 4000 ] && break
    sleep 0.1
done
[ "$n" = 4000 ]; ok $? "followed as it grew, across kill -9: 4000 lines, each once ($n)"
STATUS=$(curl -s -o "$SCRATCH/body" -w '%{http_code}' -X POST "$URL/v1/streams/events" -d '{"id":1,"kind":"x"}')
[ "$STATUS" = 409 ] && grep -q "fed by its file connector" "$SCRATCH/body"; ok $? "HTTP ingest into it is refused (409)"
stop_serve
# A schema on a file-fed stream: the lines that break it go to the dead
# letters (reason schema), the others to the stream, and a restart still
# reads each line once, also when the file's last lines were dead letters.
mkdir -p "$SCRATCH/schemas"
echo '{"type":"object","properties":{"id":{"type":"integer","minimum":0}},"required":["id"]}' > "$SCRATCH/schemas/event.json"
cat > "$SCRATCH/s.sql" <<SQL
CREATE STREAM checked (id INT, kind TEXT) WITH (partitions = 2, key = 'kind', connector = 'file', path = '$SCRATCH/checked.ndjson', schema = 'event');
SQL
mixed() { local i; for i in $(seq "$1" "$2"); do if [ $((i % 10)) = 0 ]; then echo "{\"id\":-$i}"; else echo "{\"id\":$i,\"kind\":\"k$((i % 3))\"}"; fi; done; }
held() { echo "$(WEIR_DATA="$SCRATCH/d3" $WEIR consume checked --from-beginning -e | wc -l) $(WEIR_DATA="$SCRATCH/d3" $WEIR consume checked.dlq --from-beginning -e | grep -c '"reason":"schema"')"; }
mixed 1 500 > "$SCRATCH/checked.ndjson"
$WEIR serve -f "$SCRATCH/s.sql" --data "$SCRATCH/d3" --schemas "$SCRATCH/schemas" --once 2>"$SCRATCH/err3"
[ "$(held)" = "450 50" ]; ok $? "lines breaking the schema go to the dead letters: 450 records and 50 dead letters ($(held); $(tail -1 "$SCRATCH/err3"))"
mixed 501 1000 >> "$SCRATCH/checked.ndjson" # its last line is a dead letter
$WEIR serve -f "$SCRATCH/s.sql" --data "$SCRATCH/d3" --schemas "$SCRATCH/schemas" --once 2>/dev/null
[ "$(held)" = "900 100" ]; ok $? "a second run reads the new lines only ($(held))"
$WEIR serve -f "$SCRATCH/s.sql" --data "$SCRATCH/d3" --schemas "$SCRATCH/schemas" --once 2>/dev/null
[ "$(held)" = "900 100" ]; ok $? "a run after a dead letter was the last line reads nothing again ($(held))"
WEIR_DATA="$SCRATCH/d3" $WEIR consume checked.dlq --from-beginning -e | tail -1 | grep -qF '"record":"{\"id\":-1000}"'
ok $? "the dead letter keeps the line as it was"

printf 'CREATE STREAM e (id INT) WITH (connector = %s);\n' "'file'" > "$SCRATCH/bad.sql"
$WEIR serve -f "$SCRATCH/bad.sql" --data "$SCRATCH/d2" --once 2>"$SCRATCH/err"
grep -q "bad.sql:1:1: stream e: connector 'file' needs option path (its options: path; " "$SCRATCH/err"; ok $? "a file connector without a path is refused at load"
finish
