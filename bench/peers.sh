#!/usr/bin/env bash
# peers.sh [--events N] [--rounds R] [--systems LIST] - issue 16's peers
# benchmark: the tweets workload (`weir gen tweets --seed 42 -n N --step-ms
# 108`, default N = 1,000,000: 111 MB, 50 cities, 30 hours; bench/tweets.sql:
# HOP windows of 5 minutes every minute by city, COUNT(*), retweets, exact
# COUNT(DISTINCT user_id)) run by each system below, once per round,
# interleaved, R rounds (default 5). Prints the medians of wall and CPU
# seconds (user + system of every process involved) and the ratios the issue
# asks for, as a markdown table. Every system's rows, normalised to one sorted
# TSV (bench/peers/normalise.py), must equal weir replay's, or it fails.
#
# Systems (LIST is a comma-separated subset of these names):
#   python     bench/peers/python_consumer.py, the seeds-style consumer
#   clickhouse Debian's clickhouse-server 18.16 on loopback in a temp dir (started
#              once, not timed): INSERT FORMAT JSONEachRow into a MergeTree table,
#              then the HOP query (arrayJoin of the five window starts) GROUP BY;
#              CPU = the server's (from /proc) + curl's
#   flink      Apache Flink SQL, local execution (bench/peers/flink)
#   kstreams   Kafka Streams in TopologyTestDriver, no broker (bench/peers/kstreams)
#   replay     weir replay
#   once       weir produce (keyed by city, durable) + weir serve --once
#   http1      weir serve, one `weir produce` client through its HTTP ingest;
#   http4      four clients, each with one partition's records (so each
#              partition stays in time order); then serve stops (SIGTERM) and
#              `serve --once` closes the last windows (a live serve holds them
#              open until later records come). Wall from the first POST to the
#              end of --once, CPU of the two serve processes (the clients' apart);
#              ingest rate = events / time until the last client's last 200.
# The JVM engines also print their own "engine" time and CPU, from the first
# record in to the last row out (the JVM's start excluded), and Flink the same
# from the query's submission (its planning and local cluster's start included).
#
# Quick try: bench/peers.sh --events 100000 --rounds 1
# Needs: scripts/deps.sh bench (clickhouse-server, maven, a JDK 17, python3);
# the Maven builds go to build/peers/, the Maven repository is ~/.m2.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD:-$root/build}
weir=$build/weir
events=1000000
rounds=5
systems=python,clickhouse,flink,kstreams,replay,once,http1,http4
while [ $# -gt 0 ]; do
    case "$1" in
        --events) events=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --systems) systems=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "peers.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
IFS=, read -r -a order <<< "$systems"

"$root/scripts/deps.sh" bench
[ -x "$weir" ] || make -C "$root" -s
out=$build/peers
mkdir -p "$out"
work=$(mktemp -d "$out/run-XXXXXX")
. "$root/tests/clickhouse_server.sh" # start_clickhouse, stop_clickhouse
ch_pid=""
cleanup() {
    [ -z "$ch_pid" ] || stop_clickhouse
    rm -rf "$work"
}
trap cleanup EXIT
has() { [[ ",$systems," == *",$1,"* ]]; }
log() { echo "peers.sh: $*" >&2; }

# --- the workload, and its four partitions for the four HTTP clients ---
input=$out/tweets-$events.ndjson
[ -s "$input" ] || "$weir" gen tweets --seed 42 -n "$events" --step-ms 108 > "$input"
if has http4 && [ ! -s "$input.p3" ]; then
    "$weir" produce -d "$work/split" -k city tweets "$input"
    for p in 0 1 2 3; do "$weir" consume -d "$work/split" -p $p --from-beginning --exit tweets > "$input.p$p"; done
    rm -rf "$work/split"
fi
sql=$here/tweets.sql

