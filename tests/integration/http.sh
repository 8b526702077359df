#!/usr/bin/env bash
# http.sh - weir serve's HTTP API over real HTTP (curl): every route, every
# error status and its message, the schema registry, Server-Sent Events
# with resume, metrics, auth on and off, oversized bodies, slow clients.
. "$(dirname "$0")/../lib.sh"
plan 83

cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM clicks (user TEXT, page TEXT, ms INT, ts TIMESTAMP) WITH (partitions = 2, key = 'user', timestamp = 'ts');
CREATE STREAM readings (id TEXT, speed DOUBLE) WITH (key = 'id', schema = 'reading', on_invalid = 'dead_letter');
CREATE STREAM strict_readings (id TEXT, speed DOUBLE) WITH (schema = 'reading');
CREATE TABLE per_page AS SELECT page, COUNT(*) AS n, SUM(ms) AS total FROM clicks GROUP BY page;
CREATE ROUTE 'POST /pages/{page}/click' INTO clicks;
SQL

records() { # records STREAM: its committed record count, from GET /v1/streams
    curl -s "$URL/v1/streams" | node -e 'const d = JSON.parse(require("fs").readFileSync(0));
        const s = d.streams.find(s => s.name === process.argv[1]); console.log(s ? s.records : "none")' "$1"
}

start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100; ok $? "serve listens on a free port"

req GET /healthz
expect 200 '"status":"ok"' "GET /healthz"

# ---- ingest ----
req POST /v1/streams/clicks --data-binary $'{"user":"a","page":"home","ms":5,"ts":"2026-11-23T10:00:00Z"}\n\n{"user":"b","page":"home","ms":7,"ts":"2026-11-23T10:00:01Z"}\n'
expect 200 '"accepted":2' "NDJSON: 200 once durable, with the count"
[[ "$BODY" == *'"partitions":{'*'"first_offset":'* ]]; ok $? "the answer says where the records went"
req POST /v1/streams/clicks -H 'Content-Type: application/json' -d '[{"user":"c","page":"about","ms":1,"ts":"2026-11-23T10:00:02Z"}, {"user":"d","page":"home","ms":2,"ts":"2026-11-23T10:00:03Z"}]'
expect 200 '"accepted":2' "a JSON array of objects"
req POST /v1/streams/clicks -d '{"user":"e","page":"home","ms":4,"ts":"2026-11-23T10:00:04Z"}'
expect 200 '"accepted":1' "one object"
[ "$(records clicks)" = 5 ]; ok $? "five records are in the log"

req POST /v1/streams/clicks --data-binary $'{"user":"x","page":"p","ms":1}\n{"user": "y",, }\n'
expect 400 'bad JSON at line 2, column 14' "bad JSON: 400 with line and column"
[[ "$BODY" == *"nothing was stored"* ]] && [ "$(records clicks)" = 5 ]; ok $? "and nothing of the batch was stored"
req POST /v1/streams/clicks -d '[{"user":"x"}, 3]'
expect 400 'record 1 of the array is not a JSON object' "an array element that is not an object"
req POST /v1/streams/clicks -d '   '
expect 400 'the body holds no records' "an empty body"
req POST /v1/streams/nope -d '{}'
expect 404 'no stream nope in the pipeline' "an unknown stream: 404"
req POST /v1/streams/per_page -d '{}'
expect 409 'only source streams take records' "a table takes no records: 409"

# ---- route templates ----
req POST '/pages/about/click?user=zed' -d '{"ms":3,"ts":"2026-11-23T10:00:05Z"}'
expect 200 '"accepted":1' "a route template: path parameter + query argument + body"
req POST '/pages/about/click?user=amy&ms=10&ts=2026-11-23T10:00:06Z'
expect 200 '"accepted":1' "a route template with no body"
req POST '/pages/about/click?bogus=1'
expect 400 'query parameter bogus is not a column of clicks' "an unknown query argument"
req POST '/pages/about/click?ms=ten'
expect 400 "query parameter ms: 'ten' is not of type INT" "a query argument of the wrong type"
req POST '/pages/about/click' -d '{"page":"other"}'
expect 400 'field page is given both in the URL and in the body' "a field both in the URL and the body"
req POST '/pages/about/click' -d '[1]'
expect 400 'the body must be one JSON object' "a route body that is not an object"
req GET '/pages/about/click'
expect 405 'GET is not allowed on /pages/about/click' "a route's path with another method: 405"

