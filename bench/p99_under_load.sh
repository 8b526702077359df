#!/usr/bin/env bash
# p99_under_load.sh [WINDOW_S] [STEPS] - issue 13's figure: the p99 latency
# of an indexed pull query (GET /chain/{n}: chain_steps by its leading key)
# and of an ingest acknowledgement (POST of 4 records to conjecture.data,
# answered 200 once durable) while (a) checkpoints of a large pipeline state
# run and (b) besides, a sink's destination is stalled with SIGSTOP. A
# baseline row measures the same between two checkpoints with the sink's
# destination running. Goal (issue 13): p99 <= 10 ms for both.
#
# The workload: STEPS (default 3,000,000) steps of `weir gen collatz` through
# examples/collatz/pipeline.sql plus a Kafka sink of data_series into the
# mock cluster (tests/helpers/kafka_mock); once the pipeline and the sink
# have caught up, each scenario runs WINDOW_S seconds (default 60: the
# checkpoint interval stretches to 10x a checkpoint's cost, about 25 s for
# this state, so a window sees two or three) of two open-loop clients
# (bench/paced.py, one connection each, a pull query every 5 ms and a POST
# every 10 ms, latency from when a request was due, so a request that waits
# behind a stall counts its wait). The baseline window starts just after a
# checkpoint ended and lasts 80% of the time until the next one begins (9x
# that checkpoint's cost), at most 15 s.
#
# Checkpoints are counted from outside: /metrics' weir_checkpoint_age_seconds
# gives when the last one began, the mtime of DATA/pipeline/stable (written
# last) when it ended. Server CPU from /proc/PID/stat, RSS from
# /proc/PID/status. Takes the binary from $WEIR (default build/weir), so the
# same script measures old and new code. Prints a markdown table; with
# P99_KEEP=DIR it also leaves the raw measures there (NAME.pull.stalls:
# when each request slower than 50 ms was due and its latency; monitor:
# "received_ms checkpoint_age_s stable_mtime_s" every 0.5 s).
set -eu
window=${1:-60}
steps=${2:-3000000}
pull_ms=5    # a pull query every 5 ms
ingest_ms=10 # a POST every 10 ms: an acknowledgement waits for the group commit's fdatasync
. "$(dirname "$0")/../tests/lib.sh"
bench="$(cd "$(dirname "$0")" && pwd)"
ex="$(cd "$bench/../examples/collatz" && pwd)"
export WEIR_DATA="$SCRATCH/data"
command -v python3 >/dev/null || { echo "p99_under_load: needs python3" >&2; exit 1; }

