#!/usr/bin/env bash
# kafka_listen.sh - `weir serve --kafka-listen`: Kafka clients produce to
# and consume from weir with no broker. kcat (librdkafka), python3-kafka
# and python3-confluent-kafka are the independent clients: keys and headers
# round-trip, every compression codec is taken, a record that breaks the
# stream's schema is an error on the client and lands in <stream>.dlq,
# records are seen by `weir consume` and the pipeline's tables, consumer
# group offsets are shared with `weir consume --group`, fetches long-poll,
# unsupported versions get Kafka's error code on an open connection, and
# kill -9 mid-produce loses no acknowledged record.
. "$(dirname "$0")/../lib.sh"
plan 18
command -v kcat >/dev/null || { echo "Bail out! kcat is missing (make test installs it)"; exit 1; }
PY=/usr/bin/python3 # Debian's, which has python3-kafka and python3-confluent-kafka
$PY -c 'import kafka, confluent_kafka' 2>/dev/null || { echo "Bail out! python3-kafka or python3-confluent-kafka is missing (make test installs them)"; exit 1; }
mkdir -p "$SCRATCH/schemas"
cat > "$SCRATCH/schemas/ev.json" <<'J'
{"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}, "required": ["id"]}
J
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM events (id INT, name TEXT) WITH (partitions = 2, schema = 'ev', on_invalid = 'dead_letter');
CREATE TABLE counts AS SELECT name, COUNT(*) AS n FROM events GROUP BY name;
CREATE TABLE users (uid TEXT PRIMARY KEY, name TEXT) WITH (partitions = 2);
SQL
# start_kserve: serve with --kafka-listen on a free port; sets K (HOST:PORT).
start_kserve() {
    start_serve -f "$SCRATCH/p.sql" --schemas "$SCRATCH/schemas" --checkpoint-ms 100 --kafka-listen 127.0.0.1:0 || return 1
    K=127.0.0.1:$(sed -n 's/.*speaking Kafka on .* (port \([0-9]*\)).*/\1/p' "$SCRATCH/serve.err")
}
start_kserve || { echo "Bail out! weir serve --kafka-listen did not start"; exit 1; }

kcat -b "$K" -L 2>&1 | grep -q 'topic "events" with 2 partitions'
ok $? "kcat -L sees stream events as a topic of 2 partitions"

echo '{"id": 1, "name": "kcat"}' | kcat -b "$K" -P -t events -p 0 -k key1 -H src=kcat -H trace=abc 2>"$SCRATCH/kcat.err"
ok $? "kcat -P produces a record with a key and headers ($(cat "$SCRATCH/kcat.err"))"
got=$(kcat -b "$K" -C -t events -p 0 -e -q -f '%k|%h|%s\n' 2>&1)
[ "$got" = 'key1|src=kcat,trace=abc|{"id": 1, "name": "kcat"}' ]
ok $? "kcat -C -e reads it back with its key and headers ($got)"
got=$($WEIR consume events --from-beginning -e --meta 2>&1)
[[ "$got" == *'"key":"key1"'*'"value":{"id": 1, "name": "kcat"}'* ]]
ok $? "weir consume sees the record Kafka produced ($got)"

# A source table: the latest record per key, and a tombstone (a key with a null value) removes its row.
printf 'u1\t{"uid":"u1","name":"ann"}\nu2\t{"uid":"u2","name":"bob"}\n' | kcat -b "$K" -P -t users -K $'\t' 2>/dev/null
printf 'u1\t\n' | kcat -b "$K" -P -t users -K $'\t' -Z 2>/dev/null
for i in $(seq 600); do req GET /v1/tables/users; [[ "$BODY" == *'"rows":[{"uid":"u2","name":"bob"}]'* ]] && break; sleep 0.1; done
expect 200 '"rows":[{"uid":"u2","name":"bob"}]' "a tombstone produced over Kafka removes a source table's row"

# A consumer waiting at the end gets a record produced after it asked (Fetch's max_wait_ms long-poll).
kcat -b "$K" -C -t events -p 1 -o end -c 1 -q -f '%s\n' > "$SCRATCH/longpoll" 2>&1 &
waiter=$!
sleep 1
echo '{"id": 2, "name": "late"}' | kcat -b "$K" -P -t events -p 1
for i in $(seq 600); do kill -0 $waiter 2>/dev/null || break; sleep 0.05; done
kill $waiter 2>/dev/null; wait $waiter 2>/dev/null
grep -q '"late"' "$SCRATCH/longpoll"
ok $? "a consumer long-polling at the end gets the record produced after it asked ($(cat "$SCRATCH/longpoll"))"

cat > "$SCRATCH/kafka_python.py" <<'PY'
import json, sys
from kafka import KafkaProducer, KafkaConsumer
from kafka.errors import KafkaError
k = sys.argv[1]
for codec in [None, 'gzip']:
    p = KafkaProducer(bootstrap_servers=k, acks='all', compression_type=codec)
    futures = [p.send('events', key=b'py%d' % i, value=json.dumps({"id": i, "name": "py"}).encode(),
                      headers=[('codec', str(codec).encode())]) for i in range(5)]
    p.flush()
    print(codec, 'acknowledged', sum(1 for f in futures if f.get(timeout=30).offset >= 0))
    try:
        p.send('events', value=b'{"name": "py without id"}').get(timeout=30)
        print(codec, 'bad record accepted')
    except KafkaError as e:
        print(codec, 'bad record refused:', type(e).__name__)
    p.close()
c = KafkaConsumer('events', bootstrap_servers=k, auto_offset_reset='earliest', consumer_timeout_ms=5000)
print('consumed', sum(1 for m in c if m.value and json.loads(m.value).get('name') == 'py'))
PY
$PY "$SCRATCH/kafka_python.py" "$K" > "$SCRATCH/kp.out" 2>&1
out=$(tr '\n' ';' < "$SCRATCH/kp.out")
grep -qx 'None acknowledged 5' "$SCRATCH/kp.out" && grep -qx 'gzip acknowledged 5' "$SCRATCH/kp.out"
ok $? "kafka-python produces with acks=all, plain and gzip ($out)"
[ "$(grep -c 'bad record refused' "$SCRATCH/kp.out")" = 2 ]
ok $? "kafka-python gets an error for a record that breaks the schema ($out)"
grep -qx 'consumed 10' "$SCRATCH/kp.out"
ok $? "kafka-python's KafkaConsumer reads the 10 records from the earliest offset ($out)"

cat > "$SCRATCH/confluent.py" <<'PY'
import json, sys
from confluent_kafka import Producer, Consumer, TopicPartition, OFFSET_BEGINNING
k = sys.argv[1]
for codec in ['none', 'lz4', 'zstd', 'snappy', 'gzip']:
    p = Producer({'bootstrap.servers': k, 'acks': 'all', 'compression.type': codec, 'linger.ms': 50})
    res = []
    for i in range(4):
        p.produce('events', key=b'ck%d' % i, value=json.dumps({"id": i, "name": "ck"}).encode(),
                  headers=[('codec', codec.encode())], on_delivery=lambda err, m: res.append(err))
    p.flush(30)
    print(codec, 'acknowledged', sum(1 for e in res if e is None))
    bad = []
    p.produce('events', value=b'{"name": "ck without id"}', on_delivery=lambda err, m: bad.append(err))
    p.flush(30)
    print(codec, 'bad record:', bad[0].name() if bad and bad[0] else 'accepted')
c = Consumer({'bootstrap.servers': k, 'group.id': 'shared', 'enable.auto.commit': False})
c.assign([TopicPartition('events', p, OFFSET_BEGINNING) for p in (0, 1)])
n, last = 0, {}
while True:
    m = c.poll(5)
    if m is None:
        break
    if m.error():
        continue
    n += 1
    last[m.partition()] = m.offset()
    if m.key() == b'ck3' and m.headers() == [('codec', b'zstd')]:
        print('zstd record with key and header')
print('consumed', n)
c.commit(offsets=[TopicPartition('events', p, o + 1) for p, o in last.items()], asynchronous=False)
print('committed', ' '.join('%d:%d' % (t.partition, t.offset) for t in c.committed([TopicPartition('events', p) for p in (0, 1)], timeout=10)))
c.close()
PY
$PY "$SCRATCH/confluent.py" "$K" > "$SCRATCH/ck.out" 2>&1
out=$(tr '\n' ';' < "$SCRATCH/ck.out")
[ "$(grep -c ' acknowledged 4$' "$SCRATCH/ck.out")" = 5 ]
ok $? "confluent-kafka produces with acks=all uncompressed and with lz4, zstd, snappy and gzip ($out)"
[ "$(grep -c 'bad record: INVALID_RECORD' "$SCRATCH/ck.out")" = 5 ]
ok $? "confluent-kafka gets INVALID_RECORD for a record that breaks the schema ($out)"
grep -q 'zstd record with key and header' "$SCRATCH/ck.out" && grep -qx 'consumed 32' "$SCRATCH/ck.out"
ok $? "confluent-kafka's Consumer reads all 32 records, keys and headers too ($out)"

committed=$(sed -n 's/^committed //p' "$SCRATCH/ck.out")
left=$($WEIR consume events --group shared -e 2>&1 | wc -l)
all=$($WEIR consume events --group fresh -e 2>&1 | wc -l)
[ -n "$committed" ] && [ "$left" = 0 ] && [ "$all" = 32 ]
ok $? "offsets committed by a Kafka client are weir's group offsets (committed $committed; weir consume --group: $left left, a new group $all)"

# Read through the Kafka port: `weir consume` (read-only, another process) may not see a dead-letter
# stream's last commit while serve runs, the same for HTTP's dead letters (a log matter, not this one's).
dead=$(kcat -b "$K" -C -t events.dlq -e -q 2>&1)
[ "$(grep -c '"reason":"schema"' <<<"$dead")" = 7 ] && grep -q 'ck without id' <<<"$dead"
ok $? "the 7 refused records are in events.dlq with the reason ($(wc -l <<<"$dead") records)"

rows() { curl -s -X POST "$URL/v1/query" -d '{"sql": "SELECT name, n FROM counts ORDER BY name"}'; }
for i in $(seq 600); do [[ "$(rows)" == *'"name":"ck","n":20'* ]] && break; sleep 0.05; done
got=$(rows)
[[ "$got" == *'{"name":"ck","n":20}'*'{"name":"kcat","n":1}'*'{"name":"late","n":1}'*'{"name":"py","n":10}'* ]]
ok $? "the pipeline's table counts the records Kafka clients produced ($got)"

# Raw frames: an API weir does not serve and a newer ApiVersions get error 35 (UNSUPPORTED_VERSION) on a
# connection that stays open; a malformed request closes its connection only.
cat > "$SCRATCH/raw.py" <<'PY'
import socket, struct, sys
host, port = sys.argv[1].split(':')
s = socket.create_connection((host, int(port)), timeout=10)
def call(key, version, body=b'', corr=7):
    payload = struct.pack('>hhih', key, version, corr, 3) + b'raw' + body
    s.sendall(struct.pack('>i', len(payload)) + payload)
    size = struct.unpack('>i', s.recv(4, socket.MSG_WAITALL))[0]
    data = s.recv(size, socket.MSG_WAITALL)
    return struct.unpack('>i', data[:4])[0], data[4:]
corr, body = call(37, 0, corr=11)  # CreatePartitions: not served
print('createpartitions', corr, struct.unpack('>h', body[:2])[0])
corr, body = call(18, 9, b'\x00', corr=12)  # ApiVersions v9: newer than weir's
print('apiversions9', corr, struct.unpack('>h', body[:2])[0], struct.unpack('>i', body[2:6])[0] > 0)
corr, body = call(18, 0, corr=13)
print('apiversions0', corr, struct.unpack('>h', body[:2])[0])
corr, body = call(3, 1, struct.pack('>i', 100), corr=14)  # Metadata claiming 100 topics it does not hold
print('still open')
PY
out=$($PY "$SCRATCH/raw.py" "$K" 2>&1 | tr '\n' ';')
[[ "$out" == 'createpartitions 11 35;apiversions9 12 35 True;apiversions0 13 0;'* ]] && [[ "$out" != *'still open'* ]] &&
    grep -q 'malformed request (API 3 version 1, correlation id 14): topics at byte' "$SCRATCH/serve.err" &&
    kcat -b "$K" -L >/dev/null 2>&1
ok $? "unsupported APIs and versions get UNSUPPORTED_VERSION, a malformed request closes only its connection ($out)"

# kill -9 mid-produce with acks=all: every record the producer saw acknowledged is there after a restart.
cat > "$SCRATCH/acked.py" <<'PY'
import json, sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'acks': 'all', 'linger.ms': 5, 'message.timeout.ms': 20000})
out = open(sys.argv[2], 'w', buffering=1)
def done(err, m):
    if err is None:
        out.write(m.value().decode() + '\n')
