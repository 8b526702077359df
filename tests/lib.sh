# lib.sh - sourced by the shell tests: TAP output, a scratch directory
# removed on exit, and the paths of the binaries under test ($WEIR, $BUILD;
# `make test` sets both).

: "${BUILD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}"
: "${WEIR:=$BUILD/weir}"
export WEIR BUILD
TAP_N=0
TAP_FAILED=0
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/weir-test-XXXXXX")
export WEIR_DATA="$SCRATCH/data"
# A broker a test started (start_kafka_broker) is stopped even when the test bails out.
trap 'stop_kafka_broker; rm -rf "$SCRATCH"' EXIT

plan() { echo "1..$1"; }
ok() { # ok CONDITION-EXIT-STATUS NAME
    TAP_N=$((TAP_N + 1))
    if [ "$1" -eq 0 ]; then echo "ok $TAP_N - $2"; else echo "not ok $TAP_N - $2"; TAP_FAILED=$((TAP_FAILED + 1)); fi
}
# todo CONDITION-EXIT-STATUS NAME REASON: a check of a known bug (TAP's TODO):
# reported, but its failure does not fail the test
todo() {
    TAP_N=$((TAP_N + 1))
    if [ "$1" -eq 0 ]; then echo "ok $TAP_N - $2 # TODO $3"; else echo "not ok $TAP_N - $2 # TODO $3"; fi
}
check() { # check NAME COMMAND...: ok if the command succeeds
    local name=$1; shift
    "$@" >/dev/null 2>&1
    ok $? "$name"
}
diag() { echo "# $*"; }
# complain TEXT: a diagnostic on standard error too, which prove shows without -v
# (for what a reader of a failed run needs: a server's own log when it did not start).
complain() { diag "$@"; echo "$*" | sed 's/^/# /' >&2; }
# START_DEADLINE: seconds a server started by a test gets to answer (a loaded 2-core machine is slow).
START_DEADLINE=${WEIR_START_DEADLINE:-60}
finish() { [ "$TAP_FAILED" -eq 0 ]; exit $?; }

# start_serve ARGS...: weir serve on a free loopback port, in the background;
# waits until it listens. Sets SERVE_PID and URL; stderr goes to $SCRATCH/serve.err.
start_serve() {
    rm -f "$SCRATCH/serve.err"
    $WEIR serve --listen 127.0.0.1:0 "$@" 2>"$SCRATCH/serve.err" &
    SERVE_PID=$!
    local i
    for i in $(seq $((START_DEADLINE * 20))); do
        URL=$(sed -n 's|.*listening on \(https\{0,1\}://[0-9.:]*\).*|\1|p' "$SCRATCH/serve.err" 2>/dev/null)
        [ -n "$URL" ] && return 0
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.05
    done
    complain "weir serve $* did not start within $START_DEADLINE s; its log: $(cat "$SCRATCH/serve.err")"
    return 1
}
# serve_killed KILLS ERRFILE ARGS...: weir serve ARGS (a run that ends by
# itself, --once), started again and again and killed -9 at a random moment
# of each of its first KILLS runs, until a run finishes; stderr appended to
# ERRFILE. Sets KILLED to the kills made. A run not killed that fails ends it
# with its last line of stderr as a diagnostic.
serve_killed() {
    local kills=$1 errs=$2 i pid rc
    shift 2
    KILLED=0
    for i in $(seq 1 200); do
        $WEIR serve "$@" 2>>"$errs" &
        pid=$!
        if [ "$KILLED" -lt "$kills" ]; then
            sleep "0.0$((RANDOM % 9 + 1))$((RANDOM % 10))"
            if kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null; then
                KILLED=$((KILLED + 1))
                wait "$pid" 2>/dev/null
                continue
            fi
        fi
        wait "$pid"; rc=$?
        [ $rc -eq 0 ] || diag "serve exited with $rc: $(tail -1 "$errs")"
        return 0
    done
}
stop_serve() { kill -TERM "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID"; }

