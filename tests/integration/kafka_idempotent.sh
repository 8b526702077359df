#!/usr/bin/env bash
# kafka_idempotent.sh - idempotent producers over `weir serve
# --kafka-listen`: InitProducerId, and Produce's producer id, epoch and
# sequence checks as a Kafka broker makes them. librdkafka (confluent-kafka
# with enable.idempotence) produces without duplicates; a client of our
# own, speaking the protocol from raw bytes, sends the batches a client
# sends only when something goes wrong: a retried batch (acknowledged with
# its first offset, not stored again, even after kill -9 and a restart), a
# sequence gap (OUT_OF_ORDER_SEQUENCE_NUMBER), an old epoch
# (INVALID_PRODUCER_EPOCH), a producer id never given out
# (UNKNOWN_PRODUCER_ID) and a transactional id (refused). And librdkafka's
# own retry: a proxy drops the answer of a stored batch, the producer sends
# it again on a new connection, and it is stored once (without idempotence,
# twice: the check can fail).
. "$(dirname "$0")/../lib.sh"
plan 20
PY=/usr/bin/python3 # Debian's, which has python3-confluent-kafka
$PY -c 'import confluent_kafka' 2>/dev/null || { echo "Bail out! python3-confluent-kafka is missing (make test installs it)"; exit 1; }
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM events (id INT, name TEXT) WITH (partitions = 2);
SQL
start_kserve() {
    start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 --kafka-listen 127.0.0.1:0 || return 1
    K=127.0.0.1:$(sed -n 's/.*speaking Kafka on .* (port \([0-9]*\)).*/\1/p' "$SCRATCH/serve.err")
}
start_kserve || { echo "Bail out! weir serve --kafka-listen did not start"; exit 1; }
count() { $WEIR consume events --from-beginning -e 2>/dev/null | grep -c "\"$1\""; }

cat > "$SCRATCH/idem.py" <<'PY'
import sys
from confluent_kafka import Producer
errors = []
def done(err, m):
    if err is not None:
        errors.append(str(err))
p = Producer({'bootstrap.servers': sys.argv[1], 'enable.idempotence': True, 'linger.ms': 2,
              'partitioner': 'murmur2_random', 'message.timeout.ms': 30000})
for i in range(5000):
    p.produce('events', key=b'k%d' % i, value=b'{"id": %d, "name": "idem"}' % i, on_delivery=done)
    p.poll(0)
left = p.flush(60)
print('left', left, 'errors', len(errors), errors[:3])
PY
out=$($PY "$SCRATCH/idem.py" "$K" 2>&1)
[[ "$out" == 'left 0 errors 0 []' ]]
ok $? "confluent-kafka with enable.idempotence=True gets a producer id and every batch acknowledged ($out)"
n=$(count idem)
[ "$n" = 5000 ]
ok $? "its 5000 records are stored once each ($n)"

# librdkafka retries a batch whose answer it never got.
cat > "$SCRATCH/dropproxy.py" <<'PY'
# dropproxy.py LISTEN_PORT_FILE WEIR_HOST:PORT DROP_NTH: a Kafka proxy for the
# test: forwards each request to weir and its answer back, one at a time per
# connection, with Metadata's broker port rewritten to the proxy's own (so the
# client stays behind it); the DROP_NTH Produce's answer is read from weir
# (the batch is stored) and not forwarded: both connections close, and the
# producer must retry the batch.
import socket, struct, sys, threading
weir_host, weir_port = sys.argv[2].rsplit(':', 1)
drop_nth = int(sys.argv[3])
lock = threading.Lock()
produces = 0
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('127.0.0.1', 0))
ls.listen(16)
my_port = ls.getsockname()[1]

def read_frame(s):
    head = b''
    while len(head) < 4:
        c = s.recv(4 - len(head))
        if not c:
            return None
        head += c
    n = struct.unpack('>i', head)[0]
    body = b''
    while len(body) < n:
        c = s.recv(n - len(body))
        if not c:
            return None
        body += c
    return body

def patch_metadata(resp, version):
    b = bytearray(resp)
    off = 4 + (4 if version >= 3 else 0)  # correlation id, throttle_time_ms
    n = struct.unpack('>i', b[off:off + 4])[0]; off += 4
    for _ in range(n):
        off += 4  # node_id
        hl = struct.unpack('>h', b[off:off + 2])[0]; off += 2 + hl
        b[off:off + 4] = struct.pack('>i', my_port); off += 4
        if version >= 1:
            rl = struct.unpack('>h', b[off:off + 2])[0]; off += 2 + max(rl, 0)
    return bytes(b)

