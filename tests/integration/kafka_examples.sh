#!/usr/bin/env bash
# kafka_examples.sh - the seeds' own Kafka producers (examples/*/producer.py,
# kafka-python scripts written as the seeds wrote them) run unchanged
# against `weir serve --kafka-listen` with the example's pipeline, and
# their records come out where the pipeline puts them: collatz's answers
# equal chains walked here, user-logins' good logins are processed and
# the malformed ones dead-lettered, tweets' windows close.
. "$(dirname "$0")/../lib.sh"
plan 9
PY=/usr/bin/python3 # Debian's, which has python3-kafka
$PY -c 'import kafka' 2>/dev/null || { echo "Bail out! python3-kafka is missing (make test installs it)"; exit 1; }
ex="$(cd "$(dirname "$0")/../../examples" && pwd)"
# serve_example NAME: serve the example's pipeline on a fresh data directory; sets K.
serve_example() {
    export WEIR_DATA="$SCRATCH/data-$1"
    start_serve -f "$ex/$1/pipeline.sql" --checkpoint-ms 100 --kafka-listen 127.0.0.1:0 ||
        { echo "Bail out! weir serve of examples/$1 did not start"; exit 1; }
    K=127.0.0.1:$(sed -n 's/.*speaking Kafka on .* (port \([0-9]*\)).*/\1/p' "$SCRATCH/serve.err")
}
query() { curl -s -X POST "$URL/v1/query" -d "{\"sql\": \"$1\"}"; }

serve_example collatz
$PY "$ex/collatz/producer.py" "$K" 1 300 2>"$SCRATCH/producer.err"
ok $? "examples/collatz/producer.py produces to weir ($(tail -1 "$SCRATCH/producer.err"))"
# the longest chain of 1..300, walked here
want=$(awk 'BEGIN { for (n = 1; n <= 300; n++) { v = n; s = 0; while (v != 1) { v = v % 2 ? 3 * v + 1 : v / 2; s++ }
                    if (s > best) { best = s; num = n } } printf "{\"longest\":%d,\"steps\":%d}", num, best }')
for i in $(seq 600); do [ "$(curl -s "$URL/longest_step_chain")" = "$want" ] && break; sleep 0.1; done
got=$(curl -s "$URL/longest_step_chain")
[ "$got" = "$want" ]
ok $? "GET /longest_step_chain answers $want from the producer's steps ($got)"
stop_serve

serve_example user-logins
$PY "$ex/user-logins/producer.py" "$K" 400 2>"$SCRATCH/producer.err"
ok $? "examples/user-logins/producer.py produces to weir ($(tail -1 "$SCRATCH/producer.err"))"
for i in $(seq 600); do
    good=$($WEIR consume processed-user-login --from-beginning -e 2>/dev/null | wc -l)
    bad=$($WEIR consume user-login.dlq --from-beginning -e 2>/dev/null | wc -l)
    [ "$good" = 380 ] && [ "$bad" = 20 ] && break
    sleep 0.1
done
[ "$good" = 380 ] && [ "$bad" = 20 ]
ok $? "its 380 good logins are in processed-user-login and its 20 malformed ones in user-login.dlq ($good, $bad)"
# the README's consumers of the output topic
n=$(kcat -b "$K" -C -t processed-user-login -e -q -f '%s\n' 2>/dev/null | grep -c '"ip_class"')
[ "$n" = 380 ]
ok $? "kcat reads the 380 processed logins from topic processed-user-login ($n)"
n=$($PY -c '
import sys
from kafka import KafkaConsumer
c = KafkaConsumer("processed-user-login", bootstrap_servers=sys.argv[1], group_id="dash", auto_offset_reset="earliest",
                  consumer_timeout_ms=5000)
print(sum(1 for m in c))' "$K" 2>/dev/null)
[ "$n" = 380 ]
ok $? "a kafka-python consumer group reads them too ($n)"
stop_serve

serve_example tweets
$PY "$ex/tweets/producer.py" "$K" "$ex/tweets/data/tweets.ndjson" 5000 2>"$SCRATCH/producer.err"
n=$($WEIR consume tweets --from-beginning -e 2>/dev/null | wc -l)
[ "$n" = 5000 ]
ok $? "examples/tweets/producer.py replays 5000 tweets into weir ($n stored; $(tail -1 "$SCRATCH/producer.err"))"
# 5000 tweets are 9 minutes of event time: the first 5-minute windows close
rows() { query 'SELECT city, window_start, tweets FROM city_stats ORDER BY window_start LIMIT 1'; }
for i in $(seq 600); do [[ "$(rows)" == *'"rows":[{"city":'* ]] && break; sleep 0.1; done
got=$(rows)
[[ "$got" == *'"rows":[{"city":'*'"window_start":"2026-11-2'* ]]
ok $? "the pipeline's windows close over them (city_stats: $got)"
stop_serve

serve_example video-likes
ts=$(date -u +%Y-%m-%dT%H:%M:%SZ) # one minute's window for all three, whenever the minute turns
for v in v1 v1 v2; do curl -s -o /dev/null -X POST "$URL/videos/$v/likes?ts=$ts"; done
for i in $(seq 600); do
    got=$(kcat -b "$K" -C -t video_aggregations_1 -e -q -f '%s\n' 2>/dev/null | tail -3)
    [[ "$got" == *'"video_id":"v1"'*'"likes":2'* ]] && break
    sleep 0.1
done
[[ "$got" == *'"video_id":"v1"'*'"likes":2'* ]]
ok $? "kcat reads video-likes' table updates from topic video_aggregations_1 ($got)"
stop_serve
finish
