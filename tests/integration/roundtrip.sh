#!/usr/bin/env bash
# roundtrip.sh - 1,000,000 records produced and consumed back: identical,
# in input order within each partition, and every key on the partition
# librdkafka's murmur2 partitioner (an independent implementation) picks.
. "$(dirname "$0")/../lib.sh"
plan 6
N=${WEIR_ROUNDTRIP_N:-1000000}

awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":%d,\"user\":\"user-%d\",\"event\":\"click\",\"v\":%d}\n", i, (i * 7919) % 10007, i % 997 }' > "$SCRATCH/in.ndjson"
start=$(date +%s.%N)
$WEIR produce clicks --key user --partitions 8 "$SCRATCH/in.ndjson"; ok $? "produce $N records"
end=$(date +%s.%N)
diag "produce: $(awk -v s="$start" -v e="$end" -v n="$N" 'BEGIN { printf "%.0f records/s", n / (e - s) }')"
$WEIR consume clicks --from-beginning --exit --meta > "$SCRATCH/out.ndjson"; ok $? "consume them back"

[ "$(wc -l < "$SCRATCH/out.ndjson")" -eq "$N" ]; ok $? "exactly $N records"
# The values, sorted, are the input, sorted: nothing lost, added or changed.
sed -e 's/^.*,"value"://' -e 's/}$//' "$SCRATCH/out.ndjson" | sort > "$SCRATCH/values"
sort "$SCRATCH/in.ndjson" | cmp -s - "$SCRATCH/values"; ok $? "values identical to the input"
# Within a partition, ids (input order) only increase.
awk -F'[:,]' '{ p = $2; id = $13; if ((p in last) && id <= last[p]) bad++; last[p] = id } END { exit bad > 0 }' "$SCRATCH/out.ndjson"
ok $? "input order kept within each partition"
# key -> partition agrees with librdkafka.
awk -F'"' '{ print $12 "\t" substr($3, 2, length($3) - 2) }' "$SCRATCH/out.ndjson" | sort -u > "$SCRATCH/pairs"
cut -f1 "$SCRATCH/pairs" | "$BUILD/tests/helpers/kafka_partition" 8 > "$SCRATCH/theirs"
paste <(cut -f1 "$SCRATCH/pairs") "$SCRATCH/theirs" > "$SCRATCH/expected"
[ "$(wc -l < "$SCRATCH/pairs")" -eq 10007 ] && cmp -s "$SCRATCH/pairs" "$SCRATCH/expected"
ok $? "all 10007 keys on librdkafka's murmur2 partition"
finish
