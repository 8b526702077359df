#!/usr/bin/env bash
# clickhouse_tables.sh - what a ClickHouse user finds (issue 15, item 5),
# against Debian's clickhouse-server 18.16: a weir table lands in a
# ReplacingMergeTree that SELECT ... FINAL reads as the table's current rows
# (a NULL key apart from ''), a stream stays a MergeTree history, a
# timestamp keeps its milliseconds (18.16 has no DateTime64: <col>_ms), and
# the sink logs in as a user with a password into a database; a wrong
# password stops the sink with ClickHouse's message, and the password is
# shown nowhere; over https (18.16's https_port, a self-signed certificate
# made here) with ca_file, a certificate that does not check out stops the
# sink, and an unreadable ca_file stops weir at start. With a Kafka source
# (mock cluster), a table over it lands whole, and so does the source's own
# table: its sink reads the topic, where both kcat's and weir's records are.
. "$(dirname "$0")/../lib.sh"
plan 20
command -v clickhouse-server >/dev/null || { echo "Bail out! clickhouse-server is missing (make test installs it)"; exit 1; }
command -v openssl >/dev/null || { echo "Bail out! needs openssl (scripts/deps.sh test)"; exit 1; }
start_clickhouse "$SCRATCH/ch"; ok $? "clickhouse-server starts ($CH_URL)"
# Restarted with a user weir with a password, and an https_port with a self-signed certificate.
stop_clickhouse
sed -i 's|</users>|<weir><password>s3cret-pw</password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></weir></users>|' "$SCRATCH/ch/users.xml"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$SCRATCH/key.pem" -out "$SCRATCH/cert.pem" 2>/dev/null
hp=$(( $(sed -n 's|.*<http_port>\([0-9]*\)</http_port>.*|\1|p' "$SCRATCH/ch/config.xml") + 2 ))
sed -i "s|</yandex>|<https_port>$hp</https_port><openSSL><server><certificateFile>$SCRATCH/cert.pem</certificateFile><privateKeyFile>$SCRATCH/key.pem</privateKeyFile><verificationMode>none</verificationMode><loadDefaultCAFile>false</loadDefaultCAFile></server></openSSL></yandex>|" "$SCRATCH/ch/config.xml"
start_clickhouse "$SCRATCH/ch"
ch 'CREATE DATABASE shop'
[ "$(curl -s -u weir:s3cret-pw "$CH_URL/?database=shop" --data-binary 'SELECT currentDatabase()')" = shop ]
ok $? "user weir logs in with its password, and database shop exists"

AUTH="url = '$CH_URL', user = 'weir', password = 's3cret-pw', database = 'shop', create = true"
cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM clicks (page TEXT, user_id INT, at TIMESTAMP) WITH (partitions = 3, key = 'page', timestamp = 'at');
CREATE TABLE per_page AS SELECT page, COUNT(*) AS n, MAX(user_id) AS last_user FROM clicks GROUP BY page;
CREATE TABLE per_minute AS SELECT page, window_start, COUNT(*) AS n
  FROM TUMBLE(clicks, INTERVAL '1' MINUTE) GROUP BY page;
CREATE SINK raw FROM clicks WITH (connector = 'clickhouse', table = 'clicks', $AUTH);
CREATE SINK pages FROM per_page WITH (connector = 'clickhouse', table = 'per_page', $AUTH);
CREATE SINK minutes FROM per_minute WITH (connector = 'clickhouse', table = 'per_minute', $AUTH);
CREATE SINK denied FROM clicks WITH (connector = 'clickhouse', url = '$CH_URL', table = 'denied', create = true,
  user = 'weir', password = 'wr0ng-pw');
