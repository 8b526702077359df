#!/usr/bin/env bash
# query_meta.sh - questions about the pipeline (SHOW, DESCRIBE, EXPLAIN)
# and pull queries over dead letters, with the JSON and time functions and
# with WITH queries and FROM subqueries (inlined),
# through both doors a query has: POST /v1/query on a running server and
# weir query on its data directory, which answer with the same rows.
. "$(dirname "$0")/../lib.sh"
plan 21
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM clicks (id INT NOT NULL, page TEXT, body JSON, ts TIMESTAMP)
  WITH (partitions = 2, key = 'page', timestamp = 'ts', retention = '3 days');
CREATE TABLE per_page AS SELECT page, COUNT(*) AS n FROM clicks WHERE id > 0 GROUP BY page;
SQL
start_serve -f "$SCRATCH/p.sql" || { echo "Bail out! weir serve did not start"; exit 1; }
printf '%s\n' '{"id":1,"page":"a","body":{"user":{"name":"ann"}},"ts":"2026-11-23T05:43:21Z"}' \
    '{"id":2,"page":"a","body":{"user":{"name":"bob"},"tags":[1,2]},"ts":"2026-11-23T05:58:00Z"}' \
    '{"id":3,"page":"b","body":null,"ts":"2026-11-23T06:01:00Z"}' '{"page":"c","ts":"2026-11-23T06:02:00Z"}' |
    curl -s -o /dev/null --data-binary @- "$URL/v1/streams/clicks"
q() { req POST /v1/query -d "$(python3 -c 'import json,sys; print(json.dumps({"sql": sys.argv[1]}))' "$1")"; }
for i in $(seq 600); do q 'SELECT n FROM per_page WHERE page = '"'a'"; [[ "$BODY" == *'"n":2'* ]] && break; sleep 0.1; done
[[ "$BODY" == *'"n":2'* ]]; ok $? "the table has its rows ($BODY)"

q 'SHOW STREAMS'
expect 200 '"columns":[{"name":"name","type":"TEXT"},{"name":"kind","type":"TEXT"},{"name":"partitions","type":"INT"},{"name":"key","type":"TEXT"},{"name":"timestamp","type":"TEXT"}],"rows":[{"name":"clicks","kind":"source","partitions":2,"key":"page","timestamp":"ts"},{"name":"clicks.dlq","kind":"dead_letters","partitions":1,"key":null,"timestamp":"timestamp"}]' \
    "SHOW STREAMS over HTTP: the source and its dead letters, as a query's columns and rows"
q 'SHOW TABLES'
expect 200 '"rows":[{"name":"per_page","kind":"table","partitions":2,"primary_key":"page","window":null,"emit":"changes"}]' "SHOW TABLES"
q 'SHOW QUERIES'
expect 200 '"rows":[{"id":"CTAS_per_page","sink":"per_page","sources":"clicks","query":"CREATE TABLE per_page AS SELECT page, COUNT(*) AS n FROM clicks WHERE id > 0 GROUP BY page"}]' "SHOW QUERIES"
q 'DESCRIBE clicks'
expect 200 '{"name":"id","type":"INT","not_null":true},{"name":"page","type":"TEXT"},{"name":"body","type":"JSON"},{"name":"ts","type":"TIMESTAMP"}],"key":"page","primary_key":null,"partitions":2,"timestamp":"ts","retention":"3 days"' \
    "DESCRIBE: columns with types and constraints, key, partitions, event time, retention"
q 'EXPLAIN per_page'
expect 200 '{"step":2,"operator":"Filter","detail":"id > 0"},{"step":3,"operator":"Aggregate","detail":"GROUP BY page: COUNT(*)"}' \
    "EXPLAIN of a table: its query's operators in order"
q "EXPLAIN SELECT n FROM per_page WHERE page = 'a'"
expect 200 '{"step":1,"operator":"IndexLookup","detail":"table per_page: the rows whose page = '"'a'"', through the view'"'"'s index"}' \
    "EXPLAIN SELECT: a key lookup uses the view's index"
q "EXPLAIN SELECT page, n FROM per_page ORDER BY n DESC LIMIT 3"
expect 200 '{"step":1,"operator":"IndexScan","detail":"table per_page: its rows in order of n from its ordered index, the best first, as far as the first 3 and their ties"},{"step":2,"operator":"TopN"' \
    "EXPLAIN SELECT: ORDER BY a column LIMIT k walks the table's ordered index"