def serve(c):
    global produces
    w = socket.create_connection((weir_host, int(weir_port)))
    try:
        while True:
            req = read_frame(c)
            if req is None:
                return
            key, version = struct.unpack('>hh', req[:4])
            w.sendall(struct.pack('>i', len(req)) + req)
            resp = read_frame(w)
            if resp is None:
                return
            if key == 3:
                resp = patch_metadata(resp, version)
            if key == 0:
                with lock:
                    produces += 1
                    drop = produces == drop_nth
                if drop:
                    print('dropped the answer of produce', drop_nth, flush=True)
                    return
            c.sendall(struct.pack('>i', len(resp)) + resp)
    finally:
        c.close()
        w.close()

open(sys.argv[1], 'w').write(str(my_port))
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat > "$SCRATCH/retry.py" <<'PY'
import sys
from confluent_kafka import Producer
errors = []
def done(err, m):
    if err is not None:
        errors.append(str(err))
p = Producer({'bootstrap.servers': sys.argv[1], 'enable.idempotence': sys.argv[2] == 'idempotent', 'linger.ms': 20,
              'batch.num.messages': 100, 'message.timeout.ms': 60000})
for i in range(2000):
    p.produce('events', value=b'{"id": %d, "name": "%s"}' % (i, sys.argv[2].encode()), partition=i % 2, on_delivery=done)
    p.poll(0)
print('left', p.flush(90), 'errors', len(errors), errors[:3])
PY
for mode in idempotent plain; do
    rm -f "$SCRATCH/proxy.port"
    $PY "$SCRATCH/dropproxy.py" "$SCRATCH/proxy.port" "$K" 3 > "$SCRATCH/proxy.$mode" 2>&1 &
    proxy=$!
    for i in $(seq 200); do [ -s "$SCRATCH/proxy.port" ] && break; sleep 0.05; done
    out=$($PY "$SCRATCH/retry.py" "127.0.0.1:$(cat "$SCRATCH/proxy.port")" $mode 2>/dev/null)
    kill $proxy; wait $proxy 2>/dev/null
    n=$(count $mode)
    if [ $mode = idempotent ]; then
        [[ "$out" == 'left 0 errors 0 []' ]] && grep -q 'dropped the answer of produce 3' "$SCRATCH/proxy.$mode" && [ "$n" = 2000 ]
        ok $? "librdkafka (enable.idempotence) retries a stored batch whose answer was lost, and weir stores it once ($n of 2000; $out)"
    else
        [ "$n" -gt 2000 ]
        ok $? "the same without idempotence stores the retried batch twice ($n of 2000): the check above can fail"
    fi
done

cat > "$SCRATCH/kraw.py" <<'PY'
import socket, struct, sys, json, time

def crc32c(data, _t=[]):
    if not _t:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _t.append(c)
    c = 0xFFFFFFFF
    for b in data:
        c = _t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF

def varint(v):
    u = (v << 1) ^ (v >> 63)
    out = b''
    while u >= 0x80:
        out += bytes([(u & 0x7F) | 0x80]); u >>= 7
    return out + bytes([u])

def string(s):
    return struct.pack('>h', -1) if s is None else struct.pack('>h', len(s)) + s.encode()

class Conn:
    def __init__(self, addr):
        h, p = addr.rsplit(':', 1)
        self.s = socket.create_connection((h, int(p)), timeout=30)
        self.corr = 0
    def call(self, key, ver, body):
        self.corr += 1
        msg = struct.pack('>hhi', key, ver, self.corr) + string('raw') + body
        self.s.sendall(struct.pack('>i', len(msg)) + msg)
        n = struct.unpack('>i', self._read(4))[0]
        resp = self._read(n)
        assert struct.unpack('>i', resp[:4])[0] == self.corr
        return resp[4:]
    def _read(self, n):
        b = b''
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError('connection closed')
            b += c
        return b

def batch(values, pid, epoch, seq):
    now = int(time.time() * 1000)
    recs = b''
    for i, v in enumerate(values):
        body = b'\0' + varint(0) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        recs += varint(len(body)) + body
    after_crc = struct.pack('>hiqqqhii', 0, len(values) - 1, now, now, pid, epoch, seq, len(values)) + recs
    crc = crc32c(after_crc)
    tail = struct.pack('>ibI', -1, 2, crc) + after_crc
    return struct.pack('>qi', 0, len(tail)) + tail

def init_producer(c):
    r = c.call(22, 1, string(None) + struct.pack('>i', 60000))
    throttle, err, pid, epoch = struct.unpack('>ihqh', r)
    return err, pid, epoch

