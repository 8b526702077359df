#!/usr/bin/env bash
# window_retention.sh - a windowed table drops a window's rows once the
# watermark is past the window's end by the table's retention (issues 14
# and 15): they leave the table over HTTP and for `weir query`, its
# changelog gets a tombstone for each (the key, no value: a compacted topic
# converges to the table), and the windows closed before a restart age
# after it as well (their list is in the checkpoint).
. "$(dirname "$0")/../lib.sh"
plan 6

cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM clicks (page TEXT, ts TIMESTAMP) WITH (partitions = 1, timestamp = 'ts');
CREATE TABLE per_minute WITH (retention = '2 minutes') AS
  SELECT page, window_start, COUNT(*) AS n FROM TUMBLE(clicks, INTERVAL '1' MINUTE) GROUP BY page EMIT FINAL;
SQL
data="$SCRATCH/data"
# rows: GET /v1/tables/per_minute as "page@HH:MM=n" sorted, space-separated
rows() {
    curl -s "$URL/v1/tables/per_minute" | python3 -c 'import json, sys
print(" ".join(sorted("%s@%s=%d" % (r["page"], r["window_start"][11:16], r["n"]) for r in json.load(sys.stdin)["rows"])))' 2>/dev/null
}
wait_rows() { # wait_rows WANT
    for i in $(seq 600); do [ "$(rows)" = "$1" ] && return 0; sleep 0.1; done
    diag "per_minute: $(rows)"; return 1
}
start_serve -f "$SCRATCH/p.sql" --data "$data" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start"; exit 1; }
req POST /v1/streams/clicks --data-binary '{"page":"a","ts":"2026-11-23T10:00:05Z"}
{"page":"a","ts":"2026-11-23T10:00:20Z"}
{"page":"b","ts":"2026-11-23T10:01:10Z"}
{"page":"a","ts":"2026-11-23T10:02:30Z"}'
[ "$STATUS" = 200 ] || diag "ingest: $STATUS $BODY"
wait_rows "a@10:00=2 b@10:01=1"; ok $? "closed windows are in the table while their retention lasts"
# the watermark at 10:03:30 is past 10:01 (a's window end) by 2 minutes and a half
req POST /v1/streams/clicks --data-binary '{"page":"c","ts":"2026-11-23T10:03:30Z"}'
wait_rows "a@10:02=1 b@10:01=1"; ok $? "the window that ended more than the retention ago left the table"

# a checkpoint after the last record, then a restart: b@10:01 and a@10:02 closed before it
t0=$(date +%s.%N)
for i in $(seq 600); do
    age=$(curl -s "$URL/healthz" | sed -n 's/.*"checkpoint_age_s":\([0-9.]*\).*/\1/p')
    awk -v a="${age:-1e9}" -v t0="$t0" -v now="$(date +%s.%N)" 'BEGIN { exit !(a < now - t0) }' && break
    sleep 0.1
done
stop_serve
start_serve -f "$SCRATCH/p.sql" --data "$data" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start again"; exit 1; }
req POST /v1/streams/clicks --data-binary '{"page":"c","ts":"2026-11-23T10:05:10Z"}'
wait_rows "c@10:03=1"; ok $? "windows closed before a restart age after it"
stop_serve

$WEIR consume per_minute --data "$data" --from-beginning --exit --meta > "$SCRATCH/consumed" 2>&1
tomb=$(grep -c '"value":null}' "$SCRATCH/consumed")
[ "$tomb" = 3 ]; ok $? "the changelog has a tombstone for each row that aged: $tomb"
keys() { python3 -c 'import json, sys
print(" ".join(sorted(r["key"] for r in map(json.loads, sys.stdin) if (r["value"] is None) == (sys.argv[1] == "tombstones"))))' "$1" < "$SCRATCH/consumed"; }
tombs=$(keys tombstones)
[ "$tombs" = "$(keys rows | tr ' ' '\n' | grep -v '"page":"c"' | tr '\n' ' ' | sed 's/ $//')" ]
ok $? "each tombstone is keyed as its row was: $tombs"
q=$($WEIR query --data "$data" -f "$SCRATCH/p.sql" 'SELECT page, n FROM per_minute ORDER BY page' 2>&1)
[ "$(echo "$q" | tr -d '\n')" = '{"page":"c","n":1}' ]; ok $? "weir query reads the table without the aged rows: $q"
finish
