#!/usr/bin/env bash
# insert_into.sh - INSERT INTO in weir serve (tests/sql/insert_into.sql): two
# queries write one stream, which takes no producer's records any more
# (409), and a table reads every writer's records; after kill -9 and a
# restart each record is in the stream once.
. "$(dirname "$0")/../lib.sh"
plan 4
sql="$(dirname "$0")/../sql/insert_into.sql"
data="$SCRATCH/data"
post() { req POST "/v1/streams/$1" --data-binary "$2"; [ "$STATUS" = 200 ] || diag "ingest $1: $STATUS $BODY"; }
visits() { $WEIR consume visits --data "$data" --from-beginning --exit 2>/dev/null | sort; }
# wait_visits N: until visits holds N records (60 s)
wait_visits() { for i in $(seq 600); do [ "$(visits | wc -l)" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }
serve() { start_serve -f "$sql" --data "$data" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start"; exit 1; }; }
serve
post web '{"user":"ann","page":"/home"}'
post app '{"uid":"ann","screen":"feed","ms":40}
{"uid":"bob","screen":"feed","ms":5}'
wait_visits 2
[ "$(visits | tr '\n' ' ')" = '{"user":"ann","place":"/home"} {"user":"ann","place":"FEED"} ' ]
ok $? "both writers' records are in the stream: $(visits | tr '\n' ' ')"
req POST /v1/streams/visits --data-binary '{"user":"eve","place":"x"}'
expect 409 "written by the pipeline" "a stream INSERT INTO writes takes no producer's records"
post web '{"user":"bob","page":"/pricing"}'
wait_visits 3
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
serve
post app '{"uid":"bob","screen":"cart","ms":50}'
wait_visits 4
for i in $(seq 600); do req GET '/v1/tables/per_user?key=bob'; [[ "$BODY" == *'"n":2'* ]] && break; sleep 0.1; done
expect 200 '"n":2' "after kill -9 and a restart the table counts each writer's record once"
[ "$(visits | wc -l)" = 4 ] && [ "$(visits | uniq -d | wc -l)" = 0 ]; ok $? "each record is in the stream once: $(visits | tr '\n' ' ')"
stop_serve
finish
