#!/usr/bin/env bash
# state_memory.sh [STEPS...] - the state's memory on the Collatz example
# (examples/collatz; docs/STATE_STORE.md, "Bounded memory"): for each
# STEPS (default 300000 3000000), that many steps are produced, then
# `weir serve --once $ARGS` processes them while its /proc/PID/status is
# read every 0.2 s: the peaks of RssAnon (malloc'd memory: what the state,
# the checkpoints' batches and LMDB's page copies take), RssFile (pages of
# files mapped: the state store's map, the binary) and their sum, VmHWM
# (the kernel's peak RSS), RssAnon in the last sample (shutdown included), the load
# rate (steps per second), then `weir serve` is started on the loaded data
# and the time until GET /longest_step_chain answers 200 is the restart to
# first answer. ARGS defaults to nothing (the default bound, 256 MiB);
# ARGS="--state-memory 0" runs unbounded, and WEIR=path/to/weir measures
# another build (one from before --state-memory: ARGS=""). Prints a
# markdown table for BENCHMARKS.md.
set -eu
. "$(dirname "$0")/../tests/lib.sh"
ex="$(cd "$(dirname "$0")/../examples/collatz" && pwd)"
[ $# -gt 0 ] || set -- 300000 3000000
ARGS=${ARGS:-}

# restart_ms: milliseconds from the start of weir serve to the first 200 of /longest_step_chain
restart_ms() {
    local t0 i pid url=
    t0=$(date +%s%N)
    $WEIR serve -f "$ex/pipeline.sql" --listen 127.0.0.1:0 $ARGS 2>"$SCRATCH/serve.err" &
    pid=$!
    for i in $(seq 60000); do
        [ -n "$url" ] || url=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$SCRATCH/serve.err")
        [ -n "$url" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/longest_step_chain")" = 200 ] && break
        kill -0 "$pid" 2>/dev/null || { echo "serve died: $(cat "$SCRATCH/serve.err")" >&2; return 1; }
        sleep 0.005
    done
    echo $(( ($(date +%s%N) - t0) / 1000000 ))
    kill -TERM "$pid"; wait "$pid" || true
}

mib() { echo $(( $1 / 1024 )); }

echo "| steps | bound | peak RssAnon, MiB | peak RssFile, MiB | peak of their sum, MiB | VmHWM, MiB | RssAnon, last sample, MiB | load, steps/s | restart to first answer, ms | data dir |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for steps in "$@"; do
    export WEIR_DATA="$SCRATCH/data-$steps"
    $WEIR gen collatz -n "$steps" --seed 1 | $WEIR produce conjecture.data --partitions 4 --key number
    t0=$(date +%s%N)
    $WEIR serve -f "$ex/pipeline.sql" --once $ARGS 2>"$SCRATCH/once.err" &
    pid=$!
    pa=0 pf=0 ps=0 hwm=0 last=0
    while [ -r /proc/$pid/status ] && read -r a f h < <(awk '/^RssAnon/ {a=$2} /^RssFile/ {f=$2} /^VmHWM/ {h=$2} END {print a+0, f+0, h+0}' /proc/$pid/status 2>/dev/null); do
        [ "$a" -gt 0 ] || break
        last=$a
        [ "$a" -gt "$pa" ] && pa=$a
        [ "$f" -gt "$pf" ] && pf=$f
        [ $((a + f)) -gt "$ps" ] && ps=$((a + f))
        [ "$h" -gt "$hwm" ] && hwm=$h
        sleep 0.2
    done
    wait "$pid" || { echo "serve --once failed: $(tail -3 "$SCRATCH/once.err")" >&2; exit 1; }
    once_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    restart=$(restart_ms)
    echo "| $steps | ${ARGS:-default} | $(mib $pa) | $(mib $pf) | $(mib $ps) | $(mib $hwm) | $(mib $last) | $(( steps * 1000 / once_ms )) | $restart | $(du -sh "$WEIR_DATA" | cut -f1) |"
    rm -rf "$WEIR_DATA"
done
