#!/usr/bin/env bash
# state_load.sh [STEPS] - the Collatz load rate with and without
# --state-memory (docs/STATE_STORE.md, "Bounded memory"; BENCHMARKS.md,
# "Bounded memory: the load rate"). STEPS (default 3000000) steps are
# produced once; then ROUNDS times (default 3), each configuration runs
# `weir serve --once` over a copy of that data directory, the
# configurations interleaved so that the machine's load falls on each
# alike. A configuration is "NAME=PATH-TO-WEIR ARGS..." in CONFIGS,
# one a line; the default compares this build's default bound with no
# bound:
#   CONFIGS=$'bounded=build/weir\nunbounded=build/weir --state-memory 0'
# Prints each run (wall and CPU seconds from /usr/bin/time, peaks of
# RssAnon, RssFile and their sum sampled every 0.2 s from
# /proc/PID/status, VmHWM), then each configuration's medians.
set -eu
. "$(dirname "$0")/../tests/lib.sh"
ex="$(cd "$(dirname "$0")/../examples/collatz" && pwd)"
steps=${1:-3000000}
ROUNDS=${ROUNDS:-3}
CONFIGS=${CONFIGS:-$'bounded='"$WEIR"$'\nunbounded='"$WEIR"' --state-memory 0'}

WEIR_DATA="$SCRATCH/template" $WEIR produce conjecture.data --partitions 4 --key number \
    < <($WEIR gen collatz -n "$steps" --seed 1)

# one NAME WEIR ARGS...: a run; prints "NAME wall cpu anon file sum hwm" (seconds, MiB)
one() {
    local name=$1 weir=$2 d="$SCRATCH/run" pa=0 pf=0 ps=0 a f
    shift 2
    rm -rf "$d"
    cp -a "$SCRATCH/template" "$d"
    /usr/bin/time -f "%e %U %S %M" -o "$SCRATCH/time" "$weir" serve -f "$ex/pipeline.sql" --data "$d" --once "$@" \
        2>"$SCRATCH/once.err" &
    local tpid=$! pid=
    while [ -z "$pid" ] && kill -0 "$tpid" 2>/dev/null; do
        pid=$(pgrep -P "$tpid" || true)
        sleep 0.05
    done
    while [ -n "$pid" ] && read -r a f < <(awk '/^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {print a+0, f+0}' \
                                              /proc/"$pid"/status 2>/dev/null); do
        [ "$a" -gt 0 ] || break
        [ "$a" -gt "$pa" ] && pa=$a
        [ "$f" -gt "$pf" ] && pf=$f
        [ $((a + f)) -gt "$ps" ] && ps=$((a + f))
        sleep 0.2
    done
    wait "$tpid" || { echo "serve --once failed: $(tail -3 "$SCRATCH/once.err")" >&2; exit 1; }
    read -r e u s m < "$SCRATCH/time"
    echo "$name $e $(echo "$u + $s" | bc) $((pa / 1024)) $((pf / 1024)) $((ps / 1024)) $((m / 1024))"
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "| config | round | wall, s | CPU, s | steps/s | peak RssAnon, MiB | peak RssFile, MiB | peak sum, MiB | VmHWM, MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
: > "$SCRATCH/runs"
for round in $(seq "$ROUNDS"); do
    while IFS= read -r config; do
        [ -n "$config" ] || continue
        read -r -a words <<< "${config#*=}"
        set -- $(one "${config%%=*}" "${words[@]}")
        echo "$*" >> "$SCRATCH/runs"
        echo "| $1 | $round | $2 | $3 | $(echo "$steps / $2" | bc) | $4 | $5 | $6 | $7 |"
    done <<< "$CONFIGS"
done
echo
echo "| config | median wall, s | median CPU, s | steps/s (median wall) | median peak RssAnon, MiB | median peak sum, MiB | median VmHWM, MiB |"
echo "|---|---|---|---|---|---|---|"
for name in $(awk '{print $1}' "$SCRATCH/runs" | sort -u); do
    col() { awk -v n="$name" -v c="$1" '$1 == n {print $c}' "$SCRATCH/runs" | median; }
    wall=$(col 2)
    echo "| $name | $wall | $(col 3) | $(echo "$steps / $wall" | bc) | $(col 4) | $(col 6) | $(col 7) |"
done