SQL
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100
# post FROM TO: clicks FROM..TO on pages p0..p6, every tenth without a page, an '' page too,
# batch k in minute k (milliseconds kept); three batches make every row change.
post() {
    local body="" i page
    for i in $(seq "$1" "$2"); do
        page="\"p$((i % 7))\""; [ $((i % 10)) = 0 ] && page=null; [ $((i % 10)) = 5 ] && page='""'
        body+="{\"page\":$page,\"user_id\":$i,\"at\":\"2026-11-23T10:0$(((i - 1) / 300)):00.$(printf %03d $((i % 1000)))Z\"}"$'\n'
    done
    printf '%s' "$body" > "$SCRATCH/post.ndjson"
    curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$SCRATCH/post.ndjson" "$URL/v1/streams/clicks"
}
shop() { curl -s -u weir:s3cret-pw "$CH_URL/?database=shop" --data-binary "$1"; }
st="$(post 1 300) $(post 301 600) $(post 601 900)"
[ "$st" = "200 200 200" ]; ok $? "900 clicks accepted in three batches ($st)"
for i in $(seq 300); do
    [ "$(shop 'SELECT sum(n) FROM per_page FINAL')" = 900 ] && [ "$(shop 'SELECT count() FROM clicks')" = 900 ] && break
    sleep 0.1
done
weir_rows() { # weir_rows TABLE: the table's rows as weir holds them, sorted TSV of page (NULL as \N) and n
    curl -s -X POST "$URL/v1/query" -d "{\"sql\": \"SELECT * FROM $1\"}" | sed 's/},{/}\n{/g' |
        sed -n 's/.*"page":\(null\|"[^"]*"\).*"n":\([0-9]*\).*/\1\t\2/p' | sed 's/^null/\\N/; s/"//g' | sort
}
[ "$(shop "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name IN ('per_page', 'clicks') ORDER BY name FORMAT TSV" | tr '\n' ' ')" = \
  "MergeTree ReplacingMergeTree " ]
ok $? "in database shop: the stream's table is a MergeTree, the table's a ReplacingMergeTree"
want=$(weir_rows per_page)
got=$(shop 'SELECT page, n FROM per_page FINAL FORMAT TSV' | sort)
[ "$(shop 'SELECT count() FROM per_page FINAL')" = 9 ] && [ "$got" = "$want" ] || diag "weir: $want; clickhouse: $got"
[ "$(shop 'SELECT count() FROM per_page FINAL')" = 9 ] && [ "$got" = "$want" ]
ok $? "SELECT count() FROM per_page FINAL is the table's 9 rows (p0..p6, '' and NULL apart), each as weir holds it"
[ "$(shop "SELECT last_user FROM per_page FINAL WHERE page = 'p5'")" = "$(( (900 / 7) * 7 - 2 ))" ]
ok $? "p5's row is its latest version (MAX(user_id) $(shop "SELECT last_user FROM per_page FINAL WHERE page = 'p5'"))"
want=$(curl -s -X POST "$URL/v1/query" -d '{"sql": "SELECT * FROM per_minute"}' | grep -o '"n":' | wc -l)
got=$(shop 'SELECT count(), sum(n) FROM per_minute FINAL FORMAT TSV')
[ "$got" = "$(printf '%s\t900' "$want")" ]
ok $? "a windowed table: FINAL has weir's $want (page, window_start) rows, 900 clicks in all ($got)"

# Milliseconds: 18.16 has no DateTime64, so at_ms holds them beside the DateTime.
[ "$(shop "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'clicks' AND name LIKE 'at%' FORMAT TSV" | tr '\t\n' ' ,')" = \
  "at Nullable(DateTime),at_ms Nullable(UInt64)," ]
ok $? "a TIMESTAMP column is a DateTime with a UInt64 at_ms beside it (ClickHouse $(ch 'SELECT version()'))"
[ "$(shop 'SELECT at, at_ms FROM clicks WHERE user_id = 457 FORMAT TSV')" = "$(printf '2026-11-23 10:01:00\t1795428060457')" ]
ok $? "a timestamp's milliseconds round-trip: 10:01:00.457Z is at_ms 1795428060457"
printf '%s\n' '{"page":"e","user_id":1001,"at":1795428060789}' '{"page":"e","user_id":1002,"at":"2026-11-23T11:01:00.250+01:00"}' |
    curl -s -o /dev/null -X POST --data-binary @- "$URL/v1/streams/clicks"
for i in $(seq 300); do [ "$(shop 'SELECT count() FROM clicks')" = 902 ] && break; sleep 0.1; done
[ "$(shop 'SELECT user_id, at, at_ms FROM clicks WHERE user_id > 1000 ORDER BY user_id FORMAT TSV' | tr '\t\n' ' ,')" = \
  "1001 2026-11-23 10:01:00 1795428060789,1002 2026-11-23 10:01:00 1795428060250," ]