q 'DESCRIBE nope'
expect 400 'SQL 1:10: unknown stream or table nope' "DESCRIBE of an unknown name: 400 with where"

q 'SELECT reason, record FROM "clicks.dlq" WHERE reason LIKE '"'column id%'"
expect 200 '"rows":[{"reason":"column id is missing or null (NOT NULL)","record":"{\"page\":\"c\",\"ts\":\"2026-11-23T06:02:00Z\"}"}]' \
    "a pull query over the dead letters, filtered"
q "SELECT id, JSON_VALUE(body, '\$.user.name') AS name, JSON_QUERY(body, '\$.tags') AS tags, date_trunc('hour', ts) AS hour FROM clicks WHERE JSON_EXISTS(body, '\$.user') ORDER BY id"
expect 200 '"rows":[{"id":1,"name":"ann","tags":null,"hour":"2026-11-23T05:00:00Z"},{"id":2,"name":"bob","tags":[1,2],"hour":"2026-11-23T05:00:00Z"}]' \
    "a stream scan with the JSON and time functions"
q "SELECT JSON_VALUE(body, '\$..name') AS x FROM clicks"
expect 400 "SQL 1:8: json_value: path '\$..name': recursive descent (..) is not supported" "a JSON path outside the subset: 400 naming it"
q "WITH named AS (SELECT id, JSON_VALUE(body, '\$.user.name') AS name FROM clicks) SELECT name FROM named WHERE name IS NOT NULL ORDER BY id DESC"
expect 200 '"columns":[{"name":"name","type":"TEXT"}],"rows":[{"name":"bob"},{"name":"ann"}]' "a pull query reading a WITH query"
q 'SELECT page, n FROM (SELECT page, n FROM per_page WHERE n > 1) AS t'
expect 200 '"rows":[{"page":"a","n":2}]' "a pull query over a FROM subquery of a table"
q "SELECT $(printf '(%.0s' $(seq 20000))1$(printf ')%.0s' $(seq 20000)) AS x FROM clicks"
code=$STATUS; err=$BODY; q 'SHOW TABLES'
[ "$code" = 400 ] && [[ "$err" == *'nested more than 256 deep'* ]] && [ "$STATUS" = 200 ]
ok $? "20,000 nested parentheses: 400, and the server goes on answering (it overflowed its stack before)"
stop_serve

cli() { $WEIR query "$1" | tr '\n' ' '; }
[ "$(cli 'SHOW TABLES')" = '{"name":"per_page","kind":"table","partitions":2,"primary_key":"page","window":null,"emit":"changes"} ' ]
ok $? "weir query SHOW TABLES prints the same rows"
[[ "$(cli 'EXPLAIN SELECT * FROM "clicks.dlq" LIMIT 1')" == '{"step":1,"operator":"StreamScan","detail":"stream clicks.dlq: every retained record, oldest first, 1 partition"} {"step":2,"operator":"Limit","detail":"1"} '* ]]
ok $? "weir query EXPLAIN"
[ "$(cli 'SELECT reason FROM "clicks.dlq"')" = '{"reason":"column id is missing or null (NOT NULL)"} ' ]
ok $? "weir query reads the dead letters"
[ "$(cli 'SELECT r FROM (SELECT reason AS r, offset FROM "clicks.dlq") AS d WHERE offset IS NOT NULL')" = '{"r":"column id is missing or null (NOT NULL)"} ' ]
ok $? "weir query: a subquery over the dead letters"
$WEIR query 'DESCRIBE "nope.dlq"' 2>"$SCRATCH/err"; rc=$?
[ $rc -eq 2 ] && grep -q '1:10: unknown stream or table nope.dlq' "$SCRATCH/err"; ok $? "weir query DESCRIBE of an unknown name: exit 2 and where"
printf 'SHOW TABLES;\n' > "$SCRATCH/bad.sql"
$WEIR replay -f "$SCRATCH/bad.sql" --input /dev/null 2>"$SCRATCH/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'SHOW is a request, run it with weir query' "$SCRATCH/err"; ok $? "SHOW in a pipeline is refused: it is a request"
finish