# ---- tables and queries ----
sleep 0.3
req GET /v1/tables
expect 200 '"name":"per_page"' "GET /v1/tables"
[[ "$BODY" == *'"primary_key":["page"]'* ]]; ok $? "with the primary key"
req GET '/v1/tables/per_page?key=about'
expect 200 '"rows":[{"page":"about","n":3,"total":14}]' "GET /v1/tables/{t}?key= : the live row"
req GET '/v1/tables/per_page'
expect 200 '{"page":"home","n":4,"total":18}' "GET /v1/tables/{t}: every row"
req GET '/v1/tables/per_page?limit=many'
expect 400 "limit must be a number of rows" "a bad limit"
req GET /v1/tables/clicks
expect 404 'no table clicks in the pipeline' "a stream is not a table"
req POST /v1/query -d '{"sql":"SELECT page, n FROM per_page WHERE n > 3"}'
expect 200 '{"columns":[{"name":"page","type":"TEXT"},{"name":"n","type":"INT"}],"rows":[{"page":"home","n":4}]}' "POST /v1/query"
req POST /v1/query -d 'SELECT user FROM clicks WHERE page = '"'"'home'"'"' ORDER BY user LIMIT 2'
expect 200 '"rows":[{"user":"a"},{"user":"b"}]' "a pull query over a stream, SQL as the body"
req POST /v1/query -d '{"sql":"SELEC 1"}'
expect 400 'SQL 1:1' "bad SQL: 400 with line and column"
req POST /v1/query -d '{"query":"SELECT 1"}'
expect 400 'expected {\"sql\": \"SELECT ...\"}' "a query without sql"
req GET /v1/pipeline
expect 200 'CREATE ROUTE' "GET /v1/pipeline"
req GET /v1/streams
expect 200 '"name":"clicks.dlq","kind":"dead_letters"' "GET /v1/streams lists the dead letters too"

# ---- schema registry ----
req POST /v1/streams/strict_readings -d '{"id":"r1","speed":1}'
expect 409 "schema subject 'reading', which has no version yet" "a stream bound to an empty subject refuses"
schema='{"type":"object","required":["id"],"properties":{"id":{"type":"string","minLength":1},"speed":{"type":"number","minimum":0,"maximum":100}},"additionalProperties":false}'
req POST /v1/schemas/reading -d "$schema"
expect 201 '"version":1' "POST /v1/schemas/{subject}: 201"
req POST /v1/schemas/reading -d "$schema"
expect 200 '"version":1' "the same schema again: 200, same version"
req POST /v1/schemas/reading -d '{"type":"object","required":["id","speed"]}'
expect 409 'field speed becomes required' "an incompatible version: 409 and why"
req POST /v1/schemas/reading -d '{"type":"object","required":["id"],"properties":{"id":{"type":"string","minLength":1},"speed":{"type":"number","minimum":0,"maximum":200},"note":{"type":"string"}},"additionalProperties":false}'
expect 201 '"version":2' "a compatible version (a wider range, a new optional field): 201"
req POST /v1/schemas/other -d '{"oneOf":[]}'
expect 422 'oneOf is not supported' "a schema weir cannot check: 422"
req POST /v1/schemas/other -d '{"type":'
expect 400 'bad JSON at line 1' "a schema that is not JSON: 400"
req GET /v1/schemas
expect 200 '{"subject":"reading","latest":2}' "GET /v1/schemas"
req GET /v1/schemas/reading/versions/1
expect 200 '"maximum":100' "GET /v1/schemas/{subject}/versions/{v}"
req GET /v1/schemas/reading
expect 200 '"version":2,"versions":2' "GET /v1/schemas/{subject}: the latest"
[[ "$BODY" == *'"maximum":200'* ]]; ok $? "as JSON, not a string"
req GET /v1/schemas/reading/versions/9
expect 404 'subject reading has no version 9' "a missing version: 404"
req GET /v1/schemas/nobody
expect 404 'no schema subject nobody' "a missing subject: 404"

