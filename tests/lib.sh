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
trap 'rm -rf "$SCRATCH"' EXIT

plan() { echo "1..$1"; }
ok() { # ok CONDITION-EXIT-STATUS NAME
    TAP_N=$((TAP_N + 1))
    if [ "$1" -eq 0 ]; then echo "ok $TAP_N - $2"; else echo "not ok $TAP_N - $2"; TAP_FAILED=$((TAP_FAILED + 1)); fi
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

. "$(dirname "${BASH_SOURCE[0]}")/clickhouse_server.sh" # start_clickhouse, stop_clickhouse, ch