def produce(c, topic, partition, records):
    body = string(None) + struct.pack('>hi', -1, 30000) + struct.pack('>i', 1) + string(topic)
    body += struct.pack('>i', 1) + struct.pack('>i', partition) + struct.pack('>i', len(records)) + records
    r = c.call(0, 3, body)
    # topics array, one topic, one partition
    off = 4
    n = struct.unpack('>h', r[off:off + 2])[0]; off += 2 + n
    off += 4
    part, err, base = struct.unpack('>ihq', r[off:off + 14])
    return err, base

def main():
    c = Conn(sys.argv[1])
    state = sys.argv[2]
    if sys.argv[3] == 'before':
        err, pid, epoch = init_producer(c)
        print('init', err, pid >= 0, epoch)
        first = produce(c, 'events', 0, batch([b'{"id": 1, "name": "raw"}'] * 3, pid, 0, 0))
        again = produce(c, 'events', 0, batch([b'{"id": 1, "name": "raw"}'] * 3, pid, 0, 0))
        print('retry', first[0], again[0], first[1] == again[1])
        print('next', produce(c, 'events', 0, batch([b'{"id": 2, "name": "raw"}'] * 2, pid, 0, 3))[0])
        print('gap', produce(c, 'events', 0, batch([b'{"id": 3, "name": "raw"}'], pid, 0, 10))[0])
        print('bump', produce(c, 'events', 0, batch([b'{"id": 4, "name": "raw"}'], pid, 1, 0))[0])
        print('old_epoch', produce(c, 'events', 0, batch([b'{"id": 5, "name": "raw"}'], pid, 0, 5))[0])
        print('unknown', produce(c, 'events', 1, batch([b'{"id": 6, "name": "raw"}'], 1 << 62, 0, 0))[0])
        r = c.call(22, 1, string('txn-1') + struct.pack('>i', 60000))
        print('transactional', struct.unpack('>ihqh', r)[1])
        last = produce(c, 'events', 1, batch([b'{"id": 7, "name": "raw"}'] * 4, pid, 1, 0))
        open(state, 'w').write('%d %d' % (pid, last[1]))
    else:
        pid, base = map(int, open(state).read().split())
        again = produce(c, 'events', 1, batch([b'{"id": 7, "name": "raw"}'] * 4, pid, 1, 0))
        print('retry_after_restart', again[0], again[1] == base)
        print('next_after_restart', produce(c, 'events', 1, batch([b'{"id": 8, "name": "raw"}'], pid, 1, 4))[0])
        print('gap_after_restart', produce(c, 'events', 1, batch([b'{"id": 9, "name": "raw"}'], pid, 1, 9))[0])

main()
PY
out=$($PY "$SCRATCH/kraw.py" "$K" "$SCRATCH/kraw.state" before 2>&1)
diag "$out"
grep -qx 'init 0 True 0' <<<"$out"
ok $? "InitProducerId gives a producer id at epoch 0"
# Stored: 3 (the retried batch once), 2, 1 (the new epoch) and 4 records.
grep -qx 'retry 0 0 True' <<<"$out" && [ "$(count raw)" = 10 ]
ok $? "a retried batch is acknowledged with its first offset and not stored again ($(count raw) records of 10)"
grep -qx 'next 0' <<<"$out" && grep -qx 'gap 45' <<<"$out"
ok $? "the next sequence is taken, a gap is OUT_OF_ORDER_SEQUENCE_NUMBER (45)"
grep -qx 'bump 0' <<<"$out" && grep -qx 'old_epoch 47' <<<"$out"
ok $? "a new epoch starts at sequence 0; an older epoch is INVALID_PRODUCER_EPOCH (47)"
grep -qx 'unknown 59' <<<"$out" && grep -qx 'transactional 53' <<<"$out"
ok $? "a producer id never given out is UNKNOWN_PRODUCER_ID (59); a transactional id is refused (53)"

