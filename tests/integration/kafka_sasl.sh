#!/usr/bin/env bash
# kafka_sasl.sh - `weir serve --token T --kafka-listen`: Kafka clients
# authenticate with SASL PLAIN and the password T. kcat and confluent-kafka
# (librdkafka: SaslHandshake v1 and SaslAuthenticate) and kafka-python
# (its own handshake) get in with the token; a wrong password and a client
# that skips SASL are turned away, and the server says why.
. "$(dirname "$0")/../lib.sh"
plan 6
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
PY=/usr/bin/python3 # Debian's, which has python3-kafka and python3-confluent-kafka
$PY -c 'import kafka, confluent_kafka' 2>/dev/null || { echo "Bail out! python3-kafka or python3-confluent-kafka is missing (make test installs them)"; exit 1; }
echo 'CREATE STREAM events (id INT) WITH (partitions = 1);' > "$SCRATCH/p.sql"
start_serve -f "$SCRATCH/p.sql" --token s3cret --kafka-listen 127.0.0.1:0 || { echo "Bail out! weir serve did not start"; exit 1; }
K=127.0.0.1:$(sed -n 's/.*speaking Kafka on .* (port \([0-9]*\)).*/\1/p' "$SCRATCH/serve.err")
sasl=(-X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN -X sasl.username=anyone)

echo '{"id": 1}' | kcat -b "$K" "${sasl[@]}" -X sasl.password=s3cret -P -t events 2>"$SCRATCH/kcat.err" &&
    got=$(kcat -b "$K" "${sasl[@]}" -X sasl.password=s3cret -C -t events -e -q 2>&1) && [ "$got" = '{"id": 1}' ]
ok $? "kcat with SASL PLAIN and the token produces and consumes ($got $(cat "$SCRATCH/kcat.err"))"

kcat -b "$K" "${sasl[@]}" -X sasl.password=wrong -L -m 5 > "$SCRATCH/wrong" 2>&1
[ $? -ne 0 ] && ! grep -q 'topic "events"' "$SCRATCH/wrong" && grep -q 'failed SASL PLAIN authentication' "$SCRATCH/serve.err"
ok $? "a wrong password is refused and the server says so ($(tail -1 "$SCRATCH/wrong"))"

kcat -b "$K" -L -m 5 > "$SCRATCH/none" 2>&1
[ $? -ne 0 ] && ! grep -q 'topic "events"' "$SCRATCH/none" &&
    grep -q 'not authenticated: this server takes SASL PLAIN' "$SCRATCH/serve.err"
ok $? "a client without SASL gets no metadata and the server says why ($(tail -1 "$SCRATCH/none"))"

cat > "$SCRATCH/py.py" <<'PY'
import sys
from kafka import KafkaProducer, KafkaConsumer
from confluent_kafka import Producer
k, which = sys.argv[1], sys.argv[2]
if which == 'kafka-python':
    auth = dict(security_protocol='SASL_PLAINTEXT', sasl_mechanism='PLAIN', sasl_plain_username='u', sasl_plain_password='s3cret')
    p = KafkaProducer(bootstrap_servers=k, acks='all', **auth)
    print('acknowledged', sum(1 for f in [p.send('events', b'{"id": %d}' % i) for i in range(2, 5)] if f.get(timeout=30)))
    p.close()
    c = KafkaConsumer('events', bootstrap_servers=k, auto_offset_reset='earliest', consumer_timeout_ms=5000, **auth)
    print('consumed', sum(1 for m in c))
else:
    p = Producer({'bootstrap.servers': k, 'acks': 'all', 'security.protocol': 'SASL_PLAINTEXT',
                  'sasl.mechanisms': 'PLAIN', 'sasl.username': 'u', 'sasl.password': 's3cret'})
    res = []
    for i in range(5, 8):
        p.produce('events', b'{"id": %d}' % i, on_delivery=lambda err, m: res.append(err))
    p.flush(30)
    print('acknowledged', sum(1 for e in res if e is None))
PY
out=$($PY "$SCRATCH/py.py" "$K" kafka-python 2>&1 | tr '\n' ';')
[ "$out" = 'acknowledged 3;consumed 4;' ]
ok $? "kafka-python with SASL PLAIN produces and consumes ($out)"
out=$($PY "$SCRATCH/py.py" "$K" confluent 2>&1 | tr '\n' ';')
[ "$out" = 'acknowledged 3;' ]
ok $? "confluent-kafka with SASL PLAIN produces ($out)"
got=$($WEIR consume events --from-beginning -e 2>&1 | wc -l)
[ "$got" = 7 ]
ok $? "the stream holds the 7 records the authenticated clients produced ($got)"
stop_serve
finish