# --- the JVM programs: compiled once (Maven quiet when nothing changed) ---
for j in flink kstreams; do
    has $j || continue
    cp_file=$out/$j/classpath.txt
    if [ ! -s "$cp_file" ] || [ -n "$(find "$here/peers/$j" -newer "$cp_file" -type f)" ]; then
        log "building bench/peers/$j with Maven"
        mvn -q -B -f "$here/peers/$j/pom.xml" compile dependency:build-classpath -Dmdep.outputFile="$cp_file" >"$work/mvn.log" 2>&1 ||
            { cat "$work/mvn.log" >&2; exit 1; }
    fi
done
jvm() { java -cp "$out/$1/classes:$(cat "$out/$1/classpath.txt")" "${@:2}"; }

# --- ClickHouse: started once on free loopback ports (tests/clickhouse_server.sh) ---
ch_url=""
if has clickhouse; then
    start_clickhouse "$work/clickhouse" || exit 1
    ch_pid=$CH_PID
    ch_url=$CH_URL/
fi
ch_query="SELECT city, ws, ws + 300, count(), sum(is_retweet), uniqExact(user_id)
  FROM (SELECT city, user_id, is_retweet, intDiv(toUInt32(created_at), 60) * 60 - arrayJoin([0, 60, 120, 180, 240]) AS ws FROM tweets)
  GROUP BY city, ws FORMAT TabSeparated"

