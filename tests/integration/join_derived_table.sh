#!/usr/bin/env bash
# join_derived_table.sh - a stream joined with a derived table (CREATE TABLE
# ... AS SELECT) in weir serve: each click meets its user's current row of
# the table, which the join reads back from the table's changelog; a row
# that leaves the table (HAVING) is met no more; after a restart and after
# kill -9 the join still has the rows (its state is in the checkpoint) and
# every click is joined once.
. "$(dirname "$0")/../lib.sh"
plan 4
sql="$(dirname "$0")/../sql/join_derived_table.sql"
data="$SCRATCH/data"
post() { req POST "/v1/streams/$1" --data-binary "$2"; [ "$STATUS" = 200 ] || diag "ingest $1: $STATUS $BODY"; }
joined() { $WEIR consume j --data "$data" --from-beginning --exit 2>/dev/null; }
# wait_joined N: until j holds N rows (60 s)
wait_joined() { for i in $(seq 600); do [ "$(joined | wc -l)" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }
# wait_spend WANT: until spend's rows are WANT
wait_spend() {
    for i in $(seq 600); do req GET /v1/tables/spend; [[ "$BODY" == *"\"rows\":$1"* ]] && return 0; sleep 0.1; done
    diag "spend: $BODY"; return 1
}
start_serve -f "$sql" --data "$data" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start"; exit 1; }
post clicks '{"user":"u1","page":"home","ts":"2026-12-01T10:00:00Z"}'
wait_joined 1
post buys '{"user":"u1","amount":30,"ts":"2026-12-01T10:00:01Z"}'
wait_spend '[{"user":"u1","total":30.0}]'
post clicks '{"user":"u1","page":"cart","ts":"2026-12-01T10:00:02Z"}'
wait_joined 2
post buys '{"user":"u1","amount":80,"ts":"2026-12-01T10:00:03Z"}
{"user":"u2","amount":5,"ts":"2026-12-01T10:00:04Z"}'
wait_spend '[{"user":"u2","total":5.0}]'
post clicks '{"user":"u1","page":"pay","ts":"2026-12-01T10:00:05Z"}'
wait_joined 3
[ "$(joined | tr '\n' ' ')" = '{"user":"u1","page":"home","total":null} {"user":"u1","page":"cart","total":30.0} {"user":"u1","page":"pay","total":null} ' ]
ok $? "each click meets its user's current row, none once the row left: $(joined | tr '\n' ' ')"
stop_serve
start_serve -f "$sql" --data "$data" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start again"; exit 1; }
post clicks '{"user":"u2","page":"home","ts":"2026-12-01T10:00:06Z"}'
wait_joined 4
joined | tail -1 | grep -qx '{"user":"u2","page":"home","total":5.0}'; ok $? "after a restart the join still has the table's rows: $(joined | tail -1)"
post buys '{"user":"u2","amount":1,"ts":"2026-12-01T10:00:07Z"}'
wait_spend '[{"user":"u2","total":6.0}]'
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
start_serve -f "$sql" --data "$data" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start after kill -9"; exit 1; }
post clicks '{"user":"u2","page":"cart","ts":"2026-12-01T10:00:08Z"}'
wait_joined 5
joined | tail -1 | grep -qx '{"user":"u2","page":"cart","total":6.0}'; ok $? "after kill -9 the click meets the row the table had: $(joined | tail -1)"
[ "$(joined | sort | uniq -d | wc -l)" = 0 ] && [ "$(joined | wc -l)" = 5 ]; ok $? "every click joined once: $(joined | wc -l) rows"
stop_serve
finish
