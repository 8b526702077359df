#!/usr/bin/env bash
# push_queries.sh - POST /v1/query with EMIT CHANGES: a push query streams the
# rows of new records that pass its WHERE, projected, as NDJSON lines (or
# Server-Sent Events), from the end or the beginning, until LIMIT rows went or
# the client goes; over a table it sends each change, and a row that leaves
# as "removed". A push query that cannot be one is refused with what to do.
# Past --max-feeds open feeds (push queries and change feeds together), a
# new one is refused with 503, until one ends.
. "$(dirname "$0")/../lib.sh"
plan 19
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM clicks (user TEXT, page TEXT, ms INT) WITH (partitions = 2, key = 'user');
CREATE TABLE rare_pages AS SELECT page, COUNT(*) AS n FROM clicks GROUP BY page HAVING COUNT(*) < 2;
SQL
start_serve -f "$SCRATCH/p.sql" || { echo "Bail out! weir serve did not start"; exit 1; }
post() { curl -s -o /dev/null -w '%{http_code}' --data-binary "$1" "$URL/v1/streams/clicks"; }
# push OUT BODY [curl args...]: a push query's answer into OUT, in the
# background (60 s at most); PUSH_PID is the client.
push() {
    local out=$1 body=$2; shift 2
    curl -sN -m 60 "$@" --data-binary "$body" "$URL/v1/query" > "$out" &
    PUSH_PID=$!
}
# lines_in FILE N: waits (60 s) until FILE has at least N lines.
lines_in() {
    local i
    for i in $(seq 600); do [ "$(wc -l < "$1")" -ge "$2" ] && return 0; sleep 0.1; done
    diag "$1 has $(wc -l < "$1") lines, not $2: $(cat "$1")"
    return 1
}
# subscribers N: waits (60 s) until the server feeds N change feeds.
subscribers() {
    local i
    for i in $(seq 600); do curl -s "$URL/metrics" | grep -qx "weir_sse_subscribers $1" && return 0; sleep 0.1; done
    return 1
}

