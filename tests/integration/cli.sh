#!/usr/bin/env bash
# cli.sh - the weir command line: help, exit codes, error messages that say
# where, produce/consume/streams, consumer groups, all-or-nothing batches.
. "$(dirname "$0")/../lib.sh"
plan 39

$WEIR --help | grep -q "produce" ; ok $? "weir --help lists the commands"
for c in produce consume streams; do
    $WEIR $c --help | grep -q "usage: weir $c"; ok $? "weir $c --help"
done
$WEIR frobnicate 2>/dev/null; ok $(( $? != 2 )) "unknown command exits 2"
$WEIR produce 2>/dev/null; ok $(( $? != 2 )) "missing argument exits 2"
$WEIR consume s --bogus 2>"$SCRATCH/err"; rc=$?
[ $rc -eq 2 ] && grep -q "unknown option --bogus" "$SCRATCH/err"; ok $? "unknown option exits 2 and is named"
$WEIR produce s --fsync sometimes </dev/null 2>"$SCRATCH/err"; rc=$?
[ $rc -eq 2 ] && grep -q "not one of group, always, none" "$SCRATCH/err"; ok $? "bad --fsync value exits 2"

printf '{"id":1,"user":"ann"}\n{"id":2,"user":"bob"}\n{"id":3,"user":"ann"}\n' > "$SCRATCH/good.ndjson"
$WEIR produce logins "$SCRATCH/good.ndjson" --key user; ok $? "produce from a file"
[ "$($WEIR consume logins --from-beginning --exit | wc -l)" -eq 3 ]; ok $? "consume prints the 3 records"
$WEIR consume logins --from-beginning -e --meta | grep -q '"key":"ann","value":{"id":1,"user":"ann"}'; ok $? "--meta shows key and raw value"
[ "$($WEIR consume logins -e | wc -l)" -eq 0 ]; ok $? "without --from-beginning consume starts at the end"
$WEIR streams | grep -Eq '^logins +4 +3 '; ok $? "streams lists logins with 4 partitions and 3 records"
$WEIR streams --json | grep -q '"stream":"logins","partitions":4,"records":3'; ok $? "streams --json"

# A bad line: exit 1, message with file:line:column and byte offset, and
# nothing of its batch appended.
printf '{"id":4,"user":"cy"}\n{"id":5,\n{"id":6}\n' > "$SCRATCH/bad.ndjson"
$WEIR produce logins "$SCRATCH/bad.ndjson" 2>"$SCRATCH/err"; rc=$?
[ $rc -eq 1 ]; ok $? "malformed NDJSON exits 1"
grep -q "bad.ndjson:2:9 (byte 29): expected a member name in quotes" "$SCRATCH/err"; ok $? "error names line, column and byte offset"
diag "$(cat "$SCRATCH/err")"
[ "$($WEIR consume logins --from-beginning -e | wc -l)" -eq 3 ]; ok $? "nothing of the bad batch was appended"
printf '[1,2]\n' | $WEIR produce logins 2>"$SCRATCH/err"
grep -q "expected a JSON object" "$SCRATCH/err"; ok $? "a non-object line is refused"
printf '  \n\n{"id":7,"user":"dee"}\r\n{"id":8,"user":"eve"}' | $WEIR produce logins --key user; ok $? "blank lines, CRLF and a last line without newline"
[ "$($WEIR consume logins --from-beginning -e | wc -l)" -eq 5 ]; ok $? "both records arrived"

# Consumer groups: resume where committed.
[ "$($WEIR consume logins --group g1 --max 2 | wc -l)" -eq 2 ]; ok $? "group reads 2"
[ "$($WEIR consume logins --group g1 --exit | wc -l)" -eq 3 ]; ok $? "group resumes and reads the other 3"
[ "$($WEIR consume logins --group g1 --exit | wc -l)" -eq 0 ]; ok $? "group is at the end"
[ "$($WEIR consume logins --group g2 --exit | wc -l)" -eq 5 ]; ok $? "a new group starts at the beginning"

# Explicit partition and offset.
$WEIR produce one --partitions 1 "$SCRATCH/good.ndjson"
[ "$($WEIR consume one -p 0 -o 1 -e | head -1)" = '{"id":2,"user":"bob"}' ]; ok $? "--partition 0 --offset 1"
$WEIR consume one -p 3 -e 2>"$SCRATCH/err"; rc=$?
[ $rc -eq 2 ] && grep -q "has no partition 3" "$SCRATCH/err"; ok $? "a partition that does not exist is a usage error"
$WEIR consume nosuch -e 2>"$SCRATCH/err"; rc=$?
[ $rc -eq 1 ] && grep -q "stream 'nosuch' does not exist" "$SCRATCH/err"; ok $? "a missing stream is reported"

