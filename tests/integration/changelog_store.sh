#!/usr/bin/env bash
# changelog_store.sh - a table WITH (cleanup_policy = 'store') under a
# running weir serve: its changelog (4 MiB segments, neither compacted nor
# time-limited) loses its sealed segments once checkpointed, but no
# further back than a consumer group's committed offset, which holds it
# until the group moves on (or 7 days after the group's last commit); a restart answers from the state store (every
# row, though the changelog starts past most of them); weir query beside
# the server reads the store; --reset rebuilds it from the input;
# readers from before the kept start start
# at it (weir consume, the records API) or are told (a Kafka fetch gets
# OFFSET_OUT_OF_RANGE and kcat's reset policy applies; weir query without
# the state store says what was deleted and what to do).
. "$(dirname "$0")/../lib.sh"
plan 16
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
conf() { tr '\n' ' ' <"$WEIR_DATA/streams/$1/stream.conf" 2>/dev/null; }
field() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" <<<"$1"; } # field JSON NAME: a number in a one-line JSON object
start_of() { field "$($WEIR streams --json | grep "\"stream\":\"$1\"")" start; }
end_of() { field "$($WEIR streams --json | grep "\"stream\":\"$1\"")" end; }
N=200000 # records, each its own key: about 14 MB of changelog, three sealed segments and more
KEYS=$N

cat >"$SCRATCH/p.sql" <<'EOF'
CREATE STREAM ev (k TEXT, n INT) WITH (partitions = 1, key = 'k');
CREATE TABLE counts WITH (cleanup_policy = 'store') AS SELECT k, COUNT(*) AS c, MAX(n) AS top FROM ev GROUP BY k;
EOF
kserve() {
    start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 200 --kafka-listen 127.0.0.1:0 || return 1
    K=127.0.0.1:$(sed -n 's/.*speaking Kafka on .* (port \([0-9]*\)).*/\1/p' "$SCRATCH/serve.err")
}
# wait_for SECONDS COMMAND...: until the command succeeds (false after SECONDS)
wait_for() {
    local i limit=$(($1 * 10))
    shift
    for i in $(seq "$limit"); do "$@" && return 0; sleep 0.1; done
    return 1
}
checkpointed() { [ "$($WEIR consume counts --from-beginning --exit 2>/dev/null | wc -l)" -ge "$1" ]; }

kserve || { finish; exit 1; }
[[ "$(conf counts)" == *"segment_bytes=4194304 "* && "$(conf counts)" == *"retention_ms=0 "* &&
   "$(conf counts)" != *compact* ]]
ok $? "the changelog has 4 MiB segments, no time retention, no compaction: $(conf counts)"
got=$($WEIR query "DESCRIBE counts")
[[ "$got" == *'"cleanup_policy":"store"'* ]]
ok $? "DESCRIBE says the policy: $got"

# A consumer group that read one row holds the changelog back from offset 1;
# another one's offsets, last committed 8 days ago, hold nothing (Kafka's offsets.retention.minutes).
echo '{"k":"first","n":0}' | $WEIR produce ev >/dev/null &&
    wait_for 60 checkpointed 1 && $WEIR consume counts --group slow --max 1 >/dev/null &&
    $WEIR consume counts --group gone --max 1 >/dev/null && touch -d '8 days ago' "$WEIR_DATA/groups/gone/counts.offsets"
ok $? "a consumer group commits offset 1 of the changelog (and an abandoned one did 8 days ago)"

seq 1 $N | awk '{ printf "{\"k\":\"k%d\",\"n\":%d}\n", $1, $1 }' | $WEIR produce ev >/dev/null
ok $? "$N records, each its own key, through the running server"
wait_for 300 checkpointed $((N + 1))
ok $? "the changelog holds a row per key up to the last checkpoint"
[ "$(start_of counts)" -eq 0 ]
ok $? "nothing deleted below the group's offset (the changelog starts at $(start_of counts))"

# The group moves to offset G (inside the second segment): the changelog goes up to it, no further.
G=70000
$WEIR consume counts --group slow --max $((G - 1)) >/dev/null
started() { [ "$(start_of counts)" -gt 0 ]; }
wait_for 60 started
start=$(start_of counts)
[ "${start:-0}" -gt 0 ] && [ "$start" -le $G ]
ok $? "with the group at $G the changelog starts at $start"
# The group reads to the end: every sealed segment below the checkpoint goes.
$WEIR consume counts --group slow --exit >/dev/null
past_group() { [ "$(start_of counts)" -gt $G ]; }
wait_for 60 past_group
start=$(start_of counts)
end=$(end_of counts)
[ "${start:-0}" -gt $G ] && [ $((end - start)) -lt 120000 ]
ok $? "with the group at the end it starts at $start of $end (the active segment and what follows the checkpoint)"

got=$($WEIR consume counts --from-beginning --exit --meta | head -1)
[ "$(field "$got" offset)" -ge "$start" ]
ok $? "weir consume from the beginning starts at the first kept offset ($(field "$got" offset))"
got=$(kcat -b "$K" -C -t counts -p 0 -o 0 -c 1 -e -q -f '%o\n' -X auto.offset.reset=earliest 2>&1)
[ "${got:-0}" -ge "$start" ] 2>/dev/null
ok $? "a Kafka fetch from offset 0 is out of range; with auto.offset.reset=earliest kcat reads from $got"
got=$(kcat -b "$K" -C -t counts -p 0 -o 0 -c 1 -e -q -f '%o\n' -X auto.offset.reset=error 2>&1)
[[ "$got" == *"out of range"* || "$got" == *"Offset out of range"* || "$got" == *"OFFSET_OUT_OF_RANGE"* ]]
ok $? "with auto.offset.reset=error kcat is told: $(head -1 <<<"$got")"

total() { grep -o '"c":[0-9]*' <<<"$1" | awk -F: '{ t += $2; n++ } END { print n + 0, t + 0 }'; }
got=$($WEIR query "SELECT c FROM counts")
[ "$(total "$got")" = "$((KEYS + 1)) $((N + 1))" ]
ok $? "weir query beside the server reads every row from the state store ($(total "$got"))"

stop_serve
kserve || { finish; exit 1; }
req POST /v1/query -d '{"sql":"SELECT c FROM counts"}'
[ "$STATUS" = 200 ] && [ "$(total "$BODY")" = "$((KEYS + 1)) $((N + 1))" ]
ok $? "after a restart the table has every row, read from the store ($STATUS, $(total "$BODY"))"
req GET '/v1/tables/counts?key=k5'
expect 200 '"top":5' "a row whose changelog record is gone answers by key"
stop_serve

# --reset empties the changelog (its offsets go on from its end) and makes every row again from the input.
start_serve -f "$SCRATCH/p.sql" --reset || { finish; exit 1; }
all_counted() { req POST /v1/query -d '{"sql":"SELECT c FROM counts"}'; [ "$(total "$BODY")" = "$((KEYS + 1)) $((N + 1))" ]; }
wait_for 300 all_counted
ok $? "--reset rebuilds the table from the input ($(total "$BODY"))"
stop_serve

mv "$WEIR_DATA/state" "$SCRATCH/state.away"
got=$($WEIR query "SELECT c FROM counts" 2>&1)
rc=$?
mv "$SCRATCH/state.away" "$WEIR_DATA/state"
[ $rc -ne 0 ] && [[ "$got" == *"starts at offset"* && "$got" == *"--reset"* ]]
ok $? "without the state store weir query says the changelog was cut and what to do: $got"
finish
