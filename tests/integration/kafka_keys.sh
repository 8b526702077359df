#!/usr/bin/env bash
# kafka_keys.sh - what weir writes to Kafka is what a compacting,
# header-reading Kafka user expects (issue 15): a windowed table's topic
# is keyed by its whole primary key (a key per row, so compaction keeps
# every row), a one-column table by that column; a derived stream keeps
# the key and the headers of the record each row came from, unless
# re-keyed by PARTITION BY (key and partition follow the new key); a null value read from a Kafka source is a
# dead letter with reason "null value" and record null; dead letters reach
# the <stream>.dlq topic under --kafka; weir_dead_letters_total counts by
# stream and reason. Against librdkafka's mock cluster, produced and read
# with kcat.
. "$(dirname "$0")/../lib.sh"
plan 7
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
start_kafka_mock logins:2
[ -n "$B" ] || { echo "Bail out! the mock cluster did not start"; exit 1; }

cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM logins (user TEXT, device TEXT, ok BOOL NOT NULL, ts TIMESTAMP)
    WITH (partitions = 2, key = 'user', timestamp = 'ts');
CREATE STREAM failed AS SELECT user, device FROM logins WHERE NOT ok;
CREATE STREAM by_device_stream AS SELECT user, upper(device) AS device FROM logins PARTITION BY device;
CREATE TABLE by_device AS SELECT device, window_start, COUNT(*) AS n
    FROM TUMBLE(logins, INTERVAL '1' MINUTE) GROUP BY device;
CREATE TABLE per_user AS SELECT user, COUNT(*) AS n FROM logins GROUP BY user;
SQL
# 5 devices x 3 minutes x 2 users; every third login failed; each with a trace header
for m in 0 1 2; do for d in ios android web tv car; do for u in ann bob; do
    i=$((${i:-0} + 1))
    printf '%s\t{"user":"%s","device":"%s","ok":%s,"ts":"2026-12-01T10:0%d:%02dZ"}\ttrace=t%d\n' \
        "$u" "$u" "$d" "$([ $((i % 3)) = 0 ] && echo false || echo true)" "$m" "$i" "$i"
done; done; done > "$SCRATCH/logins.tsv"
# kcat -P reads key and value split by -K; headers are given per run, so one run per record
while IFS=$'\t' read -r key value header; do
    printf '%s\t%s\n' "$key" "$value" | kcat -b "$B" -t logins -P -K $'\t' -H "$header" 2>/dev/null
done < "$SCRATCH/logins.tsv"
printf 'ann\t{"user":"ann","device":"ios","ts":"2026-12-01T10:05:00Z"}\n' | kcat -b "$B" -t logins -P -K $'\t' 2>/dev/null
printf 'ann\t\n' | kcat -b "$B" -t logins -P -K $'\t' -Z 2>/dev/null # -Z: the empty value is sent as null (a tombstone)

start_serve -f "$SCRATCH/p.sql" --kafka "$B" --checkpoint-ms 100 --idle-ms 200 ||
    { echo "Bail out! weir serve did not start"; exit 1; }
topic() { kcat -b "$B" -t "$1" -C -e -q -f "$2" 2>/dev/null; }
for i in $(seq 600); do [ "$(topic by_device '%k\n' | sort -u | wc -l)" -ge 15 ] && [ "$(topic logins.dlq '%k\n' | wc -l)" -ge 2 ] && break; sleep 0.1; done

keys=$(topic by_device '%k\n' | sort -u)
[ "$(echo "$keys" | wc -l)" = 15 ] && echo "$keys" | grep -qx '{"device":"ios","window_start":"2026-12-01T10:00:00Z"}'
ok $? "the windowed table's topic has a key per (device, window): $(echo "$keys" | wc -l), as $(echo "$keys" | head -1)"
[ "$(topic per_user '%k\n' | sort -u | tr '\n' ' ')" = "ann bob " ]; ok $? "a one-column table is keyed by that column's text"
failed=$(topic failed '%k %h\n' | sort)
# beside the sink's own anchors (weir.partition, weir.offset: where exactly-once resumes)
[ "$(echo "$failed" | wc -l)" = 10 ] && echo "$failed" | grep -q '^ann trace=t3\($\|,\)' &&
    ! echo "$failed" | grep -qv '^\(ann\|bob\) trace=t[0-9]*\(,weir\.partition=[01],weir\.offset=[0-9]*\)\?$'
ok $? "the derived stream keeps each record's key and trace header ($(echo "$failed" | head -2 | tr '\n' ';'))"
rekeyed=$(topic by_device_stream '%k %p\n' | sort -u)
[ "$(echo "$rekeyed" | cut -d' ' -f1 | tr '\n' ' ')" = "ANDROID CAR IOS TV WEB " ]
ok $? "PARTITION BY device re-keys the stream by the output column, one partition per key: $(echo "$rekeyed" | tr '\n' ' ')"
dlq=$(topic logins.dlq '%s\n')
echo "$dlq" | grep -q '"reason":"null value","record":null' && echo "$dlq" | grep -q '"reason":"column ok is missing or null'
ok $? "a tombstone and a CHECK violation reach the logins.dlq topic, the tombstone as record null"
m=$(curl -s "$URL/metrics")
echo "$m" | grep -qx 'weir_dead_letters_total{stream="logins",reason="null_value"} 1' &&
    echo "$m" | grep -qx 'weir_dead_letters_total{stream="logins",reason="constraint"} 1' &&
    echo "$m" | grep -qx 'weir_dead_letters_total{stream="logins",reason="undecodable"} 0'
ok $? "weir_dead_letters_total counts them by stream and reason: $(echo "$m" | grep '^weir_dead_letters_total{stream="logins"' | grep -v ' 0$' | tr '\n' ' ')"
n=$(curl -s "$URL/v1/query" -d '{"sql":"SELECT user, n FROM per_user"}')
echo "$n" | grep -q '{"user":"ann","n":15}' && echo "$n" | grep -q '{"user":"bob","n":15}'; ok $? "the pipeline counted the 30 valid logins: $n"
stop_serve
kill $mock; wait $mock 2>/dev/null
finish