req POST /v1/streams/strict_readings --data-binary $'{"id":"r1","speed":1}\n{"id":"r2","speed":-1}\n{"speed":2}\n'
expect 422 '{"index":1,"line":2,"field":"speed","rule":"minimum"' "schema violations: 422, one entry per bad record"
[[ "$BODY" == *'{"index":2,"line":3,"field":"id","rule":"required"'* ]] && [ "$(records strict_readings)" = 0 ]
ok $? "on_invalid = reject: the whole batch is refused"
req POST /v1/streams/readings --data-binary $'{"id":"r1","speed":1}\n{"id":"r2","speed":300}\n{"id":"r3","speed":3}\n'
expect 422 '"accepted":2' "on_invalid = dead_letter: the good records are kept"
[[ "$BODY" == *'"dead_lettered":1'* ]] && [ "$(records readings)" = 2 ] && [ "$(records readings.dlq)" = 1 ]
ok $? "and the bad one is in readings.dlq"

# ---- Server-Sent Events ----
curl -s -N "$URL/v1/tables/per_page/changes" > "$SCRATCH/sse" &
sse=$!
sleep 0.3
req POST '/pages/faq/click?user=sse&ms=1&ts=2026-11-23T10:00:07Z'
for i in $(seq 1200); do grep -q '"page":"faq"' "$SCRATCH/sse" && break; sleep 0.05; done
kill $sse; wait $sse 2>/dev/null
grep -q '^data: {"partition":[01],"offset":[0-9]*,"timestamp":[0-9]*,"row":{"page":"faq","n":1,"total":1}}' "$SCRATCH/sse"
ok $? "GET /v1/tables/{t}/changes: an update arrives as an event"
id=$(sed -n 's/^id: //p' "$SCRATCH/sse" | head -1)
[[ "$id" =~ ^[0-9]+,[0-9]+$ ]]; ok $? "its id lists every partition's next offset ($id)"
req POST '/pages/faq/click?user=sse&ms=2&ts=2026-11-23T10:00:08Z'
sleep 0.3
curl -s -N -m 1 -H "Last-Event-ID: $id" "$URL/v1/tables/per_page/changes" > "$SCRATCH/sse2"
! grep -q '"n":1,' "$SCRATCH/sse2" && grep -q '"row":{"page":"faq","n":2,"total":3}' "$SCRATCH/sse2"
ok $? "Last-Event-ID resumes after the last event seen"
curl -s -N -m 1 "$URL/v1/streams/clicks/changes?from=beginning" > "$SCRATCH/sse3"
[ "$(grep -c '^data:' "$SCRATCH/sse3")" = 9 ]; ok $? "GET /v1/streams/{s}/changes?from=beginning replays the stream"
req GET /v1/tables/per_page/changes -H 'Last-Event-ID: 1'
expect 400 'Last-Event-ID must list 2 offsets' "a bad Last-Event-ID: 400"
req GET /v1/streams/nope/changes
expect 404 'nope' "changes of an unknown stream: 404"

# ---- ops ----
req GET /metrics
expect 200 'weir_ingest_records_total{stream="clicks"} 9' "GET /metrics counts ingest"
[[ "$BODY" == *'weir_dead_letters_total{stream="readings",reason="schema"} 1'* && "$BODY" == *'weir_http_request_duration_seconds_bucket{le="+Inf"}'* ]]
ok $? "with dead letters by reason and the HTTP latency histogram"
if command -v promtool >/dev/null; then
    echo "$BODY" | promtool check metrics >"$SCRATCH/promtool" 2>&1; ok $? "promtool check metrics accepts it"
