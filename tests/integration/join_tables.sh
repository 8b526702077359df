#!/usr/bin/env bash
# join_tables.sh - table-table joins in weir serve (tests/sql/join_tables.sql:
# a source table joined INNER, LEFT and FULL with a table the pipeline
# computes): each output table holds the joined rows the two tables' rows
# make, updated from both sides, a row leaving when its key has no joined
# row any more; the same after a restart and after kill -9 (the join's
# rows of both tables are in the state store), with each output record keyed
# by the join key so a compacted topic converges to the table.
. "$(dirname "$0")/../lib.sh"
plan 5
sql="$(dirname "$0")/../sql/join_tables.sql"
data="$SCRATCH/data"
post() { req POST "/v1/streams/$1" --data-binary "$2"; [ "$STATUS" = 200 ] || diag "ingest $1: $STATUS $BODY"; }
# rows T: table T's rows, sorted, one JSON object per line (the status when it is not 200)
rows() {
    req GET "/v1/tables/$1"
    [ "$STATUS" = 200 ] || { echo "HTTP $STATUS"; return; }
    echo "$BODY" | python3 -c 'import json, sys
for r in sorted(json.dumps(r, separators=(",", ":")) for r in json.load(sys.stdin)["rows"]): print(r)' 2>/dev/null
}
# wait_rows T WANT: until T's rows are WANT (60 s)
wait_rows() {
    for i in $(seq 600); do [ "$(rows "$1")" = "$2" ] && return 0; sleep 0.1; done
    diag "$1: $(rows "$1" | tr '\n' ' ')"; return 1
}
serve() { start_serve -f "$sql" --data "$data" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start"; exit 1; }; }
serve
post customers '{"customer_id":"c1","tier":"gold"}
{"customer_id":"c2","tier":"silver"}'
wait_rows customers '{"customer_id":"c1","tier":"gold"}
{"customer_id":"c2","tier":"silver"}'
post buys '{"customer_id":"c1","amount":30}
{"customer_id":"c3","amount":5}'
wait_rows both_sides '{"customer_id":"c1","tier":"gold","total":30.0}' &&
    wait_rows with_spend '{"customer_id":"c1","tier":"gold","total":30.0}
{"customer_id":"c2","tier":"silver","total":null}' &&
    wait_rows either '{"customer_id":"c1","tier":"gold","total":30.0}
{"customer_id":"c2","tier":"silver","total":null}
{"customer_id":"c3","tier":null,"total":5.0}'
ok $? "INNER, LEFT and FULL joins of the two tables' rows"
post buys '{"customer_id":"c1","amount":80}'
wait_rows both_sides '' && wait_rows with_spend '{"customer_id":"c1","tier":"gold","total":null}
{"customer_id":"c2","tier":"silver","total":null}'
ok $? "when spend's row leaves, INNER's row leaves and LEFT's loses its right side"
stop_serve
serve
post customers '{"customer_id":"c3","tier":"banned"}'
wait_rows both_sides '{"customer_id":"c3","tier":"banned","total":5.0}' &&
    wait_rows either '{"customer_id":"c1","tier":"gold","total":null}
{"customer_id":"c2","tier":"silver","total":null}'
ok $? "after a restart a new row meets the other table's (c3 meets spend's row, and FULL's fails WHERE)"
post buys '{"customer_id":"c2","amount":1}'
wait_rows both_sides '{"customer_id":"c2","tier":"silver","total":1.0}
{"customer_id":"c3","tier":"banned","total":5.0}'
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
serve
req DELETE '/v1/tables/customers?key=c2'
wait_rows both_sides '{"customer_id":"c3","tier":"banned","total":5.0}' &&
    wait_rows with_spend '{"customer_id":"c1","tier":"gold","total":null}
{"customer_id":"c3","tier":"banned","total":5.0}' &&
    wait_rows either '{"customer_id":"c1","tier":"gold","total":null}
{"customer_id":"c2","tier":null,"total":1.0}'
ok $? "after kill -9 a deleted customer leaves INNER and LEFT, and FULL keeps spend's side"
stop_serve
$WEIR consume with_spend --data "$data" --from-beginning --exit -e --meta 2>/dev/null > "$SCRATCH/changelog"
python3 - "$SCRATCH/changelog" <<'PY'
import json, sys
last = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    last[r["key"]] = r["value"]
rows = sorted(json.dumps(v, separators=(",", ":")) for v in last.values() if v is not None)
assert rows == ['{"customer_id":"c1","tier":"gold","total":null}', '{"customer_id":"c3","tier":"banned","total":5.0}'], (rows, last)
PY
ok $? "the changelog, compacted by key, holds exactly the table's rows"
finish