mock="" monitor="" warm="" pull="" # what this script started, while it runs
cleanup() {
    local rc=$?
    trap - EXIT
    local p
    for p in $monitor $warm $pull; do kill "$p" 2>/dev/null || true; done
    [ -z "$mock" ] || kill -CONT "$mock" 2>/dev/null || true
    if [ $rc -ne 0 ] && [ -f "$SCRATCH/serve.err" ]; then
        echo "p99_under_load: failed; the server's log (last 40 lines):" >&2
        tail -40 "$SCRATCH/serve.err" >&2
    fi
    [ -z "${SERVE_PID:-}" ] || stop_serve 2>/dev/null || true
    [ -z "$mock" ] || { kill "$mock" 2>/dev/null; wait "$mock" 2>/dev/null; } || true
    if [ -n "${P99_KEEP:-}" ]; then # the raw measures: each client's line and slow requests, the checkpoint monitor
        mkdir -p "$P99_KEEP" && cp "$SCRATCH"/*.pull* "$SCRATCH"/*.ingest* "$SCRATCH"/*.window "$SCRATCH/monitor" "$P99_KEEP" 2>/dev/null
    fi
    rm -rf "$SCRATCH"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }
wait_for() { # wait_for SECONDS WHAT COMMAND...: polls the command; gives up (exit 1) after SECONDS
    local secs=$1 limit=$(($(now_ms) + $1 * 1000)) what=$2
    shift 2
    until "$@"; do
        [ "$(now_ms)" -lt $limit ] || { echo "p99_under_load: $what not within $secs s" >&2; exit 1; }
        sleep 0.2
    done
}

# ---- the workload ----
$WEIR gen collatz -n "$steps" --seed 1 > "$SCRATCH/steps.ndjson"
$WEIR produce conjecture.data --partitions 4 --key number < "$SCRATCH/steps.ndjson"
# 100 numbers spread over the data, for the pull query
awk -F'[:,]' '$4 == 0 { print $2 }' "$SCRATCH/steps.ndjson" |
    awk '{ n[NR] = $1 } END { for (i = 1; i <= 100; i++) print "/chain/" n[int((i - 0.5) * NR / 100) + 1] }' > "$SCRATCH/paths"
numbers=$(awk -F'[:,]' '$4 == 0' "$SCRATCH/steps.ndjson" | wc -l)
rm "$SCRATCH/steps.ndjson"

start_kafka_mock steps:4
[ -n "$B" ] || exit 1
cp "$ex/pipeline.sql" "$SCRATCH/pipeline.sql"
echo "CREATE SINK steps_out FROM data_series WITH (connector = 'kafka', topic = 'steps', brokers = '$B');" >> "$SCRATCH/pipeline.sql"
load_start=$(now_ms)
start_serve -f "$SCRATCH/pipeline.sql" --checkpoint-ms 1000 >/dev/null
caught_up() { [ "$(curl -s -m 10 "$URL/metrics" | grep -c '^weir_pipeline_lag_records{stream="conjecture.data",partition="[0-3]"} 0$')" = 4 ]; }
delivered() { local s; s=$(curl -s -m 10 "$URL/v1/sinks"); echo "$s" | grep -q '"up":true' && echo "$s" | grep -q '"lag":0[,}]'; }
wait_for 1200 "the pipeline caught up" caught_up
load_ms=$(($(now_ms) - load_start))
wait_for 600 "the sink delivered everything" delivered
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL$(head -1 "$SCRATCH/paths")")" = 200 ] ||
    { echo "p99_under_load: GET $(head -1 "$SCRATCH/paths") does not answer 200" >&2; exit 1; }

# ---- measuring ----
# monitor: "received_ms checkpoint_age_s stable_mtime_s" twice a second
stable="$WEIR_DATA/pipeline/stable"
( while :; do
    age=$(curl -s -m 30 "$URL/metrics" | awk '$1 == "weir_checkpoint_age_seconds" { print $2 }')
    echo "$(now_ms) ${age:--} $(stat -c %.3Y "$stable" 2>/dev/null || echo -)"
    sleep 0.5
done ) > "$SCRATCH/monitor" &
monitor=$!
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVE_PID/stat"; }
rss_mb() { awk -v k="$1:" '$1 == k { printf "%d", $2 / 1024 }' "/proc/$SERVE_PID/status"; }
stable_ms() { stat -c %.3Y "$stable" | tr -d .; }
first=$((10 ** 15))
measure() { # measure NAME SECONDS: both clients for SECONDS; leaves NAME.{pull,ingest,window}
    local t0 c0
    t0=$(now_ms)
    c0=$(cpu_ticks)
    python3 "$bench/paced.py" "$URL" --get "$SCRATCH/paths" --interval-ms $pull_ms --seconds "$2" \
        --stalls "$SCRATCH/$1.pull.stalls" > "$SCRATCH/$1.pull" &
    pull=$!
    python3 "$bench/paced.py" "$URL" --post /v1/streams/conjecture.data --first $first \
        --interval-ms $ingest_ms --seconds "$2" --stalls "$SCRATCH/$1.ingest.stalls" > "$SCRATCH/$1.ingest"
    wait $pull
    pull=""
    first=$((first + 1000000))
    echo "$t0 $(now_ms) $(( $(cpu_ticks) - c0 )) $(rss_mb VmRSS)" > "$SCRATCH/$1.window"
}

# Baseline: both clients until a checkpoint ends, then a window shorter
# than the stretched interval (the next one starts 10x its cost after it began).
before=$(stable_ms)
python3 "$bench/paced.py" "$URL" --post /v1/streams/conjecture.data --first $first --interval-ms $ingest_ms --seconds 600 > /dev/null &
warm=$!
python3 "$bench/paced.py" "$URL" --get "$SCRATCH/paths" --interval-ms $pull_ms --seconds 600 > /dev/null &
pull=$!
first=$((first + 1000000))
checkpointed() { [ "$(stable_ms)" != "$before" ]; }
wait_for 300 "a checkpoint under ingest" checkpointed
kill $warm $pull
wait $warm $pull 2>/dev/null || true
warm="" pull=""
# The next checkpoint begins 10x this one's cost after it began: 9x its
# cost are free. The baseline takes 80% of that, 3 to 15 s.
age=$(curl -s -m 30 "$URL/metrics" | awk '$1 == "weir_checkpoint_age_seconds" { print $2 }')
baseline=$(awk -v now="$(now_ms)" -v age="${age:-0}" -v end="$(stable_ms)" \
    'BEGIN { c = end - (now - age * 1000); s = int(0.8 * 9 * c / 1000); print (age == 0 || s > 15) ? 15 : (s < 3 ? 3 : s) }')
load_avg=$(cut -d' ' -f1 /proc/loadavg)
measure quiet "$baseline"
measure checkpoint "$window"
kill -STOP "$mock"
measure stalled "$window"
kill -CONT "$mock"
sink_lag=$(curl -s -m 30 "$URL/v1/sinks" | grep -o '"lag":[0-9]*' | head -1 | cut -d: -f2)
hwm=$(rss_mb VmHWM)
kill -0 "$SERVE_PID" || { echo "p99_under_load: the server died" >&2; exit 1; }

# ---- the table ----
hz=$(getconf CLK_TCK)
field() { sed -n "s/.*\(^\| \)$2=\([^ ]*\).*/\2/p" "$SCRATCH/$1"; }
checkpoints() { # checkpoints NAME: "N, X.X s each (min-max)" of those that began or ended in the window
    read -r w0 w1 _ < "$SCRATCH/$1.window"
    awk -v w0="$w0" -v w1="$w1" '
        # a start is estimated late by the time the answer took: samples within 1 s
        # (the shortest interval) are the same checkpoint, the earliest is the best
        $2 != "-" { s = $1 - $2 * 1000; if (!ns || s - start[ns] > 1000) start[++ns] = s; else if (s < start[ns]) start[ns] = s }
        $3 != "-" { e = $3 * 1000; if (!ne || e != end[ne]) end[++ne] = e }
        END {
            n = 0
            for (i = 1; i <= ns; i++) {
                f = 0
                for (j = 1; j <= ne; j++) if (end[j] >= start[i]) { f = end[j]; break }
                if (!f || (start[i] < w0 && f < w0) || start[i] > w1) continue
                c = (f - start[i]) / 1000; n++; sum += c
                if (n == 1 || c < lo) lo = c; if (n == 1 || c > hi) hi = c
            }
            if (n) printf "%d, %.2f s each (%.2f-%.2f)", n, sum / n, lo, hi; else printf "0"
        }' "$SCRATCH/monitor"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf(a / b < 10 ? "%.1fx" : "%.0fx", a / b); else print "-" }'; }
row() { # row NAME LABEL
    local w0 w1 ticks rss
    read -r w0 w1 ticks rss < "$SCRATCH/$1.window"
    local wall=$(( (w1 - w0) / 1000 )) cps
    cps=$(checkpoints "$1")
    local k first_cells=1
    for k in pull ingest; do
        local what="\`GET /chain/{n}\`"
        [ $k = pull ] || what="\`POST\` 4 records, ack"
        local p99 qp99
        p99=$(field "$1.$k" p99)
        qp99=$(field "quiet.$k" p99)
        if [ $first_cells = 1 ]; then
            printf '| %s | %s | %s s / %s s | %s MiB ' "$2" "$cps" \
                "$(awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }')" "$wall" "$rss"
            first_cells=0
        else
            printf '| | | | '
        fi
        local n errors
        n=$(field "$1.$k" requests)
        errors=$(field "$1.$k" errors)
        [ "$errors" = 0 ] || n="$n ($errors failed)"
        printf '| %s | %s | %s ms | **%s ms** | %s ms | %s | %s ms |\n' "$what" "$n" \
            "$(field "$1.$k" p50)" "$p99" "$(field "$1.$k" max)" "$(ratio "$p99" "$qp99")" "$(field "$1.$k" service_p99)"
    done
}
echo "p99_under_load: $steps collatz steps ($numbers numbers) loaded in $((load_ms / 1000)) s; a pull query every $pull_ms ms" \
     "and a POST every $ingest_ms ms, one connection each, latency from when a request was due; server peak RSS $hwm MiB;" \
     "sink lag when its destination was resumed: ${sink_lag:-?} records; load average $load_avg before the windows," \
     "$(cut -d' ' -f1 /proc/loadavg) after"
echo
echo "| scenario | checkpoints in the window | server CPU / wall | server RSS | request | requests | p50 | p99 | max | p99 / quiet | p99 of service time |"
echo "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|"
row quiet "quiet: between checkpoints, sink running"
row checkpoint "(a) checkpoints of the state"
row stalled "(b) checkpoints, and the sink's destination stopped (SIGSTOP)"