ok $? "epoch milliseconds and an ISO time with an offset land as the same instants ($(shop 'SELECT at_ms FROM clicks WHERE user_id > 1000 FORMAT TSV' | tr '\n' ' '))"

# A wrong password: a failure that will not pass, with ClickHouse's words; the password shows nowhere.
denied() { curl -s "$URL/v1/sinks" | sed 's/},{/}\n{/g' | grep '"name":"denied"'; }
for i in $(seq 300); do denied | grep -q '"state":"failed"' && break; sleep 0.1; done
sleep 1 # a RETRY would have tried again three times by now
denied | grep -q '"failures":1,.*"up":false,"state":"failed".*Wrong password for user weir'
ok $? "a wrong password stops the sink: failed, once, with ClickHouse's message ($(denied | grep -o '"last_error":.*'))"
curl -s "$URL/v1/pipeline" > "$SCRATCH/pipeline"
curl -s "$URL/v1/sinks" "$URL/metrics" > "$SCRATCH/answers"
! grep -q 's3cret-pw\|wr0ng-pw' "$SCRATCH/pipeline" "$SCRATCH/answers" "$SCRATCH/serve.err" && grep -q "password = '\*\**'" "$SCRATCH/pipeline"
ok $? "neither /v1/pipeline, /v1/sinks, /metrics nor the log shows a password: $(grep -o "password = '[^']*'" "$SCRATCH/pipeline" | head -1)"
stop_serve

printf "CREATE STREAM s (x INT);\nCREATE SINK k FROM s WITH (connector = 'clickhouse', table = 't', url = 'ftp://h');\n" > "$SCRATCH/bad.sql"
$WEIR serve -f "$SCRATCH/bad.sql" --listen off --once 2>"$SCRATCH/bad.err"
[ $? != 0 ] && grep -q "option url of connector 'clickhouse': it must start with http:// or https://" "$SCRATCH/bad.err"
ok $? "a url that is not http(s) is refused at start, naming the option ($(head -1 "$SCRATCH/bad.err"))"

# https: the certificate checked against ca_file.
cat > "$SCRATCH/tls.sql" <<SQL
CREATE STREAM notes (id INT);
CREATE SINK tls FROM notes WITH (connector = 'clickhouse', url = 'https://127.0.0.1:$hp', ca_file = '$SCRATCH/cert.pem',
  table = 'notes', create = true, user = 'weir', password = 's3cret-pw', database = 'shop');
CREATE SINK untrusted FROM notes WITH (connector = 'clickhouse', url = 'https://127.0.0.1:$hp', table = 'other', create = true);
SQL
WEIR_DATA="$SCRATCH/tls" start_serve -f "$SCRATCH/tls.sql"
printf '{"id":%d}\n' 1 2 3 | curl -s -o /dev/null -X POST --data-binary @- "$URL/v1/streams/notes"
for i in $(seq 300); do [ "$(shop 'SELECT count() FROM notes')" = 3 ] && break; sleep 0.1; done
[ "$(shop 'SELECT count() FROM notes')" = 3 ]; ok $? "over https (the certificate checked against ca_file), the rows land"
untrusted() { curl -s "$URL/v1/sinks" | sed 's/},{/}\n{/g' | grep '"name":"untrusted"'; }
for i in $(seq 300); do untrusted | grep -q '"state":"failed"' && break; sleep 0.1; done
untrusted | grep -q '"failures":1,.*"state":"failed".*certificate'
ok $? "without ca_file the self-signed certificate is refused, and the sink stops ($(untrusted | grep -o '"last_error":.*'))"
stop_serve
sed -i "s|ca_file = '[^']*'|ca_file = '$SCRATCH/missing.pem'|" "$SCRATCH/tls.sql"
WEIR_DATA="$SCRATCH/tls2" $WEIR serve -f "$SCRATCH/tls.sql" --listen off --once 2>"$SCRATCH/bad.err"
[ $? != 0 ] && grep -q "sink tls: option ca_file: cannot read $SCRATCH/missing.pem: No such file" "$SCRATCH/bad.err"
ok $? "an unreadable ca_file stops weir at start, naming the option ($(head -1 "$SCRATCH/bad.err"))"