for i in range(200000):
    while True:
        try:
            p.produce('events', key=b'kill', value=json.dumps({"id": i, "name": "kill"}).encode(), on_delivery=done)
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
p.flush(30)
PY
$PY "$SCRATCH/acked.py" "$K" "$SCRATCH/acked" 2>/dev/null &
producer=$!
for i in $(seq 1200); do [ "$(cat "$SCRATCH/acked" 2>/dev/null | wc -l)" -ge 2000 ] && break; sleep 0.05; done
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
sleep 0.5 # the producer's last acknowledgements arrive or fail
kill "$producer" 2>/dev/null; wait "$producer" 2>/dev/null
sort -u "$SCRATCH/acked" | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | sort -n > "$SCRATCH/acked.ids"
$WEIR consume events --from-beginning -e 2>/dev/null | grep '"kill"' | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | sort -n -u > "$SCRATCH/stored.ids"
missing=$(comm -23 "$SCRATCH/acked.ids" "$SCRATCH/stored.ids" | wc -l)
[ "$(wc -l < "$SCRATCH/acked.ids")" -ge 2000 ] && [ "$missing" = 0 ]
ok $? "kill -9 mid-produce with acks=all: all $(wc -l < "$SCRATCH/acked.ids") acknowledged records are stored ($missing missing)"
start_kserve
got=$(kcat -b "$K" -C -t events -e -q -f '%k\n' 2>/dev/null | grep -c '^kill$')
[ "$got" -ge "$(wc -l < "$SCRATCH/acked.ids")" ]
ok $? "after the restart Kafka clients read them all ($got)"
stop_serve
finish