else
    ok 1 "promtool check metrics accepts it (promtool is missing: scripts/deps.sh installs prometheus)"
fi
req GET /openapi.json
expect 200 '"openapi":"3.0.3"' "GET /openapi.json"
missing=$(for p in /healthz /metrics /v1/streams '/v1/streams/{s}' '/v1/streams/{s}/changes' /v1/tables '/v1/tables/{t}' \
          '/v1/tables/{t}/changes' /v1/query /v1/pipeline /v1/schemas '/v1/schemas/{subject}' \
          '/v1/schemas/{subject}/versions/{version}' '/pages/{page}/click'; do
    [[ "$BODY" == *"\"$p\":{"* ]] || echo "$p"; done)
[ -z "$missing" ]; ok $? "it describes every route ${missing:+(missing: $missing)}"
req DELETE /v1/tables
expect 405 'DELETE is not allowed on /v1/tables' "a wrong method: 405"
req GET /v1/nothing
expect 404 'no route for GET /v1/nothing' "an unknown API path: 404"
STATUS=$(curl -s -o "$SCRATCH/body" -w '%{http_code}' --path-as-is "$URL/../../etc/passwd"); BODY=$(cat "$SCRATCH/body")
expect 404 'no file' "no path traversal out of the dashboard's directory"
STATUS=$(curl -s -o "$SCRATCH/body" -w '%{http_code}' "$URL/%2e%2e/%2e%2e/etc/passwd"); BODY=$(cat "$SCRATCH/body")
expect 404 'no file' "nor with escaped dots"

# Slow clients: connections that send half a request do not hold up the others.
for i in $(seq 20); do
    (exec 3<>"/dev/tcp/127.0.0.1/${URL##*:}"; printf 'POST /v1/streams/clicks HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"us' >&3; sleep 3) &
done
sleep 0.3
start=$(date +%s%N)
req GET /healthz
[ "$STATUS" = 200 ] && [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 500 ]; ok $? "20 stalled clients do not slow /healthz"
[ "$(records clicks)" = 9 ]; ok $? "and their half-sent records are not stored"

stop_serve; ok $? "serve stops cleanly on SIGTERM"
wait 2>/dev/null

