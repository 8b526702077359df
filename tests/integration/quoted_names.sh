#!/usr/bin/env bash
# quoted_names.sh - a column whose quoted name holds a double quote
# ("we""ird") travels through every answer that names columns: JSON stays
# valid (/v1/tables, /v1/streams) and the SQL weir makes for a table's rows
# quotes it (GET /v1/tables/{t}?key=).
. "$(dirname "$0")/../lib.sh"
plan 3
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM s ("we""ird" TEXT, n INT) WITH (partitions = 1, key = 'we"ird');
CREATE TABLE t AS SELECT "we""ird", COUNT(*) AS c FROM s GROUP BY "we""ird";
SQL
start_serve -f "$SCRATCH/p.sql" || { echo "Bail out! weir serve did not start"; exit 1; }
curl -s -d '{"we\"ird":"x","n":1}' "$URL/v1/streams/s" >/dev/null
for i in $(seq 600); do curl -s "$URL/v1/tables/t?key=x" | grep -q '"c":1' && break; sleep 0.1; done
got=$(curl -s "$URL/v1/tables" | python3 -c 'import json,sys; t=json.load(sys.stdin)["tables"][0]; print(t["primary_key"], t["from"])')
[ "$got" = "['we\"ird'] s" ]; ok $? "/v1/tables is JSON naming the column: $got"
curl -s "$URL/v1/streams" | python3 -c 'import json,sys; s=json.load(sys.stdin)["streams"]; assert any(x.get("key") == "we\"ird" for x in s)'
ok $? "/v1/streams is JSON naming the key column"
got=$(curl -s "$URL/v1/tables/t?key=x")
[ "$got" = '{"columns":[{"name":"we\"ird","type":"TEXT"},{"name":"c","type":"INT"}],"rows":[{"we\"ird":"x","c":1}]}' ]
ok $? "a key's rows: the SQL made for them quotes the column ($got)"
stop_serve
finish
