#!/usr/bin/env bash
# exactly_once.sh [RECORDS] - what `weir serve --scale-out
# --kafka-exactly-once` costs beside plain scale-out (issue 15, item 8), on
# a real Apache Kafka broker (start_kafka_broker in tests/lib.sh).
#
# Per mode (off, on), RUNS times (default 3; the modes interleaved), one
# process holding all 4 partitions of clicks runs
#   CREATE TABLE counts AS SELECT user, window_start, COUNT(*) AS c
#     FROM TUMBLE(clicks, INTERVAL '1' MINUTE) GROUP BY user
# (one output row per record, 1,000 users) with --checkpoint-ms 1000, fresh
# topics per run. RECORDS (default 200000) records are produced at once
# with kcat; measured: the seconds from the produce's start until a
# read_committed reader (kcat) finds every output row in topic counts
# (polled every half second), and the process's threads and sockets
# (/proc) then.
set -u
cd "$(dirname "$0")/.."
export WEIR=${WEIR:-$PWD/build/weir}
. tests/lib.sh
RECORDS=${1:-200000}
RUNS=${RUNS:-3}
start_kafka_broker || exit 1
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM clicks (user TEXT, n INT, ts TIMESTAMP) WITH (partitions = 4, key = 'user', timestamp = 'ts');
CREATE TABLE counts AS SELECT user, window_start, COUNT(*) AS c FROM TUMBLE(clicks, INTERVAL '1' MINUTE) GROUP BY user;
SQL
seq 1 "$RECORDS" | awk '{ printf "u%d\t{\"user\":\"u%d\",\"n\":%d,\"ts\":\"2026-11-23T10:00:00Z\"}\n", $1 % 1000, $1 % 1000, $1 }' \
    > "$SCRATCH/in"
committed() { kcat -b "$KB" -t counts -C -e -q -X isolation.level=read_committed -f 'x\n' 2>/dev/null | wc -l; }
run=0
for r in $(seq "$RUNS"); do
    for opt in off on; do
        run=$((run + 1))
        for t in clicks:4 counts:4 clicks.dlq:1; do
            kafka_topics --delete --topic "${t%:*}" >/dev/null 2>&1
        done
        for t in clicks:4 counts:4 clicks.dlq:1; do # deletion is asynchronous: retry until the name is free
            for i in $(seq 100); do
                kafka_topics --create --topic "${t%:*}" --partitions "${t#*:}" --replication-factor 1 >/dev/null 2>&1 && break
                sleep 0.2
            done
        done
        args=()
        [ "$opt" = on ] && args=(--kafka-exactly-once)
        $WEIR serve -f "$SCRATCH/p.sql" --data "$SCRATCH/d$run" --kafka "$KB" --kafka-group "g$run" --scale-out \
            --listen 127.0.0.1:0 --checkpoint-ms 1000 "${args[@]}" 2>"$SCRATCH/$run.err" &
        pid=$!
        u=
        for i in $(seq 600); do
            u=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$SCRATCH/$run.err")
            [ -n "$u" ] && curl -s "$u/metrics" | grep -q 'weir_partitions_owned{stream="clicks"} 4' && break
            sleep 0.1
        done
        start=$(date +%s.%N)
        kcat -b "$KB" -t clicks -P -K $'\t' -X topic.partitioner=murmur2_random < "$SCRATCH/in"
        for i in $(seq 1200); do [ "$(committed)" -ge "$RECORDS" ] && break; sleep 0.5; done
        end=$(date +%s.%N)
        printf '%-4s run %d: %6.1f s to %d rows readable (read_committed), %d threads, %d sockets\n' "$opt" "$r" \
            "$(echo "$end - $start" | bc)" "$(committed)" "$(ls "/proc/$pid/task" | wc -l)" \
            "$(ls -l "/proc/$pid/fd" | grep -c socket)"
        kill "$pid"
        wait "$pid"
    done
done