# --- timing helpers: each run appends "wall cpu [engine_wall engine_cpu | ingest_s client_cpu]" ---
now() { date +%s.%N; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system clock ticks of a live process
hz=$(getconf CLK_TCK)
tsum() { awk '{ w = $1; c += $2 + $3 } END { printf "%.3f", c }' "$@"; } # CPU seconds of /usr/bin/time files
timed() { # timed FILE CMD...: /usr/bin/time's "wall user sys" of CMD into FILE
    /usr/bin/time -f '%e %U %S' -o "$1" "${@:2}"
}
record() { echo "$2" >> "$work/times.$1"; }

run_python() {
    timed "$work/t" python3 "$here/peers/python_consumer.py" "$input" > "$work/rows"
    record python "$(awk '{ print $1, $2 + $3 }' "$work/t")"
}
run_clickhouse() {
    curl -sS "$ch_url" --data-binary "DROP TABLE IF EXISTS tweets" >/dev/null
    curl -sS "$ch_url" --data-binary "CREATE TABLE tweets (id String, user_id String, city String, is_retweet UInt8, created_at DateTime)
        ENGINE = MergeTree ORDER BY created_at" >/dev/null
    local s0 t0 t1 s1
    s0=$(ticks "$ch_pid"); t0=$(now)
    timed "$work/t" bash -c 'curl -sS --fail "$1?query=INSERT%20INTO%20tweets%20FORMAT%20JSONEachRow&date_time_input_format=best_effort" --data-binary @"$2" &&
        curl -sS --fail "$1" --data-binary "$3" > "$4"' _ "$ch_url" "$input" "$ch_query" "$work/rows"
    t1=$(now); s1=$(ticks "$ch_pid")
    record clickhouse "$(awk -v t0="$t0" -v t1="$t1" -v s="$((s1 - s0))" -v hz="$hz" '{ printf "%.3f %.3f\n", t1 - t0, $2 + $3 + s / hz }' "$work/t")"
}
run_jvm() { # run_jvm NAME CLASS
    timed "$work/t" java -cp "$out/$1/classes:$(cat "$out/$1/classpath.txt")" "$2" "$input" "$work/rows" 2> "$work/jvm.err" ||
        { cat "$work/jvm.err" >&2; exit 1; }
    local e
    # engine_s engine_cpu_s [submit_s submit_cpu_s] (Flink's from the query's submission)
    e=$(grep '^engine_s=' "$work/jvm.err" | tr ' ' '\n' | awk -F= '$1 != "rows" { printf "%s ", $2 }')
    record "$1" "$(awk '{ print $1, $2 + $3 }' "$work/t") $e"
}
run_flink() { run_jvm flink weir.peers.FlinkTweets; }
run_kstreams() { run_jvm kstreams weir.peers.KStreamsTweets; }
run_replay() {
    timed "$work/t" "$weir" replay -f "$sql" -i "$input" --output city_stats > "$work/rows"
    record replay "$(awk '{ print $1, $2 + $3 }' "$work/t")"
}
run_once() {
    rm -rf "$work/data"
    timed "$work/t" bash -c '"$1" produce -d "$2" -k city tweets "$3" && "$1" serve -d "$2" -f "$4" --once' _ "$weir" "$work/data" "$input" "$sql"
    "$weir" consume -d "$work/data" --from-beginning --exit city_stats > "$work/rows"
    record once "$(awk '{ print $1, $2 + $3 }' "$work/t")"
}
run_http() { # run_http NAME FILES...: one client per file
    local name=$1 tp sp t0 t1 t2 c i pids=()
    shift
    rm -rf "$work/data" "$work"/tc.*
    mkdir -p "$work/data"
    # /usr/bin/time itself in the background (not a function's subshell), so that
    # its one child is serve, and SIGTERM goes to serve by its PID
    /usr/bin/time -f '%e %U %S' -o "$work/ts" "$weir" serve -d "$work/data" -f "$sql" --listen 127.0.0.1:0 > "$work/serve.log" 2>&1 &
    tp=$!
    for _ in $(seq 600); do [ -s "$work/data/serve.url" ] && break; sleep 0.05; done
    [ -s "$work/data/serve.url" ] || { cat "$work/serve.log" >&2; exit 1; }
    sp=$(pgrep -P "$tp")
    t0=$(now)
    i=0
    for f in "$@"; do
        /usr/bin/time -f '%e %U %S' -o "$work/tc.$i" "$weir" produce -d "$work/data" tweets "$f" 2>>"$work/clients.log" &
        pids+=($!)
        i=$((i + 1))
    done
    wait "${pids[@]}"
    t1=$(now)
    kill -TERM "$sp"
    wait "$tp" || true # serve's status after SIGTERM
    timed "$work/to" "$weir" serve -d "$work/data" -f "$sql" --once
    t2=$(now)
    "$weir" consume -d "$work/data" --from-beginning --exit city_stats > "$work/rows"
    c=$(tsum "$work"/tc.*)
    record "$name" "$(awk -v a="$t0" -v b="$t1" -v e="$t2" -v c="$c" '{ s += $2 + $3 } END { printf "%.3f %.3f %.3f %.3f\n", e - a, s, b - a, c }' "$work/ts" "$work/to")"
}
run_http1() { run_http http1 "$input"; }
run_http4() { run_http http4 "$input".p0 "$input".p1 "$input".p2 "$input".p3; }

check_rows() { # check_rows NAME: the rows of the run just done against weir replay's
    python3 "$here/peers/normalise.py" < "$work/rows" > "$work/norm"
    if [ ! -s "$work/reference" ]; then
        "$weir" replay -f "$sql" -i "$input" --output city_stats | python3 "$here/peers/normalise.py" > "$work/reference"
    fi
    cmp -s "$work/norm" "$work/reference" || {
        log "$1's rows differ from weir replay's ($(wc -l < "$work/norm") against $(wc -l < "$work/reference")):"
        diff "$work/norm" "$work/reference" | head -5 >&2
        exit 1
    }
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
for ((r = 1; r <= rounds; r++)); do
    for s in "${order[@]}"; do
        log "round $r/$rounds: $s"
        "run_$s"
        check_rows "$s"
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- medians and ratios ---
med() { # med NAME FIELD: the median of that field over the rounds
    awk -v f="$2" '{ print $f }' "$work/times.$1" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}
rows=$(wc -l < "$work/reference")
echo
echo "bench/peers.sh --events $events --rounds $rounds, $started, $(nproc) cores, load average $load_start at the start, $load_end at the end;"
echo "$events tweets, $rows windows, identical rows from every system. Medians of $rounds rounds:"
echo
echo "| system | wall | CPU | events per CPU-second | engine wall / CPU (JVM start excluded) | note |"
echo "|---|---:|---:|---:|---:|---|"
pom_version() { sed -n "s|.*<$2>\(.*\)</$2>.*|\1|p" "$here/peers/$1/pom.xml"; }
declare -A label=(
    [python]="seeds-style Python consumer (json.loads, dict/set windows)"
    [clickhouse]="ClickHouse 18.16: INSERT JSONEachRow + the HOP GROUP BY"
    [flink]="Apache Flink $(pom_version flink flink.version) SQL, local execution"
    [kstreams]="Kafka Streams $(pom_version kstreams kafka.version), TopologyTestDriver"
    [replay]="weir replay"
    [once]="weir produce + serve --once"
    [http1]="weir over HTTP, 1 client"
    [http4]="weir over HTTP, 4 clients")
for s in "${order[@]}"; do
    w=$(med "$s" 1) c=$(med "$s" 2) e3=$(med "$s" 3) e4=$(med "$s" 4)
    eng="" note=""
    case "$s" in
        flink|kstreams) eng="$e3 s / $e4 s"; epc=$(awk -v n="$events" -v c="$e4" 'BEGIN { printf "%.0f", n / c }') ;;
        *) epc=$(awk -v n="$events" -v c="$c" 'BEGIN { printf "%.0f", n / c }') ;;
    esac
    case "$s" in
        http1|http4) note="CPU: the server's; ingest $(awk -v n="$events" -v t="$e3" 'BEGIN { printf "%.2f", n / t / 1e6 }') M events/s ($e3 s), clients' CPU $e4 s" ;;
        clickhouse) note="CPU: server + curl" ;;
        flink) note="events per CPU-second from the engine's CPU; from the query's submission (planning, the local cluster's start): $(med flink 5) s / $(med flink 6) s" ;;
        kstreams) note="events per CPU-second from the engine's CPU" ;;
    esac
    printf '| %s | %.2f s | %.2f s | %s | %s | %s |\n' "${label[$s]}" "$w" "$c" "$epc" "$eng" "$note"
