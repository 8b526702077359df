#!/usr/bin/env bash
# state_restart.sh [STEPS...] - restart to first answer on the Collatz
# example (examples/collatz): for each STEPS (default 300000 3000000),
# that many steps are produced and processed by `weir serve --once`, then
# `weir serve` is started again on the same data directory and the time
# until GET /longest_step_chain answers 200 is measured (three restarts,
# the median printed), with the rows the table views replayed from their
# changelogs at that start (weir_table_rows_replayed in /metrics; absent
# before the state store held the views), the time `serve --once` took to
# process the steps (the cost of writing the views' rows at checkpoints
# shows there), each checkpoint's duration during that run (from its
# thread's start to its rename of pipeline/stable, seen by strace: the
# first three and the last three in milliseconds, and the median) with the
# checkpoint file's size, the durations of the checkpoints of a server
# started on the loaded data and sent 1,000 more steps (one checkpoint of
# those changes, then the one of stopping: what a checkpoint costs as the
# state grows and the changes do not), and the data directory's size.
# WEIR=path/to/weir measures another build (e.g. one from before the
# views moved into the store). Prints a markdown table for BENCHMARKS.md.
set -eu
bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/../tests/lib.sh"
ex="$(cd "$(dirname "$0")/../examples/collatz" && pwd)"
[ $# -gt 0 ] || set -- 300000 3000000

# serve_on ARGS...: weir serve ARGS on a free port (the rest of the command
# line before it, e.g. strace, in $WRAP); sets SPID, and URL once it listens.
serve_on() {
    local i
    rm -f "$SCRATCH/serve.err"
    $WRAP $WEIR serve -f "$ex/pipeline.sql" --listen 127.0.0.1:0 "$@" 2>"$SCRATCH/serve.err" &
    SPID=$!
    URL=
    for i in $(seq 36000); do
        URL=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$SCRATCH/serve.err" 2>/dev/null)
        [ -n "$URL" ] && return 0
        kill -0 "$SPID" 2>/dev/null || { echo "serve died: $(cat "$SCRATCH/serve.err")" >&2; return 1; }
        sleep 0.005
    done
}

# restart_ms: milliseconds from the start of weir serve to the first 200 of
# /longest_step_chain (the server is then stopped); the rows replayed go
# to $SCRATCH/replayed.
restart_ms() {
    local t0 i
    t0=$(date +%s%N)
    WRAP= serve_on || return 1
    for i in $(seq 36000); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/longest_step_chain" 2>/dev/null)" = 200 ] && break
        kill -0 "$SPID" 2>/dev/null || { echo "serve died: $(cat "$SCRATCH/serve.err")" >&2; return 1; }
        sleep 0.01
    done
    echo $(( ($(date +%s%N) - t0) / 1000000 ))
    curl -s "$URL/metrics" | awk '/^weir_table_rows_replayed/ { n += $2; seen = 1 } END { print seen ? n : "-" }' >"$SCRATCH/replayed"
    kill -TERM "$SPID"; wait "$SPID" || true
}

# change_trace: a server on the loaded data (under strace, as for serve --once)
# is sent 1,000 steps of new numbers; once they are checkpointed it is
# stopped (a last checkpoint, of nothing new). The trace goes to $SCRATCH/trace2.
change_trace() {
    local i pid
    WRAP="strace -f --seccomp-bpf -ttt -e trace=clone3,rename -o $SCRATCH/trace2" serve_on || return 1
    pid=$(pgrep -P "$SPID" weir)
    $WEIR gen collatz -n 1000 --seed 2 | $WEIR produce conjecture.data 2>/dev/null
    for i in $(seq 6000); do
        grep -q 'rename(.*pipeline/stable' "$SCRATCH/trace2" && break
        sleep 0.01
    done
    kill -TERM "$pid"; wait "$SPID" || true
}

# checkpoint_ms TRACE: "first3 ... last3 (median of N)" from strace -f -ttt of
# clone3 (a checkpoint's thread starting) and rename of pipeline/stable (its end).
checkpoint_ms() {
    awk -f "$bench/checkpoint_durations.awk" "$1" | awk '{ d[n++] = int($1 + 0.5) }
         END {
             if (!n) { print "-"; exit }
             for (i = 0; i < n; i++) s[i] = d[i]
             for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
             out = ""
             for (i = 0; i < n; i++) if (i < 3 || i >= n - 3) out = out (i == n - 3 && n > 6 ? " ... " : " ") d[i]
             printf "%s (median %d of %d)", out, s[int((n - 1) / 2)], n
         }'
}

echo "| steps | restart to first answer, ms (median of 3) | rows replayed at start | serve --once, s | checkpoints during it, ms | checkpoint file | 1,000 steps more, then a stop: checkpoints, ms | data dir |"
echo "|---|---|---|---|---|---|---|---|"
for steps in "$@"; do
    export WEIR_DATA="$SCRATCH/data-$steps"
    $WEIR gen collatz -n "$steps" --seed 1 | $WEIR produce conjecture.data --partitions 4 --key number
    t0=$(date +%s%N)
    if command -v strace >/dev/null; then
        strace -f --seccomp-bpf -ttt -e trace=clone3,rename -o "$SCRATCH/trace" $WEIR serve -f "$ex/pipeline.sql" --once 2>/dev/null
    else
        $WEIR serve -f "$ex/pipeline.sql" --once 2>/dev/null
        : > "$SCRATCH/trace"
    fi
    once_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    runs=""
    for k in 1 2 3; do runs="$runs $(restart_ms)"; done
    median=$(echo $runs | tr ' ' '\n' | sort -n | sed -n 2p)
    change_trace
    echo "| $steps | $median ($runs) | $(cat "$SCRATCH/replayed") | $((once_ms / 1000)).$(printf '%03d' $((once_ms % 1000)) | cut -c1) | $(checkpoint_ms "$SCRATCH/trace") | $(du -h "$WEIR_DATA/pipeline/checkpoint" | cut -f1) | $(checkpoint_ms "$SCRATCH/trace2") | $(du -sh "$WEIR_DATA" | cut -f1) |"
    rm -rf "$WEIR_DATA"
done
