#!/usr/bin/env bash
# sink_failed.sh - a sink whose destination refuses for good (FATAL: here a
# file sink whose directory is a plain file) stops in a failed state with
# the reason, does not retry by itself, shows as down in /metrics, and
# delivers everything once after the path is fixed and
# POST /v1/sinks/{name}/restart; a destination that may come back (RETRY)
# is covered by clickhouse.sh and kafka_outage.sh.
. "$(dirname "$0")/../lib.sh"
plan 7
touch "$SCRATCH/blocked" # a file where the sink wants a directory: open fails with ENOTDIR
cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM events (id INT);
CREATE SINK out FROM events WITH (connector = 'file', path = '$SCRATCH/blocked/out.ndjson');
CREATE SINK fine FROM events WITH (connector = 'file', path = '$SCRATCH/fine.ndjson');
SQL
sink() { curl -s "$URL/v1/sinks" | sed 's/},{/}\n{/g' | grep "\"name\":\"$1\""; }
failures() { sink "$1" | sed -n 's/.*"failures":\([0-9]*\).*/\1/p'; }
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 50
seq 100 | sed 's/.*/{"id":&}/' > "$SCRATCH/post.ndjson"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$SCRATCH/post.ndjson" "$URL/v1/streams/events")" = 200 ]
ok $? "100 events accepted"
for i in $(seq 1200); do [ "$(failures out)" = 1 ] && break; sleep 0.05; done
sink out | grep -q '"up":false,"state":"failed","last_error":"sink out: open .*/blocked/out.ndjson: Not a directory"'
ok $? "the sink is down with the reason ($(sink out))"
sleep 1.5 # RETRY would have tried four more times by now (100, 200, 400, 800 ms)
[ "$(failures out)" = 1 ]; ok $? "and it is not retried by itself (failures $(failures out))"
for i in $(seq 1200); do [ "$(lines "$SCRATCH/fine.ndjson")" = 100 ] && break; sleep 0.05; done # the other sink, meanwhile
curl -s "$URL/metrics" | grep -q '^weir_sink_up{sink="out",connector="file"} 0' &&
    curl -s "$URL/metrics" | grep -q '^weir_sink_failed{sink="out",connector="file"} 1' && [ "$(lines "$SCRATCH/fine.ndjson")" = 100 ]
ok $? "/metrics says weir_sink_up 0 and weir_sink_failed 1 for it; the other sink delivered all 100"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/v1/sinks/fine/restart")" = 409 ] &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/v1/sinks/nosuch/restart")" = 404 ]
ok $? "restarting a sink that has not failed: 409; an unknown one: 404"
rm "$SCRATCH/blocked" && mkdir "$SCRATCH/blocked"
answer=$(curl -s -X POST "$URL/v1/sinks/out/restart")
for i in $(seq 1200); do [ "$(lines "$SCRATCH/blocked/out.ndjson")" = 100 ] && break; sleep 0.05; done
[ "$answer" = '{"sink":"out","restarted":true}' ] && [ "$(sort -u "$SCRATCH/blocked/out.ndjson" | wc -l)" = 100 ]
ok $? "with the path fixed, POST /v1/sinks/out/restart ($answer) delivers the 100 events once"
up_again() { sink out | grep -q '"failures":1,"lag":0,"up":true,"state":"delivering"'; } # the lag is confirmed within a second
for i in $(seq 1200); do up_again && break; sleep 0.05; done
up_again; ok $? "and the sink is up again ($(sink out))"
stop_serve
finish
