#!/usr/bin/env bash
# clickhouse_deletes.sh - a row that leaves a weir table (a tombstone in its
# changelog: the row's key, no value) is deleted from its ClickHouse table
# on Debian's clickhouse-server 18.16, and the Kafka sink sends it as a
# tombstone (key kept, null value). Nothing in the engine emits tombstones
# yet, so tests/helpers/sink_deliver hands the changelog records (rows, then
# tombstones) to the sinks as weir serve's sink thread would. Checked: the
# documented queries (SELECT ... FROM t FINAL WHERE NOT _weir_deleted, and
# with FINAL in a subquery) no longer show a deleted row, for a one-column key (a
# NULL key too), a two-column key with a window (18.16's <col>_ms in the
# sorting key) and a table without GROUP BY; a table made before deletes
# (no _weir_deleted) stops the sink with the ALTER TABLE to run.
. "$(dirname "$0")/../lib.sh"
plan 7
command -v clickhouse-server >/dev/null || { echo "Bail out! clickhouse-server is missing (make test installs it)"; exit 1; }
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
start_clickhouse "$SCRATCH/ch" || { echo "Bail out! clickhouse-server did not start"; exit 1; }
start_kafka_mock per_minute:2
DELIVER=$BUILD/tests/helpers/sink_deliver
cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM clicks (page TEXT, user_id INT, at TIMESTAMP) WITH (partitions = 2, key = 'page', timestamp = 'at');
CREATE TABLE per_page AS SELECT page, COUNT(*) AS n FROM clicks GROUP BY page;
CREATE TABLE per_minute AS SELECT page, window_start, COUNT(*) AS n FROM TUMBLE(clicks, INTERVAL '1' MINUTE) GROUP BY page;
CREATE TABLE total AS SELECT COUNT(*) AS n FROM clicks;
CREATE SINK pages FROM per_page WITH (connector = 'clickhouse', url = '$CH_URL', table = 'per_page', create = true);
CREATE SINK minutes FROM per_minute WITH (connector = 'clickhouse', url = '$CH_URL', table = 'per_minute', create = true);
CREATE SINK totals FROM total WITH (connector = 'clickhouse', url = '$CH_URL', table = 'total', create = true);
CREATE SINK old FROM per_page WITH (connector = 'clickhouse', url = '$CH_URL', table = 'old');
CREATE SINK topic FROM per_minute WITH (connector = 'kafka', topic = 'per_minute', brokers = '$B');
SQL
deliver() { "$DELIVER" "$SCRATCH/p.sql" "$1" 2 2>"$SCRATCH/deliver.err" >/dev/null; }
current() { ch "SELECT $2 FROM $1 FINAL WHERE NOT _weir_deleted ORDER BY $2 FORMAT CSV" | tr '\n' ' '; }
current_sub() { ch "SELECT $2 FROM (SELECT * FROM $1 FINAL) WHERE NOT _weir_deleted ORDER BY $2 FORMAT CSV" | tr '\n' ' '; }

# A one-column key: the record's key is the column's text (none for NULL).
printf '0\tp1\t{"page":"p1","n":1}\n0\tp1\t{"page":"p1","n":2}\n1\tp2\t{"page":"p2","n":5}\n0\t\\N\t{"page":null,"n":3}\n0\t\t{"page":"","n":4}\n' |
    deliver pages && [ "$(current per_page 'page, n')" = '"",4 "p1",2 "p2",5 \N,3 ' ]
ok $? "four rows of per_page land ($(current per_page 'page, n'); $(cat "$SCRATCH/deliver.err"))"
printf '0\tp1\t\n0\t\\N\t\n' | deliver pages && [ "$(current per_page 'page, n')" = '"",4 "p2",5 ' ] &&
    [ "$(current_sub per_page 'page, n')" = '"",4 "p2",5 ' ]
