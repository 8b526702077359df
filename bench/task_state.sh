#!/usr/bin/env bash
# task_state.sh [KEYS...] - what a scale-out task's state costs in the
# group's state topic (issue 14, item 8): the build under test ($WEIR,
# default build/weir) beside another ($WEIR_BEFORE, e.g. one built from
# ec81514, whose every save wrote the task's whole engine snapshot as one
# record; now a save writes one record per group changed and a small head).
#
# Per KEYS (default 100000 1000000), per build, RUNS times (default 3; the
# builds interleaved), one `weir serve --kafka-group gN --scale-out` process
# of
#   CREATE TABLE tN AS SELECT k, COUNT(*) c, SUM(n) s FROM evN GROUP BY k
# over KEYS distinct keys in 4 partitions, on a real Apache Kafka broker
# (start_kafka_broker in tests/lib.sh; fresh topics per run):
#  1. load: one record per key; wait until saved: every task's latest head
#     in gN.state names its partition's end as its next offset (a state is
#     saved once its output rows are delivered), then nothing more for 3 s;
#  2. trickle: 1,000 records touching 1,000 keys; the records and bytes
#     (key + value + headers) the saves that follow write to gN.state (read
#     from its end before the trickle), the heads among them (one per task
#     saved), and the serve process's CPU seconds (/proc) from the trickle's
#     start to its last head's arrival;
#  3. short history: the process stops (SIGTERM), one record per probe key
#     (8 keys) is produced, and a second process with a fresh data directory
#     starts; restore = from its start until it holds the 4 partitions and
#     its pull query answers every probe key with the count the input gives
#     (which only a restored state can: its view is new). Its CPU too, and
#     what gN.state held (records, bytes) when it started: what it read;
#  4. long history: the same keys loaded HISTORY - 1 more times (default 9:
#     10 updates of each key), each round saved, then 3. again.
# COMPACT=0 (default) creates gN.state with cleanup.policy=delete and no
# retention: every save stays and a new owner reads them all (history
# grows the topic, for both builds). COMPACT=1 creates it compacted, its
# segments rolled every 100 ms and cleaned as soon as 1% is dirty, so what
# a new owner reads is about the latest record per key (the cleaner runs
# on its own schedule: the records read are printed). Either way
# max.message.bytes is 100 MB: the before build's one record per task is
# the task's whole state (over the broker's default 1 MB from about 100k
# keys).
#
# librdkafka's mock cluster (tests/lib.sh start_kafka_mock) is no use here:
# it keeps at most 5 MiB (and 100,000 message sets) per partition and
# drops the oldest beyond, so a state of 100k groups loses its first
# pieces (or, before, a task's whole snapshot) before a takeover reads it.
#
# Prints one line per run and measure as it goes, then a markdown table of
# the medians. Needs kcat, Debian's python3-confluent-kafka (/usr/bin/python3),
# java and the Kafka jars (tests/peers/kafka.sh fetch).
#   WEIR_BEFORE=/tmp/before/build/weir RUNS=3 HISTORY=10 bash bench/task_state.sh 100000 1000000
set -Eeu
. "$(dirname "$0")/../tests/lib.sh"
[ $# -gt 0 ] || set -- 100000 1000000
RUNS=${RUNS:-3}
HISTORY=${HISTORY:-10}
COMPACT=${COMPACT:-0}
TRICKLE=1000
PROBES=8
CHECKPOINT_MS=1000
PY=/usr/bin/python3 # Debian's, with python3-confluent-kafka
command -v kcat >/dev/null || { echo "task_state.sh: needs kcat" >&2; exit 1; }
$PY -c 'import confluent_kafka' || { echo "task_state.sh: needs python3-confluent-kafka" >&2; exit 1; }
builds="after"
[ -z "${WEIR_BEFORE:-}" ] || builds="before after"
weir_of() { if [ "$1" = before ]; then echo "$WEIR_BEFORE"; else echo "$WEIR"; fi; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system, in 1/100 s
metric() { curl -s "$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
# records FROM TO N: keys kFROM..kTO, value n = N
records() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { for (i = a; i <= b; i++) printf "k%d\t{\"k\":\"k%d\",\"n\":%d}\n", i, i, n }'; }
produce() { kcat -b "$B" -t "$EV" -P -K '\t' -X topic.partitioner=murmur2_random -X queue.buffering.max.messages=1000000 2>>"$SCRATCH/kcat.err"; }
# wait_saved PID: every task's latest head in the state topic (read from offset $SCAN on) names
# its partition's end offset as its next one (heads hold their next input offsets: magic, SQL hash,
# count, then one u64 each, little-endian), i.e. all that was produced is saved; then nothing more
# for 3 s. Sets SAVED_END (the state topic's end) and SAVED_CPU (the process's CPU ticks when the
# last head arrived); SCAN moves to the end.
wait_saved() {
    read -r SAVED_END SAVED_CPU <<< "$($PY - "$B" "$G.state" "$EV" "$SCAN" "$1" <<'PY'
import struct, sys, time
from confluent_kafka import Consumer, TopicPartition
brokers, topic, ev, start, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def cpu():
    with open("/proc/%s/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return int(v[11]) + int(v[12])
c = Consumer({"bootstrap.servers": brokers, "group.id": "task-state-bench", "enable.auto.commit": False,
              "fetch.message.max.bytes": 100000000})
ends = [c.get_watermark_offsets(TopicPartition(ev, p), timeout=30)[1] for p in range(4)]
c.assign([TopicPartition(topic, 0, start)])
saved, at, ticks, deadline, quiet = {}, start, None, time.time() + 1800, None
while time.time() < deadline:
    m = c.poll(0.2)
    if m is not None and not m.error():
        at = m.offset() + 1
        k = m.key() or b""
        if k.startswith(b"state/") and m.value():
            saved[int(k.rsplit(b"/", 1)[1])] = struct.unpack_from("<Q", m.value(), 16)[0]
            if all(saved.get(p) == ends[p] for p in range(4)) and ticks is None:
                ticks, quiet = cpu(), time.time()
        elif ticks is not None:
            quiet = time.time()
    if ticks is not None and time.time() - quiet >= 3:
        print(at, ticks)
        sys.exit(0)
sys.exit("task_state.sh: not saved in 30 min (heads %s, input ends %s)" % (saved, ends))
PY
)"
    SCAN=$SAVED_END
}
# serve DIR: a process of group $G on a fresh data directory; sets SPID and URL
serve() {
    local i
    rm -f "$SCRATCH/serve.err" # a fresh one: the last process's address is not this one's
    $BIN serve -f "$SCRATCH/p.sql" --data "$1" --kafka "$B" --kafka-group "$G" --scale-out \
        --checkpoint-ms $CHECKPOINT_MS --listen 127.0.0.1:0 2>"$SCRATCH/serve.err" &
    SPID=$!
    URL=
    for i in $(seq 6000); do
        URL=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$SCRATCH/serve.err" 2>/dev/null)
        [ -n "$URL" ] && return 0
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.01
    done
    echo "task_state.sh: serve did not start: $(cat "$SCRATCH/serve.err")" >&2
    return 1
}
stop() { kill -TERM "$SPID"; wait "$SPID" || true; SPID=; }
# admin create|delete TOPIC...: the run's topics (create: $EV, its dead letters and $T with 4
# partitions, the state topic with 1 and the COMPACT policy)
admin() {
    $PY - "$B" "$COMPACT" "$@" <<'PY'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
brokers, compact, op, topics = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4:]
a = AdminClient({"bootstrap.servers": brokers})
if op == "create":
    state = {"max.message.bytes": "100000000"}
    state.update({"cleanup.policy": "compact", "segment.ms": "100", "min.cleanable.dirty.ratio": "0.01",
                  "min.compaction.lag.ms": "0", "delete.retention.ms": "100"} if compact else
                 {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"})
    new = [NewTopic(t, 1, 1, config=state) if t.endswith(".state") else NewTopic(t, 4, 1) for t in topics]
    fs = a.create_topics(new, operation_timeout=60)
else:
    fs = a.delete_topics(topics, operation_timeout=60)
for f in fs.values():
    f.result()
PY
}
# topic_size FROM: "records bytes heads" of the state topic from offset FROM to its end
# (bytes: key + value + headers, as the broker holds them now: compacted or not)
topic_size() {
    $PY - "$B" "$G.state" "$1" <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
brokers, topic, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Consumer({"bootstrap.servers": brokers, "group.id": "task-state-bench", "enable.auto.commit": False,
              "fetch.message.max.bytes": 100000000, "enable.partition.eof": True})
_, end = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)
c.assign([TopicPartition(topic, 0, start)])
n = size = heads = pieces = 0
while end > start:
    m = c.poll(30)
    if m is None:
        sys.exit("task_state.sh: reading %s timed out" % topic)
    if m.error():
        if m.error().code() == -191: # _PARTITION_EOF
            break
        sys.exit("task_state.sh: reading %s: %s" % (topic, m.error()))
    k = m.key() or b""
    size += len(k) + len(m.value() or b"") + sum(len(h) + len(v or b"") for h, v in m.headers() or [])
    n += 1
    heads += k.startswith(b"state/")
    pieces += k.startswith(b"piece/")
    if m.offset() + 1 >= end:
        break
c.close()
print(n, size, heads, pieces)
PY
}
# probed URL COUNT: every probe key's row in the table has c = COUNT
probed() {
    local i
    for i in $(seq 0 $((PROBES - 1))); do
        curl -s "$1/v1/tables/$T?key=k$i" | grep -q "\"c\":$2[,}]" || return 1
    done
}
# takeover LABEL COUNT: stops the process, produces one record per probe key (whose counts become
# COUNT), starts another on a fresh data directory and times it to the probes' answers
takeover() {
    local t0 owned_ms= deadline c0 rec bytes pieces ms
    stop
    read -r rec bytes _ pieces <<< "$(topic_size 0)"
    records 0 $((PROBES - 1)) 0 | produce
    t0=$(now_ms)
    serve "$SCRATCH/run/$1"
    deadline=$((t0 + 1800000))
    until probed "$URL" "$2"; do
        [ -n "$owned_ms" ] || [ "$(metric "$URL" "weir_partitions_owned{stream=\"$EV\"}")" != 4 ] || owned_ms=$(( $(now_ms) - t0 ))
        [ "$(now_ms)" -lt "$deadline" ] || { echo "task_state.sh: no answer in 30 min: $(tail -5 "$SCRATCH/serve.err")" >&2; return 1; }
        kill -0 "$SPID" 2>/dev/null || { echo "task_state.sh: serve died: $(tail -5 "$SCRATCH/serve.err")" >&2; return 1; }
        sleep 0.05
    done
    ms=$(( $(now_ms) - t0 ))
    c0=$(cpu_ticks "$SPID")
    out "$1" "restore_s=$(secs "$ms") owned_s=$(secs "${owned_ms:-$ms}") restore_cpu_s=$(secs $((c0 * 10))) read_records=$rec read_pieces=$pieces read_mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')"
}
out() { echo "$build $keys run$run $1 $2" | tee -a "$SCRATCH/results"; }

# one_run: the four steps above for $build and $keys, on fresh topics
one_run() {
    local t0 c0 w0 round rec bytes heads
    BIN=$(weir_of "$build")
    n_run=$((n_run + 1))
    EV=ev$n_run T=t$n_run G=g$n_run
    admin create "$EV" "$EV.dlq" "$T" "$G.state"
    { echo "CREATE STREAM $EV (k TEXT, n INT) WITH (partitions = 4, key = 'k');"
      echo "CREATE TABLE $T AS SELECT k, COUNT(*) AS c, SUM(n) AS s FROM $EV GROUP BY k;"; } > "$SCRATCH/p.sql"
    rm -rf "$SCRATCH/run"; mkdir -p "$SCRATCH/run"
    SCAN=0
    t0=$(now_ms)
    serve "$SCRATCH/run/a"
    until [ "$(metric "$URL" "weir_partitions_owned{stream=\"$EV\"}")" = 4 ]; do sleep 0.05; done
    out join "join_s=$(secs $(( $(now_ms) - t0 )))" # start to owning the partitions, nothing to restore
    t0=$(now_ms)
    records 0 $((keys - 1)) 1 | produce
    wait_saved "$SPID"
    out load "load_s=$(secs $(( $(now_ms) - t0 - 3000 ))) state_records=$SAVED_END"
    # the trickle
    c0=$(cpu_ticks "$SPID"); w0=$SAVED_END
    records 0 $((TRICKLE - 1)) 1 | produce
    wait_saved "$SPID"
    read -r rec bytes heads _ <<< "$(topic_size "$w0")"
    out trickle "records=$rec bytes=$bytes heads=$heads per_save=$((bytes * 4 / heads)) cpu_s=$(secs $(( (SAVED_CPU - c0) * 10 )))"
    takeover short 3 # loaded once, the trickle, the probe
    for round in $(seq 2 "$HISTORY"); do
        records 0 $((keys - 1)) "$round" | produce
        wait_saved "$SPID"
    done
    [ "$HISTORY" -le 1 ] || takeover long $((HISTORY + 3))
    stop
    admin delete "$EV" "$EV.dlq" "$T" "$G.state"
}

SPID=
n_run=0
trap 'trap - ERR; [ ! -s "$SCRATCH/kcat.err" ] || sed "s/^/kcat: /" "$SCRATCH/kcat.err" >&2; [ -z "$SPID" ] || kill "$SPID"; stop_kafka_broker; rm -rf "$SCRATCH"' EXIT
trap 'echo "task_state.sh: line $LINENO failed" >&2' ERR
start_kafka_broker || exit 1
B=$KB
: > "$SCRATCH/results"
for keys in "$@"; do
    for run in $(seq "$RUNS"); do
        for build in $builds; do one_run; done
    done
done

# medians (the middle run of RUNS) per build, keys and measure
med() { # med BUILD KEYS STEP FIELD
    awk -v b="$1" -v k="$2" -v s="$3" -v f="$4" '$1 == b && $2 == k && $4 == s {
        for (i = 5; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) v[n++] = kv[2] + 0 } }
        END { if (!n) { print "-"; exit }
              for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
              print v[int((n - 1) / 2)] }' "$SCRATCH/results"
}
echo
echo "| build | keys | trickle: records to the state topic | bytes | heads (4 a save) | bytes a save | serve CPU s | restore s, short history (CPU s; records, MB read) | restore s, ${HISTORY}x history (CPU s; records, MB read) | first load + save s | start to owning, nothing to restore s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for keys in "$@"; do
    for build in $builds; do
        echo "| $build | $keys | $(med $build $keys trickle records) | $(med $build $keys trickle bytes) | $(med $build $keys trickle heads) | $(med $build $keys trickle per_save) | $(med $build $keys trickle cpu_s) | $(med $build $keys short restore_s) ($(med $build $keys short restore_cpu_s); $(med $build $keys short read_records), $(med $build $keys short read_mb)) | $(med $build $keys long restore_s) ($(med $build $keys long restore_cpu_s); $(med $build $keys long read_records), $(med $build $keys long read_mb)) | $(med $build $keys load load_s) | $(med $build $keys join join_s) |"
    done
done
