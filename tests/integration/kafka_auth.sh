#!/usr/bin/env bash
# kafka_auth.sh - a Kafka client that the cluster will never let in stops
# with the cluster's words instead of retrying for ever: against a real
# Apache Kafka 4.4 broker (tests/lib.sh start_kafka_broker) and its
# SASL_PLAINTEXT listener (mechanism PLAIN, one known user), a sink with
# the right password delivers and one with a wrong password stops in the
# failed state saying "authentication"; so does a sink whose only broker
# host does not resolve, and one whose TLS handshake fails (an openssl
# s_server with a self-signed certificate the client does not trust). A
# Kafka source with the right password is read; with a wrong one weir serve
# stops at start, saying why, and so does one whose broker host does not
# resolve. No password shows in /v1/sinks or the log.
. "$(dirname "$0")/../lib.sh"
plan 10
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
command -v openssl >/dev/null || { echo "Bail out! openssl is missing"; exit 1; }
start_kafka_broker || { echo "Bail out! the Kafka broker did not start"; exit 1; }
ok 0 "a real Kafka broker answers on $KB, SASL_PLAINTEXT on $KB_SASL (after $SECONDS s)"
for t in out src; do
    kafka_topics --create --topic "$t" --partitions 1 --replication-factor 1 >/dev/null ||
        { echo "Bail out! kafka-topics could not create $t"; exit 1; }
done

# A TLS server whose certificate nobody trusts, on a free loopback port.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=untrusted -days 1 -keyout "$SCRATCH/key.pem" \
    -out "$SCRATCH/cert.pem" >/dev/null 2>&1 || { echo "Bail out! openssl could not make a certificate"; exit 1; }
tls_port=$((20000 + RANDOM % 20000))
while ss -ltn 2>/dev/null | grep -q ":$tls_port "; do tls_port=$((20000 + RANDOM % 20000)); done
openssl s_server -quiet -accept "127.0.0.1:$tls_port" -cert "$SCRATCH/cert.pem" -key "$SCRATCH/key.pem" \
    </dev/null >/dev/null 2>&1 &
tls_pid=$!

sasl() { # sasl PASSWORD: the WITH options of a client of the SASL listener
    echo "brokers = '$KB_SASL', properties.security.protocol = 'SASL_PLAINTEXT', properties.sasl.mechanisms = 'PLAIN',
    properties.sasl.username = '$KAFKA_USER', properties.sasl.password = '$1'"
}
cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM events (id INT) WITH (partitions = 1);
CREATE SINK good FROM events WITH (connector = 'kafka', topic = 'out', $(sasl "$KAFKA_PASSWORD"));
CREATE SINK wrong FROM events WITH (connector = 'kafka', topic = 'out', $(sasl not-the-password));
CREATE SINK nohost FROM events WITH (connector = 'kafka', topic = 'out', brokers = 'no-such-host.invalid:9092');
CREATE SINK untrusted FROM events WITH (connector = 'kafka', topic = 'out', brokers = '127.0.0.1:$tls_port',
    properties.security.protocol = 'SSL');
SQL
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start"; exit 1; }
seq 10 | sed 's/.*/{"id":&}/' | curl -s -o /dev/null -X POST --data-binary @- "$URL/v1/streams/events"
wait_for() { # wait_for SECONDS CONDITION: until the shell condition holds
    local end=$((SECONDS + $1))
    while [ "$SECONDS" -lt "$end" ]; do eval "$2" && return 0; sleep 0.2; done
    eval "$2"
}
sink() { curl -s "$URL/v1/sinks" | sed 's/},{/}\n{/g' | grep "\"name\":\"$1\""; }
failed() { sink "$1" | grep -q "\"state\":\"failed\",\"last_error\":\"sink $1: kafka .*$2"; }

