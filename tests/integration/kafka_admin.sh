#!/usr/bin/env bash
# kafka_admin.sh - the admin and group APIs of `weir serve --kafka-listen`,
# through confluent-kafka's AdminClient (librdkafka) and kafka-python's
# KafkaAdminClient: CreateTopics makes a plain topic (records stored as
# produced, no schema) and refuses a name that exists, a bad name and
# cleanup.policy compact; DeleteTopics deletes a plain topic (which can be
# made again, empty) and refuses a stream of the pipeline (POLICY_VIOLATION);
# DescribeConfigs tells a stream's retention and cleanup policy; ListGroups
# and DescribeGroups show a group with its member, then Empty once it left.
. "$(dirname "$0")/../lib.sh"
plan 14
PY=/usr/bin/python3 # Debian's, which has python3-kafka and python3-confluent-kafka
$PY -c 'import kafka, confluent_kafka' 2>/dev/null || { echo "Bail out! python3-kafka or python3-confluent-kafka is missing (make test installs them)"; exit 1; }
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM events (id INT) WITH (partitions = 2, retention = '1 hour');
CREATE TABLE counts AS SELECT id, COUNT(*) AS n FROM events GROUP BY id;
SQL
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 --kafka-listen 127.0.0.1:0 || { echo "Bail out! weir serve --kafka-listen did not start"; exit 1; }
K=127.0.0.1:$(sed -n 's/.*speaking Kafka on .* (port \([0-9]*\)).*/\1/p' "$SCRATCH/serve.err")

cat > "$SCRATCH/confluent_admin.py" <<'PY'
import sys
from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource
from confluent_kafka import Producer, Consumer
k = sys.argv[1]
a = AdminClient({'bootstrap.servers': k})
def outcome(f):
    try:
        f.result()
        return 'ok'
    except Exception as e:
        return e.args[0].name()
fs = a.create_topics([NewTopic('plain', 3, 1, config={'retention.ms': '7200000'}), NewTopic('events', 2, 1),
                      NewTopic('bad name!', 1, 1), NewTopic('cmp', 1, 1, config={'cleanup.policy': 'compact'}),
                      NewTopic('two', 1, 2)])
for t, f in sorted(fs.items()):
    print('create', t, outcome(f))
for r, f in a.describe_configs([ConfigResource('topic', 'plain'), ConfigResource('topic', 'counts')]).items():
    cfg = f.result()
    print('configs', r.name, ' '.join('%s=%s' % (n, cfg[n].value) for n in ('cleanup.policy', 'retention.ms')))
p = Producer({'bootstrap.servers': k})
p.produce('plain', key=b'k', value=b'not json at all', partition=2)
print('unflushed', p.flush(30))
c = Consumer({'bootstrap.servers': k, 'group.id': 'g1', 'auto.offset.reset': 'earliest', 'session.timeout.ms': 6000})
c.subscribe(['plain'])
m = None
for i in range(60):
    m = c.poll(1)
    if m and not m.error():
        break
print('consumed', m.value().decode() if m and not m.error() else None)
c.commit(asynchronous=False)
print('groups', [(g.id, g.state, g.protocol_type, g.protocol, [(x.client_id, x.client_host) for x in g.members])
                 for g in a.list_groups(timeout=10)])
c.close()
print('groups after close', [(g.id, g.state, len(g.members)) for g in a.list_groups(timeout=10)])
for t, f in sorted(a.delete_topics(['plain', 'events', 'nope']).items()):
    print('delete', t, outcome(f))
print('listed after delete', 'plain' in a.list_topics(timeout=10).topics)
print('recreate', outcome(a.create_topics([NewTopic('plain', 1, 1)])['plain']))
p = Producer({'bootstrap.servers': k}) # the old one keeps the deleted topic's three partitions in its metadata
p.produce('plain', value=b'second life')
print('unflushed again', p.flush(30))
c = Consumer({'bootstrap.servers': k, 'group.id': 'g2', 'auto.offset.reset': 'earliest', 'session.timeout.ms': 6000})
c.subscribe(['plain'])
got = []
for i in range(20):
    m = c.poll(1)
    if m and not m.error():
        got.append(m.value().decode())
    if got and m is None:
        break
print('consumed again', got)
c.close()
PY
out=$($PY "$SCRATCH/confluent_admin.py" "$K" 2>&1)
diag "$out"
grep -qx 'create plain ok' <<<"$out"
ok $? "AdminClient.create_topics makes a plain topic"
grep -qx 'create events TOPIC_ALREADY_EXISTS' <<<"$out" && grep -qx 'create bad name! TOPIC_EXCEPTION' <<<"$out" &&
    grep -qx 'create cmp INVALID_CONFIG' <<<"$out" && grep -qx 'create two INVALID_REPLICATION_FACTOR' <<<"$out"
