#!/usr/bin/env bash
# statements.sh - statements at runtime (POST /v1/statements, weir sql): a
# server with only a source stream takes records, a windowed table is added
# with weir sql and its rows equal those of a pipeline that declared it from
# the start (an independent run over the same records); the table survives a
# restart and a kill -9; CREATE OR REPLACE, DROP, a route added at runtime,
# the refusals, and a pipeline file that contradicts the added statements.
. "$(dirname "$0")/../lib.sh"
plan 34
data="$SCRATCH/data"
base="$SCRATCH/base.sql"
full="$SCRATCH/full.sql"
cat >"$base" <<EOF
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP) WITH (timestamp = 'ts', key = 'user_id', partitions = 2);
CREATE STREAM pages AS SELECT page FROM clicks;
CREATE SINK archive FROM clicks WITH (connector = 'file', path = '$SCRATCH/archive.ndjson');
EOF
table="CREATE TABLE per_page AS SELECT page, window_start, COUNT(*) AS n, COUNT(DISTINCT user_id) AS users FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE) EMIT CHANGES"
{ grep -v "CREATE SINK" "$base"; echo "$table;"; } >"$full" # the oracle delivers nowhere
records() { # records FROM TO: clicks FROM..TO, a record every 7 s over 5 users and 3 pages
    local i
    for i in $(seq "$1" "$2"); do
        printf '{"user_id":"u%d","page":"/p%d","ts":"2026-01-01T00:%02d:%02dZ"}\n' $((i % 5)) $((i % 3)) $((i * 7 / 60)) $((i * 7 % 60))
    done
}
post() { req POST /v1/streams/clicks --data-binary "$1"; [ "$STATUS" = 200 ] || diag "ingest: $STATUS $BODY"; }
rows() { req GET "/v1/tables/$1"; echo "$BODY" | python3 -c 'import json,sys; print(json.dumps(sorted(json.load(sys.stdin)["rows"], key=lambda r: json.dumps(r, sort_keys=True)), sort_keys=True))'; }
# the oracle: the pipeline that declared the table from the start, over the same records
oracle() {
    rm -rf "$SCRATCH/oracle"
    records 0 "$1" | $WEIR produce clicks --key user_id --partitions 2 --data "$SCRATCH/oracle" >/dev/null 2>&1 &&
        $WEIR serve --once -f "$full" --data "$SCRATCH/oracle" 2>/dev/null &&
        $WEIR query "SELECT * FROM per_page" --data "$SCRATCH/oracle" |
        python3 -c 'import json,sys; print(json.dumps(sorted((json.loads(l) for l in sys.stdin), key=lambda r: json.dumps(r, sort_keys=True)), sort_keys=True))'
}
# wait_rows N: until per_page's rows equal the oracle's over records 0..N (60 s)
wait_rows() {
    local want got i
    want=$(oracle "$1")
    for i in $(seq 300); do got=$(rows per_page); [ "$got" = "$want" ] && return 0; sleep 0.2; done
    diag "per_page: $got"; diag "oracle:   $want"; return 1
}
serve() { start_serve -f "$1" --data "$data" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start"; exit 1; }; }

serve "$base"
post "$(records 0 59)"
out=$($WEIR sql "$table" --data "$data" 2>&1)
[[ "$out" == *'"group":"s1"'* ]]; ok $? "weir sql adds the table to the running server: $out"
post "$(records 60 99)"
wait_rows 99; ok $? "the added table's rows equal those of a pipeline that declared it from the start"
[ "$($WEIR query "SELECT * FROM per_page" --data "$data" 2>&1 | sort)" = "$($WEIR query "SELECT * FROM per_page" --data "$SCRATCH/oracle" | sort)" ]
ok $? "weir query reads the added table beside the server"
req POST /v1/query -d '{"sql": "SHOW QUERIES"}'
expect 200 per_page "the added query shows in SHOW QUERIES"

stop_serve
grep -q 'TUMBLE' "$data/statements.sql"; ok $? "the statement is kept in DATA/statements.sql"
serve "$base"
wait_rows 99; ok $? "after a restart the added table is there, unchanged"
post "$(records 100 139)"
wait_rows 139; ok $? "and goes on from its checkpoint"
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
serve "$base"
post "$(records 140 159)"
wait_rows 159; ok $? "after kill -9 and a restart each record is counted once"

req POST /v1/statements -d "{\"sql\": \"CREATE OR REPLACE TABLE per_page AS SELECT page, COUNT(*) AS n FROM clicks WHERE user_id <> 'u0' GROUP BY page\"}"
expect 200 '"dropped":["per_page"]' "CREATE OR REPLACE replaces the table"
want=$(records 0 159 | python3 -c 'import json,sys,collections; c=collections.Counter(r["page"] for r in map(json.loads, sys.stdin) if r["user_id"] != "u0"); print(json.dumps(sorted(({"page": p, "n": n} for p, n in c.items()), key=lambda r: json.dumps(r, sort_keys=True)), sort_keys=True))')
for i in $(seq 300); do got=$(rows per_page); [ "$got" = "$want" ] && break; sleep 0.2; done
[ "$got" = "$want" ]; ok $? "the replacing query reads the stream from its start: $got"

req POST /v1/statements -d '{"sql": "CREATE ROUTE '"'"'POST /pages/{page}/clicks'"'"' INTO clicks"}'
expect 200 '"group":"s3"' "a route is added"
req POST /pages/p9/clicks -d '{"user_id":"u7","ts":"2026-01-01T01:00:00Z"}'
[ "$STATUS" = 200 ] || diag "the route answered $STATUS: $BODY"
for i in $(seq 300); do req GET "/v1/tables/per_page?key=p9"; [[ "$BODY" == *'"n":1'* ]] && break; sleep 0.2; done
expect 200 '"n":1' "the added route feeds the stream, and the table counts it"

req POST /v1/statements -d "{\"sql\": \"CREATE TABLE recent WITH (start = 'latest') AS SELECT page, COUNT(*) AS n FROM clicks GROUP BY page\"}"
expect 200 '"group":"s4"' "a table that starts from the stream's end is added"
post '{"user_id":"u8","page":"p8","ts":"2026-01-01T01:00:01Z"}'
for i in $(seq 300); do got=$(rows recent); [ "$got" = '[{"n": 1, "page": "p8"}]' ] && break; sleep 0.2; done
[ "$got" = '[{"n": 1, "page": "p8"}]' ]; ok $? "WITH (start = 'latest') counts only the records after it: $got"
# a record no reader can take: the file's query and the added ones all read clicks, one dead letter is written
post '{"user_id":"u9","page":"p9","ts":"yesterday"}'
dead() { $WEIR consume clicks.dlq --data "$data" --from-beginning --exit 2>/dev/null | grep -c yesterday; }
for i in $(seq 300); do [ "$(dead)" -ge 1 ] && break; sleep 0.2; done
post '{"user_id":"u8","page":"p8","ts":"2026-01-01T01:00:02Z"}'
for i in $(seq 300); do got=$(rows recent); [ "$got" = '[{"n": 2, "page": "p8"}]' ] && break; sleep 0.2; done
[ "$(dead)" = 1 ]; ok $? "an undecodable record read by three runners is one dead letter: $(dead)"
req GET /metrics
[[ "$BODY" == *'weir_dead_letters_total{stream="clicks",reason="undecodable"} 1'* ]]
ok $? "and counts once: $(echo "$BODY" | grep 'stream="clicks",reason="undecodable"')"
for i in $(seq 300); do [ "$(wc -l <"$SCRATCH/archive.ndjson")" -ge 164 ] && break; sleep 0.2; done
[ "$(wc -l <"$SCRATCH/archive.ndjson")" = 164 ]
ok $? "the file's sink delivers every record once across the statements and restarts: $(wc -l <"$SCRATCH/archive.ndjson")"
req POST /v1/statements -d '{"sql": "DROP STREAM clicks"}'
expect 400 "declared in the pipeline file" "the file's stream cannot be dropped at runtime"
req POST /v1/statements -d '{"sql": "CREATE TABLE t AS SELECT page, COUNT(*) AS n FROM clicks GROUP BY nope"}'
expect 400 "line 1, column" "a statement that does not plan is refused with where and why"

req POST /v1/statements -d '{"sql": "DROP TABLE per_page"}'
expect 200 '"dropped":["per_page"]' "DROP removes the added table"
req GET /v1/tables/per_page
[ "$STATUS" = 404 ]; ok $? "the dropped table is gone: $STATUS"
req POST /v1/statements -d '{"sql": "DROP TABLE IF EXISTS never_made"}'
expect 200 '"group":null' "DROP IF EXISTS of nothing changes nothing"

# a group over another group's derived stream, with a trailing comment; after a restart it reads without new input
req POST /v1/statements -d '{"sql": "CREATE STREAM early AS SELECT page, user_id FROM clicks WHERE user_id <> '"'"'u0'"'"' -- not u0"}'
expect 200 '"group":"s5"' "a statement ending in a comment is taken"
req POST /v1/statements -d '{"sql": "CREATE TABLE per_early AS SELECT page, COUNT(*) AS n FROM early GROUP BY page"}'
expect 200 '"group":"s6"' "and another reads what it writes"
want=$($WEIR consume early --data "$data" --from-beginning --exit 2>/dev/null | python3 -c 'import json,sys,collections; c=collections.Counter(json.loads(l)["page"] for l in sys.stdin); print(sum(c.values()))')
stop_serve
serve "$base"
for i in $(seq 300); do req GET /v1/tables/per_early; got=$(echo "$BODY" | python3 -c 'import json,sys; print(sum(r["n"] for r in json.load(sys.stdin).get("rows", [])))'); [ "$got" = "$want" ] && [ "$want" -gt 0 ] && break; sleep 0.2; done
[ "$got" = "$want" ] && [ "$want" -gt 0 ]; ok $? "after a restart, a group reading another's stream has all its rows with no new record: $got of $want"

# names are never given twice: a group dropped, then a restart, then a new one
req POST /v1/statements -d '{"sql": "DROP TABLE per_early"}'
stop_serve
serve "$base"
req POST /v1/statements -d '{"sql": "CREATE TABLE per_early2 AS SELECT page, COUNT(*) AS n FROM early GROUP BY page"}'
expect 200 '"group":"s7"' "after a drop and a restart the next group gets a new name and starts"

# a source a group declared keeps its records when dropped: a query may not take its name
req POST /v1/statements -d '{"sql": "CREATE STREAM side (a INT) WITH (partitions = 3)"}'
req POST /v1/streams/side -d '{"a": 1}'
req POST /v1/statements -d '{"sql": "DROP STREAM side"}'
req POST /v1/statements -d '{"sql": "CREATE STREAM side AS SELECT page FROM clicks"}'
expect 400 "exists with 3 partitions" "a query over a kept stream of other partitions is refused"
req POST /v1/statements -d '{"sql": "CREATE STREAM side WITH (partitions = 3) AS SELECT page FROM clicks"}'
expect 400 "holds records the pipeline did not write" "and one that would overwrite its records"
req GET /healthz
expect 200 '"status":"ok"' "the server runs on after the refusals"

# two groups whose expressions fail on the same records each write their own dead letters, once, across a restart
req POST /v1/statements -d '{"sql": "CREATE STREAM halves1 AS SELECT page, 10 / (LENGTH(user_id) - 2) AS h FROM clicks"}'
req POST /v1/statements -d '{"sql": "CREATE STREAM halves2 AS SELECT page, 20 / (LENGTH(user_id) - 2) AS h FROM clicks"}'
letters() { $WEIR consume clicks.dlq --data "$data" --from-beginning --exit 2>/dev/null | grep -c "$1"; }
for i in $(seq 300); do [ "$(letters halves1)" -gt 0 ] && [ "$(letters halves2)" = "$(letters halves1)" ] && break; sleep 0.2; done
before="$(letters halves1) $(letters halves2)"
stop_serve
serve "$base"
post '{"user_id":"u1","page":"p1","ts":"2026-01-01T01:00:03Z"}'
for i in $(seq 300); do [ "$(letters halves2)" -gt "${before#* }" ] && [ "$(letters halves1)" = "$(letters halves2)" ] && break; sleep 0.2; done
after="$(letters halves1) $(letters halves2)"
[ "${before% *}" -gt 0 ] && [ "${before% *}" = "${before#* }" ] && [ "${after% *}" = "$((${before% *} + 1))" ] && [ "${after#* }" = "$((${before#* } + 1))" ]
ok $? "each group writes its own dead letters once, before and after a restart: $before, then $after"

# a route added at runtime is replaced, then dropped, by its text
req POST /v1/statements -d '{"sql": "CREATE OR REPLACE ROUTE '"'"'POST /pages/{page}/clicks'"'"' INTO clicks"}'
expect 200 '"dropped":["POST /pages/{page}/clicks"]' "CREATE OR REPLACE ROUTE replaces the route's group"
req POST /v1/statements -d '{"sql": "DROP ROUTE '"'"'POST /pages/{page}/clicks'"'"'"}'
expect 200 '"dropped":["POST /pages/{page}/clicks"]' "DROP ROUTE drops it"
req POST /pages/p9/clicks -d '{"user_id":"u7","ts":"2026-01-01T01:00:00Z"}'
[ "$STATUS" = 404 ]; ok $? "the dropped route answers 404: $STATUS"
stop_serve

# the file now declares what a statement added: the start says so
{ cat "$base"; echo "CREATE STREAM recent (a INT);"; } >"$SCRATCH/clash.sql"
$WEIR serve -f "$SCRATCH/clash.sql" --data "$data" --once >"$SCRATCH/clash.out" 2>&1
[ $? -ne 0 ] && grep -q "statements added as s4" "$SCRATCH/clash.out"
ok $? "a pipeline file that contradicts an added statement is refused: $(tail -1 "$SCRATCH/clash.out")"
finish
