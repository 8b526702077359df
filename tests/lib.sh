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

# start_clickhouse DIR: Debian's clickhouse-server with its data, logs and
# ports (free ones, picked here) under DIR; waits for /ping. Sets CH_URL and
# CH_PID. Calling it again with the same DIR restarts on the same data.
start_clickhouse() {
    local dir=$1 port i
    mkdir -p "$dir"
    if [ ! -f "$dir/config.xml" ]; then
        port=$((20000 + RANDOM % 20000))
        while ss -ltn 2>/dev/null | grep -q ":$port \|:$((port + 1)) "; do port=$((20000 + RANDOM % 20000)); done
        cp /etc/clickhouse-server/users.xml "$dir/users.xml"
        cat > "$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/server.log</log><errorlog>$dir/err.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>$port</http_port>
  <tcp_port>$((port + 1))</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>104857600</mark_cache_size>
  <timezone>UTC</timezone>
</yandex>
XML
    fi
    port=$(sed -n 's|.*<http_port>\([0-9]*\)</http_port>.*|\1|p' "$dir/config.xml")
    CH_URL="http://127.0.0.1:$port"
    clickhouse-server --config-file="$dir/config.xml" >"$dir/stdout" 2>&1 &
    CH_PID=$!
    for i in $(seq $((START_DEADLINE * 20))); do
        [ "$(curl -s "$CH_URL/ping" 2>/dev/null)" = "Ok." ] && return 0
        kill -0 "$CH_PID" 2>/dev/null || break
        sleep 0.05
    done
    complain "clickhouse-server did not start within $START_DEADLINE s; its logs: $(tail -20 "$dir/err.log" "$dir/stdout" 2>/dev/null)"
    return 1
}
stop_clickhouse() { # SIGTERM, and SIGKILL if it takes more than 3 s (18.16 can take 10)
    kill -TERM "$CH_PID" 2>/dev/null
    local i
    for i in $(seq 60); do kill -0 "$CH_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$CH_PID" 2>/dev/null
    wait "$CH_PID" 2>/dev/null
    return 0 # it is stopped, whichever signal did it (callers run under set -e)
}
ch() { curl -s "$CH_URL/" --data-binary "$1"; } # ch SQL: a query's answer