# The answer of a stored batch is lost with weir (kill -9); the client retries it after the restart.
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
before=$(count raw)
start_kserve || { echo "Bail out! weir serve did not start again"; exit 1; }
out=$($PY "$SCRATCH/kraw.py" "$K" "$SCRATCH/kraw.state" after 2>&1)
diag "$out"
grep -qx 'retry_after_restart 0 True' <<<"$out"
ok $? "after kill -9 and a restart, the retried batch is acknowledged with the offset it got before"
grep -qx 'next_after_restart 0' <<<"$out" && grep -qx 'gap_after_restart 45' <<<"$out"
ok $? "the producer's sequence goes on after the restart, and a gap is still refused"
after=$(count raw)
[ "$before" = 10 ] && [ "$after" = 11 ]
ok $? "the retried batch was not stored twice ($before records before the restart, $after after one more)"
# kill -9 mid-produce: librdkafka's idempotent producer sends again what was in flight once weir is back
# (on the same port), and every record is stored exactly once.
cat > "$SCRATCH/crash.py" <<'PY'
import sys
from confluent_kafka import Producer
errors = []
acked = open(sys.argv[2], 'w', buffering=1)
def done(err, m):
    if err is not None:
        errors.append(str(err))
    else:
        acked.write(m.value().decode() + '\n')
p = Producer({'bootstrap.servers': sys.argv[1], 'enable.idempotence': True, 'linger.ms': 5, 'acks': 'all',
              'message.timeout.ms': 120000, 'reconnect.backoff.max.ms': 500})
for i in range(20000):
    while True:
        try:
            p.produce('events', value=b'{"id": %d, "name": "crash"}' % i, partition=i % 2, on_delivery=done)
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
    if i % 500 == 499:
        p.poll(0.02)  # a paced producer: some records are in flight when weir is killed
print('left', p.flush(150), 'errors', len(errors), errors[:3])
PY
$PY "$SCRATCH/crash.py" "$K" "$SCRATCH/crash.acked" > "$SCRATCH/crash.out" 2>/dev/null &
producer=$!
for i in $(seq 1200); do [ "$(wc -l < "$SCRATCH/crash.acked" 2>/dev/null || echo 0)" -ge 3000 ] && break; sleep 0.05; done
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
at_kill=$(wc -l < "$SCRATCH/crash.acked")
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 --kafka-listen "$K" || { echo "Bail out! weir serve did not start again on $K"; exit 1; }
for i in $(seq 1800); do kill -0 $producer 2>/dev/null || break; sleep 0.1; done
kill $producer 2>/dev/null; wait $producer 2>/dev/null
stored=$($WEIR consume events --from-beginning -e 2>/dev/null | grep '"crash"' | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | sort -n)
[ "$(cat "$SCRATCH/crash.out")" = 'left 0 errors 0 []' ] && [ "$(wc -l < "$SCRATCH/crash.acked")" = 20000 ]
ok $? "killed -9 at $at_kill acknowledged records and restarted, weir takes the rest of librdkafka's 20000 ($(cat "$SCRATCH/crash.out"))"
[ "$(wc -l <<<"$stored")" = 20000 ] && [ "$(uniq <<<"$stored" | wc -l)" = 20000 ]
ok $? "each of the 20000 is stored exactly once ($(wc -l <<<"$stored") stored, $(uniq <<<"$stored" | wc -l) distinct)"

# The producers' state is weir's internal stream: no listing shows it, and it reads by name.
n=$($WEIR consume __weir_producers --from-beginning -e 2>/dev/null | grep -c .)
[ "$n" -gt 0 ]
ok $? "the internal stream __weir_producers reads by name with weir consume ($n records)"
req GET '/v1/streams/__weir_producers/records?limit=1'
expect 200 '"records":[{' "and over GET /v1/streams/__weir_producers/records"
kcat -b "$K" -L > "$SCRATCH/topics" 2>&1
grep -q '"events"' "$SCRATCH/topics" && ! grep -q __weir "$SCRATCH/topics"
ok $? "Kafka's Metadata of every topic leaves it out ($(grep -c topic "$SCRATCH/topics") topics)"
req GET /v1/streams
[ "$STATUS" = 200 ] && python3 -c 'import json,sys; names=[s["name"] for s in json.load(sys.stdin)["streams"]]
sys.exit(not ("events" in names and not any(n.startswith("__") for n in names)))' < "$SCRATCH/body"
ok $? "GET /v1/streams (the dashboard's list) leaves it out ($BODY)"
req POST /v1/query -d '{"sql": "SHOW STREAMS"}'
[ "$STATUS" = 200 ] && [[ "$BODY" == *'"name":"events"'* ]] && [[ "$BODY" != *__weir* ]]
ok $? "SHOW STREAMS leaves it out"
$WEIR streams > "$SCRATCH/streams" 2>&1 && $WEIR streams --json >> "$SCRATCH/streams" 2>&1 &&
    [ "$(grep -c '^events \|"stream":"events"' "$SCRATCH/streams")" = 2 ] && ! grep -q __weir "$SCRATCH/streams"
ok $? "weir streams and weir streams --json leave it out ($(cat "$SCRATCH/streams"))"
stop_serve
finish
