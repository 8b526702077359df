"""user-logins producer: login events of apps, a few of them malformed as
real ones are, to topic user-login, as the original data generator sent
them. Runs unchanged against a Kafka cluster or `weir serve
--kafka-listen`:

    python3 examples/user-logins/producer.py [BOOTSTRAP [COUNT]]

(default localhost:9092, 1000 logins). Every 20th login is malformed (no
user_id, or an IP that is not one), which weir sends to user-login.dlq.
"""
import json
import random
import sys
import time
import uuid

from kafka import KafkaProducer

bootstrap = sys.argv[1] if len(sys.argv) > 1 else 'localhost:9092'
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000

producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all',
                         value_serializer=lambda v: json.dumps(v).encode())
rng = random.Random(7)
for i in range(count):
    login = {
        'user_id': str(uuid.UUID(int=rng.getrandbits(128))),
        'app_version': '%d.%d.%d' % (rng.randint(1, 3), rng.randint(0, 9), rng.randint(0, 9)),
        'ip': '.'.join(str(rng.randint(1, 254)) for _ in range(4)),
        'locale': rng.choice(['RI', 'TX', 'CA', 'NY', 'WA']),
        'device_id': str(uuid.UUID(int=rng.getrandbits(128))),
        'timestamp': int(time.time()),
        'device_type': rng.choice(['iOS', 'android', 'Web', 'Windows']),
    }
    if i % 20 == 19:  # as the seed's generator: some records are broken
        if i % 40 == 39:
            del login['user_id']
        else:
            login['ip'] = '300.1.2.3'
    producer.send('user-login', value=login)
producer.flush()
producer.close()
