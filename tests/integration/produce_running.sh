#!/usr/bin/env bash
# produce_running.sh - weir produce into a data directory that weir serve
# holds (one writer): the records go through the server's ingest, found by
# DATA/serve.url, and reach the pipeline's outputs exactly once; options
# only the log's writer could honour are refused; a bad line stops it with
# what was acknowledged; with the server gone, produce writes the log itself.
. "$(dirname "$0")/../lib.sh"
plan 7
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM events (k TEXT, n INT) WITH (partitions = 4, key = 'k');
CREATE TABLE counts AS SELECT k, COUNT(*) AS c, SUM(n) AS s FROM events GROUP BY k;
SQL
start_serve -f "$SCRATCH/p.sql" --data "$SCRATCH/d" || { echo "Bail out! weir serve did not start"; exit 1; }
awk 'BEGIN { for (i = 0; i < 30000; i++) printf "{\"k\":\"k%d\",\"n\":%d}\n", i % 13, 1 }' > "$SCRATCH/in.ndjson"
$WEIR produce events "$SCRATCH/in.ndjson" --data "$SCRATCH/d" --acks > "$SCRATCH/acks" 2>"$SCRATCH/err"
rc=$?
[ $rc = 0 ] && grep -q "served by weir serve at $URL: the records go through it" "$SCRATCH/err" &&
    [ "$(tail -1 "$SCRATCH/acks")" = '{"acked": 30000}' ]
ok $? "produce on a served directory goes through the server: exit $rc, $(tail -1 "$SCRATCH/acks")"
total() { curl -s "$URL/v1/query" -d '{"sql":"SELECT c, s FROM counts"}' |
          python3 -c 'import json,sys; r=json.load(sys.stdin)["rows"]; print(sum(x["c"] for x in r), sum(x["s"] for x in r))'; }
for i in $(seq 600); do [ "$(total)" = "30000 30000" ] && break; sleep 0.1; done
[ "$(total)" = "30000 30000" ]; ok $? "the table counts each record once ($(total))"
$WEIR produce events "$SCRATCH/in.ndjson" --data "$SCRATCH/d" --key k 2>"$SCRATCH/err"; rc=$?
[ $rc = 2 ] && grep -q "the stream's own key and settings apply there, so --key cannot" "$SCRATCH/err"
ok $? "--key is refused with the reason: $(cat "$SCRATCH/err")"
printf '{"k":"a","n":1}\n{"k":\n' | $WEIR produce events --data "$SCRATCH/d" 2>"$SCRATCH/err"; rc=$?
[ $rc = 1 ] && grep -q "<stdin>:2:.*nothing from line 1 on was appended, 0 records before it were" "$SCRATCH/err"
ok $? "a bad line stops it and says what was kept: $(tail -1 "$SCRATCH/err")"
echo '{"x":1}' | $WEIR produce nope --data "$SCRATCH/d" 2>"$SCRATCH/err"; rc=$?
[ $rc = 1 ] && grep -q "answered 404.*no stream nope in the pipeline" "$SCRATCH/err"
ok $? "a stream the pipeline does not have: the server's answer ($(tail -1 "$SCRATCH/err"))"
stop_serve
[ ! -e "$SCRATCH/d/serve.url" ]; ok $? "serve removes DATA/serve.url when it stops"
echo '{"k":"z","n":5}' | $WEIR produce events --data "$SCRATCH/d" 2>"$SCRATCH/err"
[ $? = 0 ] && ! grep -q "served by" "$SCRATCH/err"; ok $? "with no server, produce writes the log itself"
finish