done
ratio() { # ratio NAME-A FIELD-A NAME-B FIELD-B: A's median / B's median, or "-"
    local a b
    [ -s "$work/times.$1" ] && [ -s "$work/times.$3" ] || { echo "-"; return; }
    a=$(med "$1" "$2") b=$(med "$3" "$4")
    awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1fx", a / b }'
}
echo
echo "| goal (issue 16) | ratio in this run |"
echo "|---|---:|"
echo "| weir replay >= 50x the Python consumer's wall | $(ratio python 1 replay 1) |"
echo "| produce + serve --once >= 30x the Python consumer's wall | $(ratio python 1 once 1) |"
echo "| produce + serve --once >= 5x ClickHouse's insert + query, wall | $(ratio clickhouse 1 once 1) |"
echo "| produce + serve --once >= 5x ClickHouse's insert + query, CPU | $(ratio clickhouse 2 once 2) |"
echo "| weir replay >= 5x Flink SQL's events per CPU-second (engine CPU) | $(ratio flink 4 replay 2) |"
echo "| weir replay >= 5x Kafka Streams' events per CPU-second (engine CPU) | $(ratio kstreams 4 replay 2) |"
echo "| produce + serve --once vs Flink SQL, events per CPU-second (engine CPU) | $(ratio flink 4 once 2) |"
echo "| produce + serve --once vs Kafka Streams, events per CPU-second (engine CPU) | $(ratio kstreams 4 once 2) |"
if [ -s "$work/times.http4" ]; then
    echo "| HTTP ingest, 4 clients, durable >= 1 M events/s | $(awk -v n="$events" -v t="$(med http4 3)" 'BEGIN { printf "%.2f M/s", n / t / 1e6 }') |"
fi
