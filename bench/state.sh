#!/usr/bin/env bash
# state.sh [STEPS...] - issue 14's benchmark of the state store on the
# Collatz example (examples/collatz), beside ClickHouse 18.16 storing the
# same steps in the same run. For each STEPS (default 300000 3000000;
# 32700000 is allowed, and slow), `weir gen collatz -n STEPS --seed 1`
# makes the steps (NDJSON), then:
#
# weir: `weir produce conjecture.data --partitions 4 --key number` and
#   `weir serve --once` (the load rate counts both: steps / their wall
#   seconds); serve --once's peak RSS (VmHWM, and the peak of RssAnon,
#   sampled every 0.2 s from /proc/PID/status as bench/state_memory.sh
#   does); its checkpoints' durations (weir exposes no checkpoint duration,
#   only weir_checkpoint_age_seconds in /metrics: so, as
#   bench/state_restart.sh does, from the checkpoint thread's clone3 to its
#   rename of pipeline/stable, seen by strace -f --seccomp-bpf, which
#   serve --once runs under when strace is there); restart to first answer
#   (ms from starting `weir serve` on the loaded data until GET
#   /longest_step_chain answers 200; median of three starts); the four
#   questions' endpoints (and /part/16, which nearly every chain passes)
#   by wrk, one connection, WRK_SECONDS each (default 5), p50 and p99,
#   beside GET /healthz in the same run (the machine's floor); the answers
#   after the restart against those computed from the input
#   (bench/collatz_answers.py); the data directory's bytes after that
#   server's clean stop (which compacts the store) against the input
#   stream's (its directory in the log) and the NDJSON's.
#
# ClickHouse: Debian's clickhouse-server on loopback in a temp dir
#   (tests/clickhouse_server.sh, as bench/peers.sh starts it): the same
#   NDJSON by INSERT FORMAT JSONEachRow into a MergeTree table ORDER BY
#   (number, step) (insert rate: steps / the INSERT's wall seconds), its
#   active parts' bytes_on_disk, restart to first answer (ms from starting
#   the server again on its data until the longest-chain query answers),
#   and the same questions as SQL over its HTTP port with wrk as above
#   (SELECT 1 as its floor), their answers checked as weir's.
#
# Then the issue's noise-proof ratios, each with yes or no: restart at the
# largest STEPS within 3x of the smallest; serve --once's VmHWM at the
# largest within 2x of the smallest; the data dir at the largest at most
# 3x the input stream; answers after restart equal the input's at every
# STEPS. Prints markdown tables for BENCHMARKS.md. Needs wrk,
# clickhouse-server, python3 (scripts/deps.sh bench) and, for the
# checkpoint durations, strace.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/lib.sh" # $WEIR, $SCRATCH; sources tests/clickhouse_server.sh
ex=$here/../examples/collatz
[ $# -gt 0 ] || set -- 300000 3000000
WRK_SECONDS=${WRK_SECONDS:-5}
SPID=""
CH_PID=""
trap '[ -z "$SPID" ] || { kill -TERM "$SPID"; wait "$SPID"; } || true; [ -z "$CH_PID" ] || stop_clickhouse; rm -rf "$SCRATCH"' EXIT
log() { echo "state.sh: $*" >&2; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
secs() { awk -v m="$1" 'BEGIN { printf "%.1f", m / 1000 }'; }
commas() { sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; } # 1234567 -> 1,234,567
nums() { grep -o '[0-9]\+' | tr '\n' ' ' | sed 's/ $//'; } # an answer's numbers, in order, on one line

# wrk_ms URL: "p50 p99 requests" in ms of wrk, one connection, WRK_SECONDS
wrk_ms() {
    wrk -t1 -c1 -d"${WRK_SECONDS}s" --latency "$1" 2>&1 | awk '
        function ms(v) { return v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v ~ /m$/ ? v * 60000 : v * 1000 }
        $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } / requests in / { n = $1 }
        END { printf "%.2f %.2f %d\n", p50, p99, n }'
}

# once: weir serve --once on $WEIR_DATA (under strace when there); sets
# ONCE_MS, HWM and ANON (peaks, KiB); the trace goes to $SCRATCH/trace
once() {
    local top pid a h t0
    : > "$SCRATCH/trace"
    t0=$(date +%s%N)
    if command -v strace >/dev/null; then
        strace -f --seccomp-bpf -ttt -e trace=clone3,rename -o "$SCRATCH/trace" \
            $WEIR serve -f "$ex/pipeline.sql" --once 2>"$SCRATCH/once.err" &
        top=$!
        until pid=$(pgrep -P "$top" -x weir); do kill -0 "$top" 2>/dev/null || break; sleep 0.01; done
    else
        $WEIR serve -f "$ex/pipeline.sql" --once 2>"$SCRATCH/once.err" &
        top=$! pid=$!
    fi
    HWM=0 ANON=0
    while read -r a h < <(awk '/^RssAnon/ { a = $2 } /^VmHWM/ { h = $2 } END { print a + 0, h + 0 }' "/proc/$pid/status" 2>/dev/null) &&
        [ "$h" -gt 0 ]; do
        [ "$a" -le "$ANON" ] || ANON=$a
        [ "$h" -le "$HWM" ] || HWM=$h
        sleep 0.2
    done
    wait "$top" || { log "serve --once failed: $(tail -3 "$SCRATCH/once.err")"; exit 1; }
    ONCE_MS=$(ms_since "$t0")
}

# checkpoints TRACE: "n, p50 / p90 / p99 / max ms" of the checkpoints in an
# strace -f -ttt of clone3 (a checkpoint's thread starting) and rename of
# pipeline/stable (its end), or "-"
checkpoints() {
    awk -f "$here/checkpoint_durations.awk" "$1" | sort -g |
        awk '{ d[NR] = $1 } function q(p,  i) { i = int(p * NR); if (i < p * NR) i++; return d[i > 0 ? i : 1] } # nearest rank
             END { if (NR) printf "%d, %.0f / %.0f / %.0f / %.0f ms\n", NR, q(0.5), q(0.9), q(0.99), d[NR]; else print "-" }'
}

# serve_up: weir serve on $WEIR_DATA; sets SPID, URL and UP_MS (ms from its
# start until GET /longest_step_chain answers 200)
serve_up() {
    local t0 i up=""
    rm -f "$WEIR_DATA/serve.url"
    t0=$(date +%s%N)
    $WEIR serve -f "$ex/pipeline.sql" --listen 127.0.0.1:0 2>"$SCRATCH/serve.err" &
    SPID=$!
    URL=""
    for i in $(seq $((START_DEADLINE * 200))); do
        [ -n "$URL" ] || URL=$(head -1 "$WEIR_DATA/serve.url" 2>/dev/null) || true
        [ -n "$URL" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/longest_step_chain")" = 200 ] && { up=1; break; }
        kill -0 "$SPID" 2>/dev/null || { log "serve died: $(cat "$SCRATCH/serve.err")"; exit 1; }
        sleep 0.005
    done
    UP_MS=$(ms_since "$t0")
    [ -n "$up" ] || { log "no answer from /longest_step_chain within $START_DEADLINE s; serve's log: $(cat "$SCRATCH/serve.err")"; exit 1; }
}
serve_down() { kill -TERM "$SPID"; wait "$SPID" || true; SPID=""; }

# ch_restart: ClickHouse stopped and started again on its data; sets CH_MS
# (ms from its start until the longest-chain query answers)
ch_longest="SELECT number, max(step) AS steps FROM steps GROUP BY number ORDER BY steps DESC, number LIMIT 1"
ch_restart() {
    local t0 i up=""
    stop_clickhouse || true # under set -e: its kill -KILL fails when SIGTERM was enough
    t0=$(date +%s%N)
    start_clickhouse "$SCRATCH/clickhouse" || exit 1
    for i in $(seq $((CH_START_DEADLINE * 200))); do
        curl -sf -o /dev/null "$CH_URL/" --data-binary "$ch_longest" && { up=1; break; }
        sleep 0.005
    done
    CH_MS=$(ms_since "$t0")
    [ -n "$up" ] || { log "ClickHouse did not answer within $CH_START_DEADLINE s: $(ch "$ch_longest"; tail -5 "$SCRATCH/clickhouse/err.log")"; exit 1; }
}
urlq() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

declare -A R # R[STEPS,what]: a cell of the tables
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
start_clickhouse "$SCRATCH/clickhouse" || exit 1 # once: 18.16 starts slowly; its table is dropped between sizes
# want NAME [X]: the answer collatz_answers.py computed from the input, as nums prints an answer
want() {
    awk -v w="$1" -v x="${2:-}" '$1 == w && (x == "" || ($2 "") == x) { $1 = ""; if (w == "part" || w == "chain") $2 = ""; print }' \
        "$SCRATCH/answers" | nums
}
for steps in "$@"; do
    log "$steps steps: generating"
    export WEIR_DATA="$SCRATCH/data-$steps"
    in=$SCRATCH/steps-$steps.ndjson
    $WEIR gen collatz -n "$steps" --seed 1 > "$in" 2>"$SCRATCH/gen.err"
    python3 "$here/collatz_answers.py" "$in" > "$SCRATCH/answers"
    longest=$(awk '$1 == "longest" { print $2 }' "$SCRATCH/answers")
    x=$(awk '$1 == "part" { print $2; exit }' "$SCRATCH/answers")

    log "$steps steps: weir produce, serve --once"
    t0=$(date +%s%N)
    $WEIR produce conjecture.data --partitions 4 --key number < "$in"
    produce_ms=$(ms_since "$t0")
    once
    R[$steps,load]="$(echo $(( steps * 1000 / (produce_ms + ONCE_MS) )) | commas) (produce $(secs "$produce_ms") s + serve --once $(secs "$ONCE_MS") s)"
    R[$steps,rss]="$(( HWM / 1024 )) / $(( ANON / 1024 ))"
    R[$steps,hwm]=$HWM
    R[$steps,checkpoints]=$(checkpoints "$SCRATCH/trace")

    log "$steps steps: load ${R[$steps,load]}; VmHWM / RssAnon ${R[$steps,rss]} MiB; checkpoints ${R[$steps,checkpoints]}; weir restarts"
    runs=""
    for k in 1 2 3; do
        serve_up
        runs="$runs $UP_MS"
        [ $k = 3 ] || serve_down
    done
    R[$steps,restart]=$(echo $runs | tr ' ' '\n' | sort -n | sed -n 2p)
    R[$steps,restart_runs]=$runs
    ok=yes
    [ "$(curl -s "$URL/longest_step_chain" | nums)" = "$(want longest)" ] || ok=no
    [ "$(curl -s "$URL/highest_value" | nums)" = "$(want highest)" ] || ok=no
    [ "$(curl -s "$URL/part/$x" | nums)" = "$(want part "$x")" ] || ok=no
    [ "$(curl -s "$URL/part/16" | nums)" = "$(want part 16)" ] || ok=no
    [ "$(curl -s "$URL/chain/$longest" | nums)" = "$(want chain)" ] || ok=no
    R[$steps,answers]=$ok
    log "$steps steps: restarts$runs ms, answers ${R[$steps,answers]}; weir endpoints (wrk, ${WRK_SECONDS} s each)"
    R[$steps,w_floor]=$(wrk_ms "$URL/healthz")
    R[$steps,w_longest]=$(wrk_ms "$URL/longest_step_chain")
    R[$steps,w_highest]=$(wrk_ms "$URL/highest_value")
    R[$steps,w_part]=$(wrk_ms "$URL/part/$x")
    R[$steps,w_part16]=$(wrk_ms "$URL/part/16")
    R[$steps,w_plot]=$(wrk_ms "$URL/plot/$longest")
    serve_down
    input=$(du -sb "$WEIR_DATA/streams/conjecture.data" | cut -f1)
    R[$steps,input]=$input
    R[$steps,ndjson]=$(stat -c %s "$in")
    R[$steps,data]=$(du -sb "$WEIR_DATA" | cut -f1)
    rm -rf "$WEIR_DATA"

    log "$steps steps: data dir ${R[$steps,data]} bytes, input stream ${R[$steps,input]}; ClickHouse insert, restart, queries"
    ch "DROP TABLE IF EXISTS steps" >/dev/null
    ch "CREATE TABLE steps (number UInt64, step UInt32, value UInt64, ts DateTime) ENGINE = MergeTree ORDER BY (number, step)" >/dev/null
    t0=$(date +%s%N)
    curl -sS --fail "$CH_URL/?query=INSERT%20INTO%20steps%20FORMAT%20JSONEachRow&date_time_input_format=best_effort" --data-binary @"$in"
    insert_ms=$(ms_since "$t0")
    R[$steps,c_load]="$(echo $(( steps * 1000 / insert_ms )) | commas) (INSERT $(secs "$insert_ms") s)"
    read -r parts bytes < <(ch "SELECT count(), sum(bytes_on_disk) FROM system.parts WHERE table = 'steps' AND active")
    R[$steps,c_bytes]=$bytes
    R[$steps,c_parts]=$parts
    ch_restart
    R[$steps,c_restart]=$CH_MS
    declare -A q=(
        [longest]=$ch_longest
        [highest]="SELECT number AS longest, number, value FROM steps ORDER BY value DESC, number LIMIT 1"
        [part]="SELECT DISTINCT number FROM steps WHERE value = $x ORDER BY number"
        [part16]="SELECT DISTINCT number FROM steps WHERE value = 16 ORDER BY number"
        [plot]="SELECT step, value FROM steps WHERE number = $longest ORDER BY step")
    ok=yes
    [ "$(ch "${q[longest]}" | nums)" = "$(want longest)" ] || ok=no
    [ "$(ch "${q[highest]}" | nums)" = "$(want highest)" ] || ok=no
    [ "$(ch "${q[part]}" | nums)" = "$(want part "$x")" ] || ok=no
    [ "$(ch "${q[part16]}" | nums)" = "$(want part 16)" ] || ok=no
    [ "$(ch "${q[plot]}" | nums)" = "$(want chain)" ] || ok=no
    R[$steps,c_answers]=$ok
    R[$steps,c_floor]=$(wrk_ms "$CH_URL/?query=$(urlq "SELECT 1")")
    for k in longest highest part part16 plot; do R[$steps,c_$k]=$(wrk_ms "$CH_URL/?query=$(urlq "${q[$k]}")"); done
    ch "DROP TABLE steps" >/dev/null
    rm -f "$in"
    log "$steps steps: done"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the tables ---
lat() { awk '{ printf "%s / %s (%s)", $1, $2, $3 }' <<< "$1"; } # "p50 / p99 (requests)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo
echo "bench/state.sh $*, $started, $(nproc) cores, load average $load_start at the start, $load_end at the end; weir $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
hdr="| |" rule="|---|"
for s in "$@"; do hdr="$hdr $(echo "$s" | commas) steps: weir | ClickHouse 18.16 |"; rule="$rule---|---|"; done
echo "$hdr"
echo "$rule"
row() { # row LABEL WEIR-KEY CH-KEY [FORMAT]: a line of the table, a cell per size and system
    local line="| $1 |" s w c
    for s in "${@:5}"; do
        w=${R[$s,$2]:--} c=${R[$s,$3]:--}
        [ "$4" != lat ] || { [ "$w" = - ] || w=$(lat "$w"); [ "$c" = - ] || c=$(lat "$c"); }
        line="$line $w | $c |"
    done
    echo "$line"
}
for s in "$@"; do
    R[$s,input_cell]="$(mb "${R[$s,ndjson]}") MB NDJSON, $(mb "${R[$s,input]}") MB as weir's stream"
    R[$s,c_input_cell]=${R[$s,input_cell]}
    R[$s,data_cell]="$(mb "${R[$s,data]}") MB ($(ratio "${R[$s,data]}" "${R[$s,input]}") the stream)"
    R[$s,c_bytes_cell]="$(mb "${R[$s,c_bytes]}") MB ($(ratio "${R[$s,c_bytes]}" "${R[$s,input]}") the stream; parts: ${R[$s,c_parts]})"
    R[$s,restart_cell]="${R[$s,restart]} (${R[$s,restart_runs]# })"
done
row "input" input_cell c_input_cell - "$@"
row "load, steps/s (weir: produce + serve --once; ClickHouse: INSERT)" load c_load - "$@"
row "serve --once peak RSS: VmHWM / RssAnon, MiB" rss none - "$@"
row "checkpoints during serve --once: n, p50 / p90 / p99 / max" checkpoints none - "$@"
row "restart to first answer, ms (weir: median of 3)" restart_cell c_restart - "$@"
row "on disk (weir: the data dir after the restarted server's clean stop; ClickHouse: its active parts after the INSERT)" data_cell c_bytes_cell - "$@"
row "floor: GET /healthz, SELECT 1: p50 / p99 ms (requests)" w_floor c_floor lat "$@"
row "longest chain (/longest_step_chain)" w_longest c_longest lat "$@"
row "highest value (/highest_value)" w_highest c_highest lat "$@"
row "numbers passing x, few (/part/x, x = step 3 of the longest chain)" w_part c_part lat "$@"
row "numbers passing 16, nearly all (/part/16)" w_part16 c_part16 lat "$@"
row "one chain's plot (/plot/n, the longest; ClickHouse: its rows)" w_plot c_plot lat "$@"
row "answers equal those computed from the input" answers c_answers - "$@"

small=$1 large=${!#}
yesno() { awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { print (a <= b * m) ? "yes" : "no" }'; }
all=yes
for s in "$@"; do [ "${R[$s,answers]}" = yes ] || all=no; done
echo
echo "| check (issue 14) | measured | holds |"
echo "|---|---|---|"
echo "| restart at $(echo "$large" | commas) steps within 3x of $(echo "$small" | commas) | ${R[$large,restart]} / ${R[$small,restart]} ms = $(ratio "${R[$large,restart]}" "${R[$small,restart]}") | $(yesno "${R[$large,restart]}" "${R[$small,restart]}" 3) |"
echo "| serve --once peak RSS (VmHWM) at $(echo "$large" | commas) within 2x of $(echo "$small" | commas) | $(( R[$large,hwm] / 1024 )) / $(( R[$small,hwm] / 1024 )) MiB = $(ratio "${R[$large,hwm]}" "${R[$small,hwm]}") | $(yesno "${R[$large,hwm]}" "${R[$small,hwm]}" 2) |"
echo "| data dir at $(echo "$large" | commas) at most 3x the input stream | $(ratio "${R[$large,data]}" "${R[$large,input]}") | $(yesno "${R[$large,data]}" "${R[$large,input]}" 3) |"
echo "| answers after restart equal the input's, every size | $(for s in "$@"; do printf '%s: %s; ' "$s" "${R[$s,answers]}"; done | sed 's/; $//') | $all |"