# serve --clickhouse takes the user and password in the URL; they show nowhere either.
printf 'CREATE STREAM memos (id INT, at TIMESTAMP);\n' > "$SCRATCH/all.sql"
WEIR_DATA="$SCRATCH/all" start_serve -f "$SCRATCH/all.sql" --clickhouse "http://weir:s3cret-pw@${CH_URL#http://}"
printf '{"id":1,"at":"2026-11-23T10:00:00.001Z"}\n' | curl -s -o /dev/null -X POST --data-binary @- "$URL/v1/streams/memos"
for i in $(seq 300); do [ "$(ch 'SELECT at_ms FROM memos')" = 1795428000001 ] && break; sleep 0.1; done
[ "$(ch 'SELECT at_ms FROM memos')" = 1795428000001 ] && ! curl -s "$URL/v1/sinks" "$URL/v1/pipeline" | grep -q s3cret
ok $? "serve --clickhouse http://weir:PASSWORD@host logs in as weir, and /v1/sinks and /v1/pipeline do not show it"
stop_serve

# A Kafka source (--kafka, the mock cluster): records kcat writes to the topic and records posted to weir.
start_kafka_mock events:3
printf "CREATE STREAM events (user TEXT, n INT) WITH (partitions = 3, key = 'user');\n%s\n" \
    'CREATE TABLE per_user AS SELECT user, COUNT(*) AS c FROM events GROUP BY user;' > "$SCRATCH/k.sql"
seq 1 100 | awk '{ printf "u%d\t{\"user\":\"u%d\",\"n\":%d}\n", $1 % 9, $1 % 9, $1 }' |
    kcat -b "$B" -t events -P -K '\t' -X topic.partitioner=murmur2_random 2>/dev/null
WEIR_DATA="$SCRATCH/k" start_serve -f "$SCRATCH/k.sql" --checkpoint-ms 100 --kafka "$B" --clickhouse "$CH_URL"
seq 101 110 | awk '{ printf "{\"user\":\"u%d\",\"n\":%d}\n", $1 % 9, $1 }' |
    curl -s -o /dev/null -X POST --data-binary @- "$URL/v1/streams/events"
for i in $(seq 300); do [ "$(ch 'SELECT sum(c) FROM per_user FINAL')" = 110 ] && break; sleep 0.1; done
[ "$(ch 'SELECT count(), sum(c) FROM per_user FINAL FORMAT TSV')" = "$(printf '9\t110')" ]
ok $? "a table over a Kafka source lands whole: FINAL has its 9 users and 110 records"
# The source's own table: its sink reads the topic (its own consumer), not weir's log, which holds only the 10 posted.
for i in $(seq 300); do [ "$(ch 'SELECT count() FROM events')" = 110 ] && break; sleep 0.1; done
[ "$(ch 'SELECT count(), uniqExact(n), sum(n) FROM events FORMAT TSV')" = "$(printf '110\t110\t6105')" ]
ok $? "the Kafka source's own table has each of the 110 records once, those kcat wrote to the topic too ($(ch 'SELECT count(), uniqExact(n) FROM events FORMAT TSV'))"
# killed, 20 more written to the topic, started again: the sink goes on from the table's max(_weir_offset), Kafka offsets
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
seq 111 130 | awk '{ printf "u%d\t{\"user\":\"u%d\",\"n\":%d}\n", $1 % 9, $1 % 9, $1 }' |
    kcat -b "$B" -t events -P -K '\t' -X topic.partitioner=murmur2_random 2>/dev/null
WEIR_DATA="$SCRATCH/k" start_serve -f "$SCRATCH/k.sql" --checkpoint-ms 100 --kafka "$B" --clickhouse "$CH_URL"
for i in $(seq 300); do [ "$(ch 'SELECT count() FROM events')" -ge 130 ] && break; sleep 0.1; done
sleep 0.5 # anything delivered twice would land by now
[ "$(ch 'SELECT count(), uniqExact(n) FROM events FORMAT TSV')" = "$(printf '130\t130')" ]
ok $? "after kill -9 and a restart it delivers the topic's 20 new records, none twice ($(ch 'SELECT count(), uniqExact(n) FROM events FORMAT TSV'))"
stop_serve
kill "$mock" 2>/dev/null; wait "$mock" 2>/dev/null
stop_clickhouse
finish
