"""tweets producer: replays a file of tweets (one JSON object per line) to
topic tweets keyed by city, as the original replay producer did; the
producer retries through a broker outage, so nothing is lost. Runs
unchanged against a Kafka cluster or `weir serve --kafka-listen`:

    python3 examples/tweets/producer.py [BOOTSTRAP [FILE [COUNT]]]

(default localhost:9092, examples/tweets/data/tweets.ndjson, every line).
"""
import json
import os
import sys

from kafka import KafkaProducer

bootstrap = sys.argv[1] if len(sys.argv) > 1 else 'localhost:9092'
path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), 'data', 'tweets.ndjson')
count = int(sys.argv[3]) if len(sys.argv) > 3 else None

producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', retries=2147483647,
                         max_in_flight_requests_per_connection=1,  # retries keep the order
                         key_serializer=str.encode, value_serializer=lambda v: json.dumps(v).encode())
with open(path) as f:
    for n, line in enumerate(f):
        if count is not None and n >= count:
            break
        tweet = json.loads(line)
        producer.send('tweets', key=tweet['city'], value=tweet)
producer.flush()
producer.close()
