#!/usr/bin/env bash
# kafka_groups.sh - consumer groups over `weir serve --kafka-listen`
# (JoinGroup, SyncGroup, Heartbeat, LeaveGroup): two confluent-kafka
# consumers of one group split a topic's partitions and read every record
# once between them; when one leaves the other takes its partitions, and
# when one is killed -9 the other takes them after the session timeout;
# kafka-python's KafkaConsumer with a group_id reads, commits, and finds
# nothing left when it comes back, nor does `weir consume --group`.
. "$(dirname "$0")/../lib.sh"
plan 5
PY=/usr/bin/python3 # Debian's, which has python3-kafka and python3-confluent-kafka
$PY -c 'import kafka, confluent_kafka' 2>/dev/null || { echo "Bail out! python3-kafka or python3-confluent-kafka is missing (make test installs them)"; exit 1; }
echo 'CREATE STREAM events (id INT) WITH (partitions = 2);' > "$SCRATCH/p.sql"
start_serve -f "$SCRATCH/p.sql" --kafka-listen 127.0.0.1:0 || { echo "Bail out! weir serve did not start"; exit 1; }
K=127.0.0.1:$(sed -n 's/.*speaking Kafka on .* (port \([0-9]*\)).*/\1/p' "$SCRATCH/serve.err")
seq 0 39 | sed 's/.*/{"id": &}/' > "$SCRATCH/records"
curl -s -o /dev/null -X POST --data-binary @"$SCRATCH/records" "$URL/v1/streams/events"

# member.py NAME: a consumer of group g that writes its assignment and the ids it read to NAME.state,
# and runs until NAME.stop exists.
cat > "$SCRATCH/member.py" <<'PY'
import json, os, sys
from confluent_kafka import Consumer
k, name = sys.argv[1], sys.argv[2]
state = {'assigned': [], 'ids': []}
def save():
    with open(name + '.tmp', 'w') as f:
        json.dump(state, f)
    os.replace(name + '.tmp', name + '.state')
def on_assign(c, parts):
    state['assigned'] = sorted(p.partition for p in parts)
    save()
c = Consumer({'bootstrap.servers': k, 'group.id': 'g', 'auto.offset.reset': 'earliest', 'session.timeout.ms': 6000,
              'heartbeat.interval.ms': 300, 'enable.auto.commit': True, 'auto.commit.interval.ms': 200})
c.subscribe(['events'], on_assign=on_assign, on_revoke=lambda c, parts: None)
while not os.path.exists(name + '.stop'):
    m = c.poll(0.1)
    if m is not None and not m.error():
        state['ids'].append(json.loads(m.value())['id'])
        save()
c.close()
state['closed'] = True
save()
PY
st() { cat "$SCRATCH/$1.state" 2>/dev/null; }
assigned() { st "$1" | $PY -c 'import json,sys; print(json.load(sys.stdin)["assigned"])' 2>/dev/null; }
# ids: the distinct ids all members read (a record read again after a rebalance counts once: at-least-once).
ids() { $PY -c 'import glob, json, sys; print(len({i for f in glob.glob(sys.argv[1] + "/*.state") for i in json.load(open(f))["ids"]}))' "$SCRATCH" 2>/dev/null; }
cd "$SCRATCH"
$PY member.py "$K" a 2>/dev/null & a=$!
$PY member.py "$K" b 2>/dev/null & b=$!
for i in $(seq 600); do [[ "$(assigned a)$(assigned b)" =~ ^\[[01]\]\[[01]\]$ ]] && [ "$(ids)" = 40 ] && break; sleep 0.1; done
[[ "$(assigned a)$(assigned b)" =~ ^\[[01]\]\[[01]\]$ ]] && [ "$(assigned a)" != "$(assigned b)" ] && [ "$(ids)" = 40 ]
ok $? "two consumers of a group split the 2 partitions ($(assigned a) and $(assigned b)) and read all 40 records between them ($(ids))"

touch b.stop
for i in $(seq 600); do [ "$(assigned a)" = "[0, 1]" ] && break; sleep 0.05; done
wait $b
[ "$(assigned a)" = "[0, 1]" ]
ok $? "when one leaves (LeaveGroup) the other takes both partitions ($(assigned a))"

rm -f b.stop b.state
$PY member.py "$K" b 2>/dev/null & b=$!
for i in $(seq 1200); do [[ "$(assigned a)$(assigned b)" =~ ^\[[01]\]\[[01]\]$ ]] && break; sleep 0.05; done
kill -9 $b; wait $b 2>/dev/null
split="$(assigned a) $(assigned b)"
for i in $(seq 600); do [ "$(assigned a)" = "[0, 1]" ] && break; sleep 0.05; done
[[ "$split" =~ ^\[[01]\]\ \[[01]\]$ ]] && [ "$(assigned a)" = "[0, 1]" ]
ok $? "a member killed -9 leaves at its session timeout and the other takes its partition (split $split, then $(assigned a))"
touch a.stop; wait $a
cd - >/dev/null

cat > "$SCRATCH/kp.py" <<'PY'
import sys
from kafka import KafkaConsumer
k = sys.argv[1]
for run in (1, 2):
    c = KafkaConsumer('events', bootstrap_servers=k, group_id='kp', auto_offset_reset='earliest', consumer_timeout_ms=6000,
                      enable_auto_commit=False)
    n = sum(1 for m in c)
    c.commit()
    print('run', run, 'read', n)
    c.close()
PY
out=$($PY "$SCRATCH/kp.py" "$K" 2>&1 | tr '\n' ';')
[ "$out" = 'run 1 read 40;run 2 read 0;' ]
ok $? "kafka-python's KafkaConsumer with a group_id reads all, commits, and resumes at the end ($out)"
left=$($WEIR consume events --group kp -e 2>&1 | wc -l)
[ "$left" = 0 ]
ok $? "and weir consume --group kp finds nothing left ($left)"
stop_serve
finish
