#!/usr/bin/env bash
# changes.sh - GET /v1/changes: several streams' and tables' changes over one
# Server-Sent Events connection; events name their stream, the id that comes
# with each batch's last event resumes every stream exactly (Last-Event-ID or
# ?last_event_id=), each name may start at its beginning or end, and bad
# requests are refused with what is wrong.
. "$(dirname "$0")/../lib.sh"
plan 10
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM clicks (user TEXT, page TEXT) WITH (partitions = 2, key = 'user');
CREATE TABLE per_page AS SELECT page, COUNT(*) AS n FROM clicks GROUP BY page;
SQL
start_serve -f "$SCRATCH/p.sql" || { echo "Bail out! weir serve did not start"; exit 1; }
post() { curl -s -o /dev/null -w '%{http_code}' --data-binary "$1" "$URL/v1/streams/clicks"; }
# sse ARGS...: what a client receives in 2 s (events as one JSON line each, then the last id)
sse() {
    curl -sN --max-time 2 "$@" > "$SCRATCH/sse"
    python3 - "$SCRATCH/sse" <<'PY'
import json, sys
last = None
for block in open(sys.argv[1]).read().split("\n\n"):
    fields = dict(l.split(": ", 1) for l in block.splitlines() if ": " in l and not l.startswith(":"))
    if "id" in fields: last = fields["id"]
    if fields.get("event") == "change":
        d = json.loads(fields["data"]); print(d["stream"], d["partition"], d["offset"], json.dumps(d["row"], sort_keys=True))
print("id", last)
PY
}
[ "$(post '{"user":"a","page":"home"}
{"user":"b","page":"docs"}
{"user":"a","page":"home"}')" = 200 ]; ok $? "three clicks ingested"
for i in $(seq 600); do [ "$(curl -s "$URL/v1/tables/per_page?key=home" | grep -c '"n":2')" = 1 ] && break; sleep 0.1; done
sse "$URL/v1/changes?streams=clicks@beginning,per_page@beginning" > "$SCRATCH/all"
[ "$(grep -c '^clicks ' "$SCRATCH/all")" = 3 ] && [ "$(grep -c '^per_page ' "$SCRATCH/all")" = 3 ]
ok $? "one connection carries both streams' changes, each event naming its stream: $(tr '\n' '|' < "$SCRATCH/all")"
id=$(sed -n 's/^id //p' "$SCRATCH/all")
[[ "$id" =~ ^clicks:[0-9]+,[0-9]+\;per_page:[0-9]+,[0-9]+$ ]]; ok $? "the id lists every stream's partitions' positions: $id"
[ "$(grep -c '^id: ' "$SCRATCH/sse")" = 1 ]; ok $? "the id comes once per batch, with its last event"
sse "$URL/v1/changes?streams=clicks,per_page" > "$SCRATCH/none"
[ "$(grep -vc '^id ' "$SCRATCH/none")" = 0 ]; ok $? "by default streams start at their end: nothing old is sent"
post '{"user":"c","page":"blog"}' >/dev/null
for i in $(seq 600); do [ "$(curl -s "$URL/v1/tables/per_page?key=blog" | grep -c '"n":1')" = 1 ] && break; sleep 0.1; done
sse -H "Last-Event-ID: $id" "$URL/v1/changes?streams=clicks,per_page" > "$SCRATCH/resumed"
[ "$(grep -vc '^id ' "$SCRATCH/resumed")" = 2 ] && grep -q '^clicks .*"page": "blog"' "$SCRATCH/resumed" &&
    grep -q '^per_page .*"page": "blog"' "$SCRATCH/resumed"
ok $? "Last-Event-ID resumes exactly after what was received: $(tr '\n' '|' < "$SCRATCH/resumed")"
sse "$URL/v1/changes?streams=clicks,per_page&last_event_id=$id" > "$SCRATCH/resumed2"
cmp -s "$SCRATCH/resumed" "$SCRATCH/resumed2"; ok $? "?last_event_id= does the same (for a page reopening its feed)"
code=$(curl -s -o "$SCRATCH/err" -w '%{http_code}' "$URL/v1/changes?streams=clicks,nope")
[ "$code" = 404 ] && grep -q "nope" "$SCRATCH/err"; ok $? "an unknown stream: 404 naming it ($(cat "$SCRATCH/err"))"
code=$(curl -s -o "$SCRATCH/err" -w '%{http_code}' "$URL/v1/changes?streams=clicks@middle")
[ "$code" = 400 ] && grep -q "beginning' or 'end'" "$SCRATCH/err"; ok $? "a bad start: 400 ($(cat "$SCRATCH/err"))"
code=$(curl -s -o "$SCRATCH/err" -w '%{http_code}' -H "Last-Event-ID: clicks:1" "$URL/v1/changes?streams=clicks")
[ "$code" = 400 ] && grep -q "must list 2 offsets for clicks" "$SCRATCH/err"; ok $? "a Last-Event-ID with the wrong partitions: 400 ($(cat "$SCRATCH/err"))"
stop_serve
finish
