#!/usr/bin/env bash
# retention.sh - a running weir serve applies the streams' retention and
# compacts tables' changelogs: a source stream with WITH (retention = '3 s')
# loses its old sealed segments while the server runs, and a pull scan, a
# consumer group that had committed offset 0 and the records API all start
# at the first retained offset without error; the settings each stream
# gets (7 days by default, --retention, 'forever', a table's compaction)
# are in its stream.conf; a table's changelog written past its 4 MiB
# segments is compacted to its last row per key, which a consumer, the
# records API and a restart read intact.
. "$(dirname "$0")/../lib.sh"
plan 14
conf() { cat "$WEIR_DATA/streams/$1/stream.conf" 2>/dev/null | tr '\n' ' '; }
field() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" <<<"$1"; } # field JSON NAME: a number in a one-line JSON object
stream_json() { $WEIR streams --json | grep "\"stream\":\"$1\""; }

cat >"$SCRATCH/p.sql" <<'EOF'
CREATE STREAM ev (k TEXT, n INT) WITH (partitions = 1, key = 'k', retention = '3 s');
CREATE STREAM kept (k TEXT, n INT) WITH (partitions = 1, retention = 'forever');
CREATE STREAM plain (k TEXT, n INT) WITH (partitions = 1);
CREATE STREAM copies WITH (retention = '1 hour') AS SELECT k, n FROM ev;
CREATE TABLE counts AS SELECT k, COUNT(*) AS c, MAX(n) AS top FROM ev GROUP BY k;
EOF

# Small segments, written before the server starts (ten commits: a
# segment rolls between commits): they are sealed, and 3 s old soon.
for i in $(seq 0 9); do
    seq $((i * 200 + 1)) $((i * 200 + 200)) | awk '{ printf "{\"k\":\"k%d\",\"n\":%d}\n", $1 % 10, $1 }' |
        $WEIR produce ev --partitions 1 --segment-bytes 4096 --key k || break
done
[ "$(ls "$WEIR_DATA/streams/ev/0" | grep -c '\.log$')" -ge 5 ]
ok $? "2000 records produced into 4 KiB segments"
$WEIR consume ev --group g --max 1 >/dev/null
ok $? "a consumer group commits offset 1"

start_serve -f "$SCRATCH/p.sql" --retention '2 days' || { finish; exit 1; }
ok 0 "serve starts"
[[ "$(conf ev)" == *"retention_ms=3000 "* ]] && [[ "$(conf kept)" == *"retention_ms=0 "* ]] &&
    [[ "$(conf plain)" == *"retention_ms=172800000 "* ]] && [[ "$(conf copies)" == *"retention_ms=3600000 "* ]] &&
    [[ "$(conf ev.dlq)" == *"retention_ms=3000 "* ]] && [[ "$(conf plain.dlq)" == *"retention_ms=172800000 "* ]]
ok $? "retention: WITH's where given, else --retention; dead letters as their stream"
[[ "$(conf counts)" == *"compact=1"* && "$(conf counts)" == *"retention_ms=0 "* && "$(conf copies)" != *compact* ]]
ok $? "a table's changelog is compacted, with no time limit; a derived stream is not"

# The server deletes ev's sealed segments once their records are 3 s old
# (the later ones a little later): wait for the active segment alone.
segments() { ls "$WEIR_DATA/streams/ev/0" | grep -c '\.log$'; }
for i in $(seq 600); do
    [ "$(segments)" -eq 1 ] && break
    sleep 0.1
done
start=$(field "$(stream_json ev)" start)
end=$(field "$(stream_json ev)" end)
[ "${start:-0}" -gt 0 ] && [ "$end" -eq 2000 ]
ok $? "the running server deleted ev's old segments (start $start, end $end)"

req POST /v1/query -d '{"sql":"SELECT n FROM ev"}'
rows=$(grep -o '"n":' <<<"$BODY" | wc -l)
[ "$STATUS" = 200 ] && [ "$rows" -eq $((end - start)) ]
ok $? "a pull scan reads the retained records, no error ($STATUS, $rows rows)"
req GET "/v1/streams/ev/records?partition=0&offset=0&limit=1"
expect 200 "\"offset\":$start" "the records API from offset 0 starts at the first retained offset"
got=$($WEIR consume ev --group g --exit 2>"$SCRATCH/consume.err" | wc -l)
[ "$got" -eq $((end - start)) ] && [ ! -s "$SCRATCH/consume.err" ]
ok $? "a consumer group behind the start reads on from it without error ($got records; $(cat "$SCRATCH/consume.err"))"

# 150,000 updates of 10 keys: the changelog passes its 4 MiB segment and is compacted.
seq 1 150000 | awk '{ printf "{\"k\":\"k%d\",\"n\":%d}\n", $1 % 10, $1 }' | $WEIR produce ev >/dev/null
ok $? "150,000 more records through the running server"
# Compacted: its first segment (sealed at 4 MiB) keeps one row per key.
first="$WEIR_DATA/streams/counts/0/00000000000000000000.log"
for i in $(seq 1200); do
    [ "$(stat -c %s "$first")" -lt 10000 ] && [ "$(ls "$WEIR_DATA/streams/counts/0" | grep -c '\.log$')" -ge 2 ] && break
    sleep 0.1
done
diag "counts changelog: $(stream_json counts); files: $(ls -s "$WEIR_DATA/streams/counts/0" | tr '\n' ' ')"
[ "$(stat -c %s "$first")" -lt 10000 ]
ok $? "the table's changelog is compacted while the server runs"
# weir consume reads a pipeline's output up to its last checkpoint: wait for the one after the last update
for i in $(seq 600); do
    last=$($WEIR consume counts --from-beginning --exit | sed -n 's/.*"k":"k3".*"c":\([0-9]*\).*/\1/p' | tail -1)
    [ "$last" = 15200 ] && break
    sleep 0.1
done
[ "$last" = 15200 ]
ok $? "a consumer of the compacted changelog reads each key's last row (k3 counted $last times)"
req POST /v1/query -d '{"sql":"SELECT c FROM counts WHERE k = '"'k3'"'"}'
expect 200 '"c":15200' "the table answers the same"
stop_serve
start_serve -f "$SCRATCH/p.sql" || { finish; exit 1; }
req POST /v1/query -d '{"sql":"SELECT c FROM counts"}'
total=$(grep -o '"c":[0-9]*' <<<"$BODY" | awk -F: '{ t += $2 } END { print t }')
[ "$total" = 152000 ]
ok $? "after a restart the table still counts every record ($total)"
stop_serve
finish