[ "$(post '{"user":"old","page":"home","ms":1}')" = 200 ]; ok $? "a click from before the push query"
push "$SCRATCH/ndjson" '{"sql": "SELECT user, ms * 2 AS twice FROM clicks WHERE page = '"'"'docs'"'"' EMIT CHANGES LIMIT 2"}'
subscribers 1; ok $? "the push query is a feed of the server"
[ "$(post '{"user":"a","page":"docs","ms":10}
{"user":"b","page":"home","ms":20}
{"user":"c","page":"docs","ms":30}
{"user":"d","page":"docs","ms":40}')" = 200 ]; ok $? "four more clicks"
timeout 60 tail --pid="$PUSH_PID" -f /dev/null; wait "$PUSH_PID"
python3 - "$SCRATCH/ndjson" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert lines[0] == {"columns": [{"name": "user", "type": "TEXT"}, {"name": "twice", "type": "INT"}]}, lines[0]
rows = sorted((l["row"]["user"], l["row"]["twice"]) for l in lines[1:])
assert rows in ([("a", 20), ("c", 60)], [("a", 20), ("d", 80)], [("c", 60), ("d", 80)]), rows
assert all({"partition", "offset", "timestamp"} <= set(l) for l in lines[1:]), lines
assert len(lines) == 3, lines
PY
ok $? "NDJSON: the columns, then the projected rows of new records that pass the WHERE, and the answer ends after LIMIT 2: $(tr '\n' '|' < "$SCRATCH/ndjson")"
subscribers 0; ok $? "the feed is gone once its LIMIT is reached"

push "$SCRATCH/begin" '{"sql": "SELECT user FROM clicks WHERE ms < 15 EMIT CHANGES", "from": "beginning"}'
lines_in "$SCRATCH/begin" 3 && grep -q '"user":"old"' "$SCRATCH/begin" && grep -q '"user":"a"' "$SCRATCH/begin"
ok $? "from beginning: the records there were before it come first"
kill "$PUSH_PID"; wait "$PUSH_PID" 2>/dev/null
gone=1 # the server notices a client is gone when it writes to it, so clicks keep coming
for i in $(seq 60); do
    post '{"user":"g","page":"home","ms":1}' > /dev/null
    curl -s "$URL/metrics" | grep -qx "weir_sse_subscribers 0" && { gone=0; break; }
    sleep 1
done
ok $gone "a client that goes ends its feed"

push "$SCRATCH/sse" 'SELECT * FROM rare_pages EMIT CHANGES' -H 'Accept: text/event-stream'
subscribers 1
[ "$(post '{"user":"e","page":"blog","ms":50}')" = 200 ] && lines_in "$SCRATCH/sse" 4 &&
    [ "$(post '{"user":"f","page":"blog","ms":60}')" = 200 ] && lines_in "$SCRATCH/sse" 7
ok $? "a push query over a table follows its changes"
kill "$PUSH_PID"; wait "$PUSH_PID" 2>/dev/null
python3 - "$SCRATCH/sse" <<'PY'
import json, sys
events = []
for block in open(sys.argv[1]).read().split("\n\n"):
    f = dict(l.split(": ", 1) for l in block.splitlines() if ": " in l and not l.startswith(":"))
    if f: events.append((f["event"], json.loads(f["data"])))
assert events[0] == ("columns", {"columns": [{"name": "page", "type": "TEXT"}, {"name": "n", "type": "INT"}]}), events[0]
assert events[1][0] == "change" and events[1][1]["row"] == {"page": "blog", "n": 1}, events[1]
assert events[2][0] == "change" and events[2][1]["row"] is None and events[2][1]["removed"] == {"page": "blog"}, events[2]
PY
ok $? "Server-Sent Events: the columns, the row, then its removal when it fails HAVING: $(tr '\n' '|' < "$SCRATCH/sse")"

req POST /v1/query --data-binary 'SELECT user FROM clicks ORDER BY user EMIT CHANGES'
expect 400 "cannot sort them" "ORDER BY in a push query: 400 saying why"
req POST /v1/query --data-binary 'SELECT page, COUNT(*) FROM clicks GROUP BY page EMIT CHANGES'
expect 400 "whose changes a push query then follows" "an aggregating push query: 400 naming CREATE TABLE"
req POST /v1/query --data-binary '{"sql": "SELECT * FROM clicks EMIT CHANGES", "from": "middle"}'
expect 400 "'beginning' or 'end'" "a bad from: 400"
stop_serve
$WEIR query 'SELECT * FROM clicks EMIT CHANGES' 2> "$SCRATCH/cli.err"
[ $? -ne 0 ] && grep -q "POST it to the server's /v1/query" "$SCRATCH/cli.err"
ok $? "weir query refuses a push query and names where to send it: $(cat "$SCRATCH/cli.err")"

$WEIR serve -f "$SCRATCH/p.sql" --listen 127.0.0.1:0 --max-feeds 0 2> "$SCRATCH/zero.err"
[ $? -eq 2 ] && grep -q -- "--max-feeds: '0' would refuse every change feed" "$SCRATCH/zero.err"
ok $? "--max-feeds 0 is refused: $(cat "$SCRATCH/zero.err")"
start_serve -f "$SCRATCH/p.sql" --max-feeds 2 || { echo "Bail out! weir serve --max-feeds 2 did not start"; exit 1; }
push "$SCRATCH/capped" '{"sql": "SELECT user FROM clicks WHERE page = '"'"'cap'"'"' EMIT CHANGES LIMIT 1"}'
limited=$PUSH_PID
curl -sN -m 60 "$URL/v1/streams/clicks/changes" > "$SCRATCH/feed" &
feed=$!
subscribers 2; ok $? "--max-feeds 2: a push query and a change feed are open"
req POST /v1/query --data-binary 'SELECT * FROM clicks EMIT CHANGES'
expect 503 "2 change feeds and push queries are open, as many as weir serve --max-feeds allows" \
    "a third push query is refused with 503, naming the cap and the option"
req GET /v1/tables/rare_pages/changes
expect 503 "weir serve --max-feeds" "and so is a third change feed"
[ "$(post '{"user":"h","page":"cap","ms":1}')" = 200 ] && timeout 60 tail --pid="$limited" -f /dev/null && subscribers 1
ok $? "the push query ends at its LIMIT, which frees its place"
push "$SCRATCH/after" '{"sql": "SELECT user FROM clicks EMIT CHANGES"}'
subscribers 2 && [ "$(post '{"user":"i","page":"home","ms":1}')" = 200 ] && lines_in "$SCRATCH/after" 2 && grep -q '"user":"i"' "$SCRATCH/after"
ok $? "a new push query takes the freed place and streams"
kill "$PUSH_PID" "$feed"; wait "$PUSH_PID" "$feed" 2>/dev/null
stop_serve
finish
