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
finish() { [ "$TAP_FAILED" -eq 0 ]; exit $?; }

# start_serve ARGS...: weir serve on a free loopback port, in the background;
# waits until it listens. Sets SERVE_PID and URL; stderr goes to $SCRATCH/serve.err.
start_serve() {
    rm -f "$SCRATCH/serve.err"
    $WEIR serve --listen 127.0.0.1:0 "$@" 2>"$SCRATCH/serve.err" &
    SERVE_PID=$!
    local i
    for i in $(seq 200); do
        URL=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$SCRATCH/serve.err" 2>/dev/null)
        [ -n "$URL" ] && return 0
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.05
    done
    diag "weir serve did not start: $(cat "$SCRATCH/serve.err")"
    return 1
}
stop_serve() { kill -TERM "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID"; }