# ---- auth and limits ----
start_serve -f "$SCRATCH/p.sql" --token s3cret --max-body 1000
req GET /healthz
expect 200 '"status":"ok"' "with --token, /healthz stays open"
req GET /v1/streams
expect 401 "needs the header 'Authorization: Bearer TOKEN'" "without the token: 401"
req GET /v1/streams -H 'Authorization: Bearer wrong'
expect 401 "Bearer" "a wrong token: 401"
req GET /v1/streams -H 'Authorization: Bearer s3cret'
expect 200 '"streams"' "the right token: 200"
curl -s -c "$SCRATCH/cookies" -o /dev/null "$URL/v1/tables?token=s3cret"
req GET /v1/tables -b "$SCRATCH/cookies"
expect 200 '"tables"' "?token= sets a cookie that browsers then send (EventSource cannot send headers)"
req POST /v1/streams/clicks -H 'Authorization: Bearer s3cret' --data-binary "$(head -c 2000 /dev/zero | tr '\0' ' ')"
expect 413 'larger than the limit of 1000 bytes' "an oversized body (Content-Length): 413"
req POST /v1/streams/clicks -H 'Authorization: Bearer s3cret' -H 'Transfer-Encoding: chunked' --data-binary "$(head -c 2000 /dev/zero | tr '\0' ' ')"
expect 413 'larger than the limit of 1000 bytes' "an oversized chunked body: 413"
STATUS=$(curl -s -o "$SCRATCH/body" -w '%{http_code}' -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" "$URL/healthz")
[ "$STATUS" -ge 400 ] && [ "$STATUS" -lt 500 ]; ok $? "oversized headers are refused ($STATUS)"
stop_serve; ok $? "serve stops cleanly"
grep -q "listening on" "$SCRATCH/serve.err"; ok $? "and said where it listened"

# Overload: more bytes waiting for their commit than allowed -> 503 with Retry-After, nothing stored.
start_serve -f "$SCRATCH/p.sql" --data "$SCRATCH/d4" --max-inflight 100
STATUS=$(curl -s -D "$SCRATCH/headers" -o "$SCRATCH/body" -w '%{http_code}' -X POST --data-binary \
    '{"user":"o","page":"p","ms":1,"ts":"2026-11-23T10:00:00Z","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}' "$URL/v1/streams/clicks")
BODY=$(cat "$SCRATCH/body")
expect 503 'ingest is saturated' "overload: 503 and why"
grep -qi '^Retry-After: 1' "$SCRATCH/headers" && [ "$(records clicks)" = 0 ]; ok $? "with Retry-After, and nothing stored"
stop_serve
start_serve -f "$SCRATCH/p.sql" --data "$SCRATCH/d5" --max-bodies 1000
STATUS=$(curl -s -o "$SCRATCH/body" -w '%{http_code}' -X POST --data-binary "$(head -c 3000 /dev/zero | tr '\0' ' ')" "$URL/v1/streams/clicks")
BODY=$(cat "$SCRATCH/body")
expect 503 'bytes of request bodies already' "request bodies in memory are bounded over all connections: 503"
stop_serve
# A disk quota: ingest is refused (503, Retry-After) once the log holds that much.
start_serve -f "$SCRATCH/p.sql" --data "$SCRATCH/d6" --disk-quota 3000
for i in $(seq 30); do post_status=$(curl -s -o "$SCRATCH/body" -w '%{http_code}' -X POST "$URL/v1/streams/clicks" \
    -d '{"user":"q","page":"quota","ms":1,"ts":"2026-11-23T10:00:00Z"}'); [ "$post_status" = 503 ] && break; sleep 0.05; done
STATUS=$post_status; BODY=$(cat "$SCRATCH/body")
expect 503 'at its disk quota of 3000 (--disk-quota)' "--disk-quota: ingest answers 503 once the log is full"
stop_serve

# Ingest's dead letters are readable at once, though no checkpoint follows them (pipeline outputs are
# read up to the last checkpoint): a batch of only a bad record gives the pipeline nothing to read.
mkdir -p "$SCRATCH/schemas" && echo "$schema" > "$SCRATCH/schemas/reading.json"
cat > "$SCRATCH/p5.sql" <<'SQL'
CREATE STREAM readings (id TEXT, speed DOUBLE) WITH (key = 'id', schema = 'reading', on_invalid = 'dead_letter');
CREATE STREAM fast AS SELECT id FROM readings WHERE speed > 50;
SQL
start_serve -f "$SCRATCH/p5.sql" --data "$SCRATCH/d7" --schemas "$SCRATCH/schemas" --checkpoint-ms 3600000
req POST /v1/streams/readings --data-binary $'{"id":"r4","speed":500}\n'
dead=$($WEIR consume readings.dlq --data "$SCRATCH/d7" --from-beginning --exit 2>&1)
[[ "$dead" == *'r4'* ]]; ok $? "weir consume reads an ingest dead letter at once while serve runs: $(echo "$dead" | tail -1)"
stop_serve

# A port in use is a clear error.
start_serve -f "$SCRATCH/p.sql" --data "$SCRATCH/d2"
port=${URL##*:}
$WEIR serve -f "$SCRATCH/p.sql" --data "$SCRATCH/d3" --listen "127.0.0.1:$port" 2>"$SCRATCH/err2"; rc=$?
[ $rc = 1 ] && grep -q "cannot listen on 127.0.0.1:$port" "$SCRATCH/err2"; ok $? "a port in use: exit 1 and why"
stop_serve
finish
