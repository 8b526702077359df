"""collatz producer: every step of the Collatz chain of each number, as the
original system's producer sent it, to topic conjecture.data keyed by the
number. Runs unchanged against a Kafka cluster or `weir serve
--kafka-listen`:

    python3 examples/collatz/producer.py [BOOTSTRAP [FIRST LAST]]

(default localhost:9092, numbers 1 to 1000).
"""
import json
import sys
from datetime import datetime, timezone

from kafka import KafkaProducer

bootstrap = sys.argv[1] if len(sys.argv) > 1 else 'localhost:9092'
first, last = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (1, 1000)

producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all',
                         key_serializer=lambda k: str(k).encode(),
                         value_serializer=lambda v: json.dumps(v).encode())
for number in range(first, last + 1):
    value, step = number, 0
    while True:
        producer.send('conjecture.data', key=number,
                      value={'number': number, 'step': step, 'value': value,
                             'ts': datetime.now(timezone.utc).isoformat()})
        if value == 1:
            break
        value = value // 2 if value % 2 == 0 else 3 * value + 1
        step += 1
producer.flush()
producer.close()