ok $? "tombstones of p1 and of the NULL key delete those rows, not the '' one ($(current per_page 'page, n'); $(cat "$SCRATCH/deliver.err"))"

# A windowed key: a JSON object of the GROUP BY columns and window_start (18.16 sorts by window_start_ms).
w0='"window_start":"2026-11-23T10:00:00.000Z"' w1='"window_start":"2026-11-23T10:01:00.000Z"'
printf '0\t{"page":"p1",%s}\t{"page":"p1",%s,"n":1}\n' "$w0" "$w0" > "$SCRATCH/minutes"
printf '0\t{"page":"p1",%s}\t{"page":"p1",%s,"n":2}\n' "$w1" "$w1" >> "$SCRATCH/minutes"
printf '1\t{"page":"p2",%s}\t{"page":"p2",%s,"n":7}\n' "$w0" "$w0" >> "$SCRATCH/minutes"
printf '0\t{"page":"p1",%s}\t\n' "$w0" >> "$SCRATCH/minutes"
deliver minutes < "$SCRATCH/minutes" && [ "$(current per_minute 'page, window_start_ms, n')" = '"p1",1795428060000,2 "p2",1795428000000,7 ' ]
ok $? "a tombstone keyed {page, window_start} deletes that window's row alone ($(current per_minute 'page, window_start_ms, n'); $(cat "$SCRATCH/deliver.err"))"
# no GROUP BY: one row, which a tombstone (without a key) deletes
printf '0\t\\N\t{"n":9}\n' | deliver totals && [ "$(current total n)" = '9 ' ] && printf '0\t\\N\t\n' | deliver totals &&
    [ "$(current total n)" = '' ] && [ "$(ch 'SELECT count() FROM total FINAL')" = 1 ]
ok $? "the row of a table without GROUP BY is deleted by its tombstone (the deleted version stays, filtered: $(ch 'SELECT count() FROM total FINAL'))"

# A table made before deletes: rows go in, a tombstone stops the sink saying what to do.
ch 'CREATE TABLE old (page Nullable(String), n Nullable(Int64), _weir_partition UInt32, _weir_offset UInt64) ENGINE = MergeTree ORDER BY (_weir_partition, _weir_offset)'
printf '0\tp1\t{"page":"p1","n":1}\n' | deliver old; rc1=$?
printf '0\tp1\t\n' | deliver old; rc2=$?
[ $rc1 = 0 ] && [ $rc2 = 2 ] && grep -q "table old has no column _weir_deleted.*ALTER TABLE old ADD COLUMN _weir_deleted UInt8" "$SCRATCH/deliver.err"
ok $? "a table without _weir_deleted takes rows, and a tombstone stops its sink, FATAL ($(cat "$SCRATCH/deliver.err"))"
ch 'ALTER TABLE old ADD COLUMN _weir_deleted UInt8' && printf '0\tp1\t\n' | deliver old && [ "$(ch 'SELECT count() FROM old WHERE NOT _weir_deleted')" = 1 ]
ok $? "after the ALTER TABLE the tombstone goes in"

# The Kafka sink: a tombstone keeps its key and has a null value (what a compacted topic drops the key for).
deliver topic < "$SCRATCH/minutes"
kcat -b "$B" -t per_minute -C -e -q -Z -f '%k|%s\n' 2>/dev/null | sort > "$SCRATCH/topic"
grep -qxF "{\"page\":\"p1\",$w0}|NULL" "$SCRATCH/topic" && [ "$(grep -c '|NULL$' "$SCRATCH/topic")" = 1 ] &&
    grep -qxF "{\"page\":\"p1\",$w0}|{\"page\":\"p1\",$w0,\"n\":1}" "$SCRATCH/topic"
ok $? "the Kafka sink sends the tombstone with its key and a null value ($(tr '\n' ' ' < "$SCRATCH/topic"))"
kill "$mock"; wait "$mock" 2>/dev/null
stop_clickhouse
finish