# req METHOD PATH [curl args...]: a request to the server start_serve started
# (60 s at most); sets STATUS and BODY.
req() {
    local method=$1 path=$2; shift 2
    STATUS=$(curl -s -m 60 -o "$SCRATCH/body" -w '%{http_code}' -X "$method" "$@" "$URL$path")
    BODY=$(cat "$SCRATCH/body")
}
# expect STATUS SUBSTRING NAME: the last answer had that status and its body holds the text.
expect() {
    [ "$STATUS" = "$1" ] && [[ "$BODY" == *"$2"* ]]
    local rc=$?
    [ $rc -eq 0 ] || diag "got $STATUS: $BODY"
    ok $rc "$3"
}

# start_kafka_mock TOPIC:PARTITIONS...: librdkafka's mock cluster
# (tests/helpers/kafka_mock, three brokers on loopback) with those topics;
# waits until it listens. Sets mock (its pid) and B (its bootstrap servers).
start_kafka_mock() {
    rm -f "$SCRATCH/brokers"
    "$BUILD/tests/helpers/kafka_mock" "$SCRATCH/brokers" "$@" &
    mock=$!
    local i
    for i in $(seq $((START_DEADLINE * 20))); do
        [ -s "$SCRATCH/brokers" ] && break
        kill -0 "$mock" 2>/dev/null || break
        sleep 0.05
    done
    B=$(cat "$SCRATCH/brokers" 2>/dev/null)
    [ -n "$B" ] || complain "the Kafka mock cluster did not start within $START_DEADLINE s"
}

