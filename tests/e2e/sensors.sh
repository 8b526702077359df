#!/usr/bin/env bash
# sensors.sh - examples/sensors end to end: the three JSON Schemas are in
# the registry from the start; generated hoverboard, customer and trip
# records posted over HTTP land in the partitions Kafka's own partitioner
# picks for their keys (librdkafka's murmur2 through kcat, on a 100-partition
# topic of the mock cluster), trips by hoverboard_id and customer_id
# together; records that break their schema get 422 naming the field and
# the rule and are not stored; each hoverboard's readings keep their order.
. "$(dirname "$0")/../lib.sh"
plan 12
ex="$(cd "$(dirname "$0")/../../examples/sensors" && pwd)"
$WEIR gen sensors -n 3000 --seed 3 > "$SCRATCH/all.ndjson"
for t in hoverboard customer trip; do grep "\"type\":\"$t\"" "$SCRATCH/all.ndjson" > "$SCRATCH/$t.ndjson"; done

start_serve -f "$ex/pipeline.sql" --schemas "$ex/schemas"
[ "$(curl -s "$URL/v1/schemas")" = '{"subjects":[{"subject":"customer","latest":1},{"subject":"hoverboard","latest":1},{"subject":"trip","latest":1}]}' ]
ok $? "serve --schemas registers the three schemas at start"

for t in hoverboard customer trip; do
    n=$(wc -l < "$SCRATCH/$t.ndjson")
    curl -s -X POST "$URL/v1/streams/$t" --data-binary @"$SCRATCH/$t.ndjson" | grep -q "^{\"accepted\":$n,"
    ok $? "$n valid $t records are accepted"
done

# where weir put each key, and where librdkafka's murmur2 partitioner puts it among 100
{
    for t in hoverboard customer trip; do $WEIR consume "$t" --from-beginning --exit --meta; done |
        sed 's/^{"partition":\([0-9]*\),.*"key":"\([^"]*\)".*/\2 \1/'
} | sort -u > "$SCRATCH/weir_partitions"
start_kafka_mock hash100:100
{
    sed 's/.*"id":"\([^"]*\)".*/\1/' "$SCRATCH/hoverboard.ndjson" "$SCRATCH/customer.ndjson"
    sed 's/.*"hoverboard_id":"\([^"]*\)","customer_id":"\([^"]*\)".*/\1|\2/' "$SCRATCH/trip.ndjson"
} | sort -u | sed 's/$/\t/' | kcat -b "$B" -t hash100 -P -K '\t' -X topic.partitioner=murmur2_random 2>/dev/null
kcat -b "$B" -t hash100 -C -e -q -f '%k %p\n' 2>/dev/null | sort -u > "$SCRATCH/kafka_partitions"
kill $mock; wait $mock 2>/dev/null
cmp -s "$SCRATCH/weir_partitions" "$SCRATCH/kafka_partitions"
ok $? "every key is in the partition Kafka's murmur2 picks ($(wc -l < "$SCRATCH/weir_partitions") keys)"
grep -q '^hb-[0-9]*|c-[0-9]* ' "$SCRATCH/weir_partitions"; ok $? "trips are keyed by hoverboard_id|customer_id"

refused() { # refused STREAM RECORD FIELD RULE: 422 naming the field and the rule
    local body code
    body=$(curl -s -w '\n%{http_code}' -X POST "$URL/v1/streams/$1" -d "$2")
    code=${body##*$'\n'}
    [ "$code" = 422 ] && echo "$body" | grep -q "\"field\":\"$3\",\"rule\":\"$4\""
}
ends() { curl -s "$URL/metrics" | awk '/^weir_stream_end_offset\{stream="(hoverboard|customer|trip)"/ { s += $2 } END { print s }'; }
before=$(ends)
hb='"model":"Glide X1","speed_kmh":3.5,"lat":41.8,"lon":-71.4,"ts":"2026-11-23T10:00:00Z"'
refused hoverboard "{\"id\":\"hb-0001\",\"battery\":150,$hb}" battery maximum &&
    refused hoverboard "{\"id\":\"hb-0001\",\"battery\":\"full\",$hb}" battery type &&
    refused hoverboard "{\"id\":\"hoverboard-1\",\"battery\":50,$hb}" id pattern &&
    refused hoverboard '{"id":"hb-0001","battery":50,"model":"X","speed_kmh":1,"lat":1,"lon":1}' ts required
ok $? "bad hoverboards get 422 with the field and rule (maximum, type, pattern, required)"
refused customer '{"id":"c-00001","name":"Ann","email":"not an address","created_at":"2026-11-23T10:00:00Z"}' email pattern &&
    refused customer '{"id":"c-00001","name":"Ann","email":"a@b.io","created_at":"yesterday"}' created_at format
ok $? "bad customers too (pattern, format)"
refused trip '{"hoverboard_id":"hb-0001","customer_id":"c-00001","distance_km":2,"duration_s":0,"started_at":"2026-11-23T10:00:00Z"}' duration_s minimum &&
    refused trip '{"hoverboard_id":"hb-0001","customer_id":"c-00001","distance_km":2,"duration_s":60,"started_at":"2026-11-23T10:00:00Z","color":"red"}' color additionalProperties
ok $? "bad trips too (minimum, additionalProperties)"
[ "$(ends)" = "$before" ]; ok $? "and none of them is stored ($before records before and after)"

# each hoverboard's readings in the order they were posted
sed 's/.*"id":"\([^"]*\)".*"ts":"\([^"]*\)".*/\1 \2/' "$SCRATCH/hoverboard.ndjson" | sort -s -k1,1 > "$SCRATCH/posted"
for p in $(seq 0 99); do $WEIR consume hoverboard --partition "$p" --from-beginning --exit; done |
    sed 's/.*"id":"\([^"]*\)".*"ts":"\([^"]*\)".*/\1 \2/' | sort -s -k1,1 > "$SCRATCH/stored"
cmp -s "$SCRATCH/posted" "$SCRATCH/stored"; ok $? "each hoverboard's readings are stored in the order they were posted"
rows=$(curl -s "$URL/v1/tables/trips?limit=100000" | grep -o '"trips":[0-9]*' | wc -l)
[ "$rows" = "$(sed 's/.*"hoverboard_id":"\([^"]*\)","customer_id":"\([^"]*\)".*/\1 \2/' "$SCRATCH/trip.ndjson" | sort -u | wc -l)" ]
ok $? "table trips has a row per (hoverboard, customer) pair ($rows)"
stop_serve
finish