ok $? "it refuses a stream of the pipeline, a bad name, cleanup.policy compact and a replication factor of 2"
grep -qx 'delete events POLICY_VIOLATION' <<<"$out" && grep -qx 'delete plain ok' <<<"$out" &&
    grep -qx 'delete nope UNKNOWN_TOPIC_OR_PART' <<<"$out" && grep -qx 'listed after delete False' <<<"$out"
ok $? "delete_topics deletes a plain topic, and refuses the pipeline's stream (POLICY_VIOLATION) and an unknown one"
grep -qx 'recreate ok' <<<"$out" && grep -qx "consumed again \['second life'\]" <<<"$out"
ok $? "a deleted topic is made again empty: a new consumer reads only the new record"
grep -qx 'configs plain cleanup.policy=delete retention.ms=7200000' <<<"$out" &&
    grep -qx 'configs counts cleanup.policy=compact retention.ms=-1' <<<"$out"
ok $? "describe_configs tells the retention and cleanup policy asked for, and a table's changelog's (compact, kept)"
grep -qx 'consumed not json at all' <<<"$out"
ok $? "a plain topic stores records as produced (no schema) and a consumer group reads them"
grep -q "^groups \[('g1', 'Stable', 'consumer', 'range', \[('rdkafka', '/127.0.0.1')\])\]" <<<"$out"
ok $? "list_groups (ListGroups + DescribeGroups) shows the group Stable with its member"
grep -qx "groups after close \[('g1', 'Empty', 0)\]" <<<"$out"
ok $? "once its consumer left, the group is Empty, kept for its committed offsets"
[ "$($WEIR consume plain --from-beginning -e 2>/dev/null)" = 'second life' ]
ok $? "weir consume reads the plain topic's record, of the topic made again only"

cat > "$SCRATCH/kafka_python_admin.py" <<'PY'
import sys
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic, ConfigResource, ConfigResourceType
from kafka.errors import KafkaError
k = sys.argv[1]
a = KafkaAdminClient(bootstrap_servers=k)
r = a.create_topics([NewTopic('kp-plain', 2, 1, topic_configs={'retention.ms': '7200000'})])
print('create', [(t, e) for t, e, *_ in r.topic_errors])
r = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, 'events')])
print('configs', dict((c[0], c[1]) for c in r[0].resources[0][4])['retention.ms'])
KafkaProducer(bootstrap_servers=k).send('kp-plain', b'raw bytes', partition=1).get(timeout=30)
c = KafkaConsumer('kp-plain', bootstrap_servers=k, group_id='kpg', auto_offset_reset='earliest', consumer_timeout_ms=5000)
print('consumed', [m.value.decode() for m in c])
c.commit()
print('list', sorted(g for g, _ in a.list_consumer_groups()))
print('describe', [(g.group, g.state, g.protocol_type, len(g.members)) for g in a.describe_consumer_groups(['kpg'])])
c.close()
print('describe after close', [(g.group, g.state, len(g.members)) for g in a.describe_consumer_groups(['kpg', 'never'])])
for t in ['events', 'kp-plain']:
    try:
        a.delete_topics([t])
        print('delete', t, 'ok')
    except KafkaError as e:
        print('delete', t, type(e).__name__)
print('topics', sorted(t for t in a.list_topics() if 'plain' in t))
PY
out=$($PY "$SCRATCH/kafka_python_admin.py" "$K" 2>&1)
diag "$out"
grep -qx "create \[('kp-plain', 0)\]" <<<"$out" && grep -qx "consumed \['raw bytes'\]" <<<"$out"
ok $? "KafkaAdminClient.create_topics makes a topic that kafka-python produces to and consumes from"
grep -qx 'delete events PolicyViolationError' <<<"$out" && grep -qx 'delete kp-plain ok' <<<"$out" &&
    grep -qx "topics \['plain'\]" <<<"$out"
ok $? "KafkaAdminClient.delete_topics deletes the plain topic and refuses the pipeline's stream"
grep -qx 'configs 3600000' <<<"$out"
ok $? "KafkaAdminClient.describe_configs tells the pipeline's retention_ms"
grep -q "^list \[.*'kpg'" <<<"$out" && ! grep -q "^list .*'g1'" <<<"$out" &&
    grep -qx "describe \[('kpg', 'Stable', 'consumer', 1)\]" <<<"$out"
ok $? "list_consumer_groups and describe_consumer_groups show kpg Stable with its member, not g1, whose only topic was deleted with its offsets"
grep -qx "describe after close \[('kpg', 'Empty', 0), ('never', 'Dead', 0)\]" <<<"$out"
ok $? "after the consumer left, kpg is Empty; a group weir never saw is Dead"
stop_serve
finish