# start_kafka_broker [NAME=VALUE...]: a real Apache Kafka 4.4 broker (the
# jars tests/peers/kafka.sh fetches from Maven Central, run by the machine's
# Java 17), one node that is its own KRaft controller, on two free loopback
# ports, its log directories under $SCRATCH/kafka; extra server properties
# as arguments. Formats the storage, starts the broker and waits (up to
# $KAFKA_START_DEADLINE s: a JVM starts slowly on a loaded machine) until it
# answers a metadata request. Sets KB (bootstrap server) and KAFKA_PID; its
# third port, KB_SASL, is a SASL_PLAINTEXT listener (mechanism PLAIN) that
# knows one user, KAFKA_USER with password KAFKA_PASSWORD; its
# log is $SCRATCH/kafka/broker.log, shown when it does not start. Settings
# for tests: a 512 MiB heap, internal topics with one replica and one
# partition, no rebalance delay, and a log cleaner that looks for work every
# half second (a topic created with segment.ms and min.cleanable.dirty.ratio
# small is compacted within seconds).
KAFKA_START_DEADLINE=${WEIR_KAFKA_START_DEADLINE:-180}
KAFKA_PEERS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/peers/kafka.sh
KAFKA_USER=weir
KAFKA_PASSWORD=weir-secret
KAFKA_JVM=(-Xms32m -XX:+UseSerialGC -Djava.awt.headless=true)
# kafka_tool CLASS ARGS...: one of Kafka's command line tools, quickly started and quiet but for errors
kafka_tool() {
    java "${KAFKA_JVM[@]}" -Xmx256m -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -cp "$("$KAFKA_PEERS" dir)/*" "$@"
}
# kafka_topics ARGS...: kafka-topics.sh against the broker; kafka_groups ARGS...: kafka-consumer-groups.sh
kafka_topics() { kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KB" "$@"; }
kafka_groups() { kafka_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$KB" "$@"; }
start_kafka_broker() {
    local attempt
    command -v java >/dev/null || { complain "java is missing (scripts/deps.sh test installs default-jre-headless)"; return 1; }
    "$KAFKA_PEERS" fetch || { complain "the Apache Kafka jars could not be fetched (tests/peers/kafka.sh fetch)"; return 1; }
    # another process can take a port between the choice and the broker's bind: then again, on other ports
    for attempt in 1 2 3; do
        start_kafka_broker_once "$attempt" "$@" && return 0
        [ $? = 2 ] || return 1
    done
    return 1
}
# start_kafka_broker_once ATTEMPT PROPERTY...: one try of start_kafka_broker; 2 when a port was taken under it
start_kafka_broker_once() {
    local dir=$SCRATCH/kafka port i id last=$(($1 == 3))
    shift
    rm -rf "$dir"
    mkdir -p "$dir"
    # below the kernel's ephemeral ports (32768 up), which every connection and 127.0.0.1:0 listener takes from
    port=$((20000 + RANDOM % 12000))
    while ss -ltn 2>/dev/null | grep -q ":$port \|:$((port + 1)) \|:$((port + 2)) "; do port=$((20000 + RANDOM % 12000)); done
    KB=127.0.0.1:$port
    KB_SASL=127.0.0.1:$((port + 2))
    {
        echo "process.roles=broker,controller"
        echo "node.id=1"
        echo "controller.quorum.voters=1@127.0.0.1:$((port + 1))"
        echo "listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1)),SASL_PLAINTEXT://$KB_SASL"
        echo "advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://$KB_SASL"
        echo "controller.listener.names=CONTROLLER"
        echo "inter.broker.listener.name=PLAINTEXT"
        echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
        echo "sasl.enabled.mechanisms=PLAIN"
        echo "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_USER=\"$KAFKA_PASSWORD\";"
        echo "log.dirs=$dir/logs"
        echo "num.partitions=1"
        echo "offsets.topic.replication.factor=1"
        echo "offsets.topic.num.partitions=1"
        echo "transaction.state.log.replication.factor=1"
        echo "transaction.state.log.min.isr=1"
        echo "transaction.state.log.num.partitions=1"
        echo "share.coordinator.state.topic.replication.factor=1"
        echo "share.coordinator.state.topic.min.isr=1"
        echo "group.initial.rebalance.delay.ms=0"
        echo "log.initial.task.delay.ms=0"
        echo "log.cleaner.backoff.ms=500"
        echo "log.cleaner.dedupe.buffer.size=16777216"
        local kv
        for kv in "$@"; do echo "$kv"; done
    } > "$dir/server.properties"
    # the cluster id: 16 random bytes in URL-safe base64 without padding, as `kafka-storage.sh random-uuid` prints
    # (one starting with '-' would read as an option to the tool: its first character is a letter)
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22 | sed 's/^[^A-Za-z]/W/')
    if ! kafka_tool kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
        complain "formatting the Kafka broker's storage failed: $(tail -20 "$dir/format.log")"
        return 1
    fi
    # java itself in the background (not a function's subshell), so KAFKA_PID is the JVM's
    java "${KAFKA_JVM[@]}" -Xmx512m -Dorg.slf4j.simpleLogger.showDateTime=true -cp "$("$KAFKA_PEERS" dir)/*" \
        kafka.Kafka "$dir/server.properties" >"$dir/broker.log" 2>&1 &
    KAFKA_PID=$!
    for i in $(seq $((KAFKA_START_DEADLINE * 10))); do
        kcat -b "$KB" -L -m 5 2>/dev/null | grep -q "broker 1 at $KB" && return 0
        kill -0 "$KAFKA_PID" 2>/dev/null || break
        sleep 0.1
    done
    local how="did not answer within $KAFKA_START_DEADLINE s"
    kill -0 "$KAFKA_PID" 2>/dev/null || how="exited" # then its log's errors say why, before its shutdown's lines
    stop_kafka_broker
    if [ "$last" = 0 ] && grep -q "Address already in use" "$dir/broker.log"; then
        diag "the Kafka broker's ports ($port-$((port + 2))) were taken under it: trying others"
        return 2
    fi
    complain "the Kafka broker $how; its errors: $(grep -m 10 -E 'ERROR|FATAL|Exception' "$dir/broker.log")" \
        "; the end of its log: $(tail -20 "$dir/broker.log")"
    return 1
}
# stop_kafka_broker: SIGTERM (a controlled shutdown), SIGKILL if it takes more than 20 s.
stop_kafka_broker() {
    [ -n "${KAFKA_PID:-}" ] || return 0
    kill -TERM "$KAFKA_PID" 2>/dev/null
    local i
    for i in $(seq 200); do kill -0 "$KAFKA_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$KAFKA_PID" 2>/dev/null
    wait "$KAFKA_PID" 2>/dev/null
    KAFKA_PID=
    return 0
}

. "$(dirname "${BASH_SOURCE[0]}")/clickhouse_server.sh" # start_clickhouse, stop_clickhouse, ch
