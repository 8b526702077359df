#!/usr/bin/env bash
# kafka_listen.sh [--records N] [--rounds R] - issue 18's benchmark: produce
# and fetch throughput through `weir serve --kafka-listen`, beside a real
# Apache Kafka 4.4 broker (single node, KRaft; tests/lib.sh
# start_kafka_broker) and weir's own HTTP ingest and `weir consume`, in the
# same run on the same machine. N records (default 1,000,000) of 100 bytes
# (a JSON object), no key, into a stream/topic of 4 partitions:
#   produce  bench/kafka_produce.c (librdkafka at full speed, records made in
#            memory: kcat -P parses stdin and caps at about 200k records/s
#            here), acks=all, linger.ms=5, to weir and to the broker;
#            `weir produce` (one HTTP client) into the same serve
#   fetch    kcat -C -e from the beginning, from weir and from the broker;
#            `weir consume --from-beginning -e` (the log read directly)
# Each round starts weir on a fresh data directory and uses a fresh topic on
# the broker. Prints, per case, the median of R rounds (default 3) of
# records/s (N / the client's wall time), the server's CPU seconds (from
# /proc: weir serve's, the broker JVM's) and the client's, as a markdown
# table, and every run on stderr.
#
# Needs: kcat, java 17, maven (tests/peers/kafka.sh fetches the broker).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export BUILD=${BUILD:-$root/build}
records=1000000
rounds=3
while [ $# -gt 0 ]; do
    case "$1" in
        --records) records=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "kafka_listen.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ -x "$BUILD/weir" ] || make -C "$root" -s
set +eu
. "$root/tests/lib.sh" # start_serve, start_kafka_broker, $SCRATCH (removed at exit)
set -eu
SERVE_PID=
trap '[ -z "$SERVE_PID" ] || kill "$SERVE_PID" 2>/dev/null || true; stop_kafka_broker; rm -rf "$SCRATCH"' EXIT

pad=$(printf 'x%.0s' $(seq 82))
seq "$records" | awk -v pad="$pad" '{ printf "{\"id\":%d,\"pad\":\"%s\"}\n", $1, substr(pad, length($1)) }' > "$SCRATCH/records"
size=$(head -1 "$SCRATCH/records" | wc -c)
echo "$records records of $size bytes (newline included), $rounds rounds" >&2
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM events (id INT, pad TEXT) WITH (partitions = 4);
SQL

cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # clock ticks, user + system
ticks=$(getconf CLK_TCK)
# children_cpu: CPU seconds of this shell's finished children so far (bash's times)
# (times runs in this shell, not in a $(...) subshell, whose children are others)
children_cpu() { times > "$SCRATCH/times"; tail -1 "$SCRATCH/times" | sed 's/[ms]/ /g' | awk '{ print $1 * 60 + $2 + $3 * 60 + $4 }'; }
# timed NAME PID COMMAND...: runs the command, appends "NAME records/s server-CPU-s client-CPU-s" to $SCRATCH/results
timed() {
    local name=$1 pid=$2 c0 c1 t0 t1 k0 k1
    shift 2
    children_cpu > "$SCRATCH/k0"; c0=$(cpu_of "$pid"); t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N); c1=$(cpu_of "$pid"); children_cpu > "$SCRATCH/k1"
    k0=$(cat "$SCRATCH/k0"); k1=$(cat "$SCRATCH/k1")
    awk -v n="$name" -v r="$records" -v t0="$t0" -v t1="$t1" -v c="$((c1 - c0))" -v hz="$ticks" -v k0="$k0" -v k1="$k1" \
        'BEGIN { printf "%s %.0f %.2f %.2f\n", n, r / (t1 - t0), c / hz, k1 - k0 }' >> "$SCRATCH/results"
}
kafka_p() { "$BUILD/bench/kafka_produce" "$1" "$2" "$records" >/dev/null; }
kcat_c() { [ "$(kcat -C -b "$1" -t "$2" -o beginning -e -q -f '%s\n' -X fetch.max.bytes=52428800 | wc -l)" = "$records" ]; }

# (a second try: 1 in 64 random cluster ids (tests/lib.sh) start with '-', which kafka-storage takes for an option)
start_kafka_broker || start_kafka_broker || exit 1
for r in $(seq "$rounds"); do
    export WEIR_DATA=$SCRATCH/data-$r
    start_serve -f "$SCRATCH/p.sql" --kafka-listen 127.0.0.1:0 || exit 1
    K=127.0.0.1:$(sed -n 's/.*speaking Kafka on .* (port \([0-9]*\)).*/\1/p' "$SCRATCH/serve.err")
    timed "produce-kafka-listen" "$SERVE_PID" kafka_p "$K" events
    timed "fetch-kafka-listen" "$SERVE_PID" kcat_c "$K" events
    stop_serve
    export WEIR_DATA=$SCRATCH/data-http-$r
    start_serve -f "$SCRATCH/p.sql" || exit 1
    for i in $(seq 600); do [ -s "$WEIR_DATA/serve.url" ] && break; sleep 0.05; done # weir produce finds serve by it
    timed "produce-http" "$SERVE_PID" "$BUILD/weir" produce events "$SCRATCH/records"
    stop_serve
    timed "consume-log" "$$" sh -c "[ \"\$('$BUILD/weir' consume events --from-beginning -e | wc -l)\" = $records ]"
    kafka_topics --create --topic "events$r" --partitions 4 >/dev/null 2>&1
    timed "produce-broker" "$KAFKA_PID" kafka_p "$KB" "events$r"
    timed "fetch-broker" "$KAFKA_PID" kcat_c "$KB" "events$r"
    echo "round $r done" >&2
done
stop_kafka_broker || true

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "| case | records/s (median) | server CPU s (median) | client CPU s (median) |"
echo "|---|---|---|---|"
for c in produce-kafka-listen produce-http produce-broker fetch-kafka-listen consume-log fetch-broker; do
    rate=$(awk -v c="$c" '$1 == c { print $2 }' "$SCRATCH/results" | median)
    cpu=$(awk -v c="$c" '$1 == c { print $3 }' "$SCRATCH/results" | median)
    client=$(awk -v c="$c" '$1 == c { print $4 }' "$SCRATCH/results" | median)
    [ "$c" != consume-log ] || cpu="- (no server)"
    echo "| $c | $rate | $cpu | $client |"
done
echo "all runs:" >&2
cat "$SCRATCH/results" >&2