wait_for 60 '[ "$(kcat -b "$KB" -t out -C -e -q -f "%s\n" 2>/dev/null | wc -l)" -ge 10 ]'
ok $? "the sink with the right password delivers the 10 records ($(sink good))"
wait_for 60 'failed wrong "[Aa]uthentication"'
ok $? "the sink with a wrong password stops, failed, with the broker's words ($(sink wrong))"
wait_for 60 'failed nohost "resolve"'
ok $? "the sink whose broker host does not resolve stops, failed ($(sink nohost))"
wait_for 60 'failed untrusted "SSL"'
ok $? "the sink whose TLS handshake fails stops, failed ($(sink untrusted))"
failures() { sink "$1" | sed -n 's/.*"failures":\([0-9]*\).*/\1/p'; }
before=$(failures wrong) since=$SECONDS
# more records, which the good sink delivers, and 6 s (past a sink's longest backoff, 5 s): a retried sink would
# have tried again by then
seq 11 12 | sed 's/.*/{"id":&}/' | curl -s -o /dev/null -X POST --data-binary @- "$URL/v1/streams/events"
wait_for 60 '[ "$(kcat -b "$KB" -t out -C -e -q -f "%s\n" 2>/dev/null | wc -l)" -ge 12 ] && [ $((SECONDS - since)) -ge 6 ]' &&
    [ -n "$before" ] && [ "$(failures wrong)" = "$before" ]
ok $? "and it is not retried: its $before failures stay while new records are delivered ($(sink wrong))"
! curl -s "$URL/v1/sinks" | grep -q "$KAFKA_PASSWORD\|not-the-password" && ! grep -q "$KAFKA_PASSWORD\|not-the-password" "$SCRATCH/serve.err"
ok $? "no password shows in /v1/sinks or the log"
stop_serve
kill "$tls_pid"; wait "$tls_pid" 2>/dev/null

# A Kafka source: the right password reads the topic, a wrong one stops weir serve at start.
printf '{"id":%d}\n' 1 2 3 | kcat -b "$KB" -t src -P 2>/dev/null
source_sql() { # source_sql PASSWORD
    cat <<SQL
CREATE STREAM src (id INT) WITH (partitions = 1, connector = 'kafka', $(sasl "$1"));
CREATE TABLE total AS SELECT id, COUNT(*) AS n FROM src GROUP BY id;
SQL
}
source_sql "$KAFKA_PASSWORD" > "$SCRATCH/good.sql"
start_serve -f "$SCRATCH/good.sql" --checkpoint-ms 100 --data "$SCRATCH/good" || { echo "Bail out! weir serve did not start"; exit 1; }
query() { curl -s "$URL/v1/query" -d '{"sql":"SELECT n FROM total"}'; }
wait_for 60 '[ "$(query | grep -o "\"n\":1" | wc -l)" = 3 ]'
ok $? "a Kafka source with the right password reads the topic's 3 records ($(query))" || diag "$(tail -5 "$SCRATCH/serve.err")"
stop_serve
source_sql not-the-password > "$SCRATCH/wrong.sql"
timeout 120 "$WEIR" serve --listen 127.0.0.1:0 -f "$SCRATCH/wrong.sql" --data "$SCRATCH/wrong" 2>"$SCRATCH/wrong.err"
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "[Aa]uthentication" "$SCRATCH/wrong.err" && ! grep -q not-the-password "$SCRATCH/wrong.err"
ok $? "a Kafka source with a wrong password stops weir serve at start, saying why (exit $rc: $(tail -1 "$SCRATCH/wrong.err"))"
printf "CREATE STREAM src (id INT) WITH (partitions = 1, connector = 'kafka', brokers = 'no-such-host.invalid:9092');\n%s\n" \
    'CREATE TABLE total AS SELECT id, COUNT(*) AS n FROM src GROUP BY id;' > "$SCRATCH/nohost.sql"
timeout 120 "$WEIR" serve --listen 127.0.0.1:0 -f "$SCRATCH/nohost.sql" --data "$SCRATCH/nohost" 2>"$SCRATCH/nohost.err"
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "stream src: kafka no-such-host.invalid:9092: .*[Ff]ailed to resolve" "$SCRATCH/nohost.err"
ok $? "a Kafka source whose broker host does not resolve stops weir serve at start (exit $rc: $(tail -1 "$SCRATCH/nohost.err"))"
stop_kafka_broker
finish