# One writer at a time; readers any time.
(sleep 2 | $WEIR produce logins) &
sleep 0.5
$WEIR produce logins </dev/null 2>"$SCRATCH/err"; rc=$?
[ $rc -eq 1 ] && grep -q "in use by another weir process (pid [0-9]*)" "$SCRATCH/err"; ok $? "a second writer is refused with the holder's pid"
$WEIR consume logins --from-beginning -e >/dev/null; ok $? "a reader works while a writer holds the lock"
wait

# WEIR_DATA and --data.
$WEIR produce elsewhere --data "$SCRATCH/other" < "$SCRATCH/good.ndjson"
[ -f "$SCRATCH/other/streams/elsewhere/stream.conf" ]; ok $? "--data chooses the directory"

# Retention: whole old segments go, the rest reads contiguously to the end.
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "{\"id\":%d,\"pad\":\"%050d\"}\n", i, 0 }' > "$SCRATCH/many.ndjson"
$WEIR produce kept --partitions 1 --segment-bytes 65536 --retention-bytes 200000 "$SCRATCH/many.ndjson"; ok $? "produce with segment and retention settings"
start=$($WEIR streams --json | grep '"stream":"kept"' | sed 's/.*"offsets":\[{"start":\([0-9]*\),"end":\([0-9]*\)}.*/\1 \2/')
diag "kept: start-end $start"
[ "${start% *}" -gt 0 ] && [ "${start#* }" -eq 20000 ]; ok $? "old segments were deleted, the end is intact"
first=$($WEIR consume kept --from-beginning -e | head -1 | sed 's/{"id":\([0-9]*\),.*/\1/')
[ "$first" = "${start% *}" ]; ok $? "reading from the beginning starts at the first retained offset"
[ "$($WEIR consume kept --from-beginning -e | wc -l)" -eq $((20000 - ${start% *})) ]; ok $? "and reads every later record"

# Small things a new user meets first.
$WEIR consume logins -b -e >/dev/null 2>"$SCRATCH/err"; rc=$?
[ $rc = 2 ] && grep -q "unknown option -b" "$SCRATCH/err"; ok $? "consume -b is not --from-beginning (Kafka's tools use -b for brokers)"
$WEIR --version | grep -q '^weir [0-9][0-9.]* (build [^)]*)$'; ok $? "weir --version names the version and the build: $($WEIR --version)"
$WEIR query 'SELECT * FROM t' --data "$SCRATCH/never" 2>"$SCRATCH/err"; rc=$?
[ $rc = 1 ] && grep -q "no pipeline has run on $SCRATCH/never.*weir serve -f PIPELINE" "$SCRATCH/err"
ok $? "weir query on a directory no pipeline ran on says so: $(cat "$SCRATCH/err")"
printf 'CREATE STREAM ev (k TEXT);\nCREATE TABLE m AS SELECT k, COUNT(*) AS n FROM TUMBLE(ev, INTERVAL %s) GROUP BY k;\n' "'1' MINUTE" > "$SCRATCH/w.sql"
echo '{"k":"a"}' | $WEIR replay -f "$SCRATCH/w.sql" --input - >"$SCRATCH/out" 2>"$SCRATCH/err"; rc=$?
[ $rc = 2 ] && [ ! -s "$SCRATCH/out" ] && grep -q "a window over ev, which has no timestamp column" "$SCRATCH/err"
ok $? "a replay of windows over a stream without event time is refused, not put in 1970: $(cat "$SCRATCH/err")"
# replay reads its input a bounded buffer at a time: from a pipe too, with a
# record longer than the buffer and a last line without a newline.
printf 'CREATE STREAM r (k TEXT, pad TEXT);\nCREATE STREAM o AS SELECT k, length(pad) AS n FROM r;\n' > "$SCRATCH/r.sql"
{ echo '{"k":"a","pad":""}'; printf '{"k":"b","pad":"%s"}\n' "$(head -c 3000000 /dev/zero | tr '\0' x)"; printf '{"k":"c","pad":"xy"}'; } |
    $WEIR replay -f "$SCRATCH/r.sql" --input - --output o > "$SCRATCH/out"
[ "$(cat "$SCRATCH/out")" = "$(printf '{"k":"a","n":0}\n{"k":"b","n":3000000}\n{"k":"c","n":2}')" ]
ok $? "replay streams a pipe, a 3 MB record and an unterminated last line: $(head -c 200 "$SCRATCH/out")"
finish
