#!/usr/bin/env bash
# tweets_serve.sh [ROUNDS] [WEIR...] - issue 16's workload through the
# durable path: the 1,000,000 tweets of bench/tweets_replay.sh produced once
# (`weir produce -k city`, 4 partitions) into a data directory, then, for
# each binary, a fresh copy of that directory and `weir serve -f
# bench/tweets.sql --once` over it (checkpoints included). Runs each binary
# once per round, interleaved, ROUNDS rounds (default 5), and prints the
# medians of wall, CPU (user + system of each run), user, system and peak
# RSS. The output stream city_stats of every run, read with `weir consume
# -m` (partition, offset, key, value of each record), must equal the first
# binary's first run byte for byte, or it fails:
#   cp build/weir /tmp/weir-base; (change, make); bench/tweets_serve.sh 5 /tmp/weir-base build/weir
# THREADS="1 2" runs each binary with each of those --threads (serve's
# partition-parallel inputs), each a run of its own in every round:
#   THREADS="1 2" bench/tweets_serve.sh 7
# SQL=FILE runs another pipeline over the same stream that writes city_stats
# (examples/tweets/pipeline.sql: with city_reach and the global top_cities).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../build}
rounds=${1:-5}
[ $# -gt 0 ] && shift
given=("$@")
[ ${#given[@]} -gt 0 ] || given=("$build/weir")
# bins: the binaries, args: the --threads of each run (none without THREADS)
bins=()
args=()
for b in "${given[@]}"; do
    for t in ${THREADS:--}; do
        bins+=("$b")
        if [ "$t" = - ]; then args+=(""); else args+=("--threads $t"); fi
    done
done
work=$build/tweets-serve-bench
mkdir -p "$work"
input=$work/tweets.ndjson
[ -s "$input" ] || "${bins[0]}" gen tweets --seed 42 -n 1000000 --step-ms 108 > "$input"
if [ ! -d "$work/produced" ]; then
    "${bins[0]}" produce -d "$work/produced.tmp" -k city tweets "$input"
    mv "$work/produced.tmp" "$work/produced"
fi
rm -f "$work"/times.* "$work/expected"
for ((r = 0; r < rounds; r++)); do
    for ((b = 0; b < ${#bins[@]}; b++)); do
        rm -rf "$work/data"
        cp -a "$work/produced" "$work/data"
        /usr/bin/time -f '%e %U %S %M' -a -o "$work/times.$b" \
            "${bins[$b]}" serve -d "$work/data" -f "${SQL:-$here/tweets.sql}" --once ${args[$b]}
        "${bins[0]}" consume -d "$work/data" --from-beginning --exit --meta city_stats > "$work/out"
        [ -f "$work/expected" ] || mv "$work/out" "$work/expected"
        [ ! -f "$work/out" ] || cmp -s "$work/out" "$work/expected" ||
            { echo "${bins[$b]} ${args[$b]} (round $r): city_stats differs from ${bins[0]} ${args[0]}'s" >&2; exit 1; }
    done
done
rm -rf "$work/data" "$work/out"
for ((b = 0; b < ${#bins[@]}; b++)); do
    # fields: wall user sys rss, and CPU = user + sys of the same run
    median() { awk '{ printf "%s %s %s %s %.2f\n", $1, $2, $3, $4, $2 + $3 }' "$work/times.$b" | cut -d' ' -f"$1" | sort -n |
        awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    printf '%s: %s records, median of %d: wall %s s, CPU %s s (user %s, sys %s), max RSS %s KiB\n' "${bins[$b]}${args[$b]:+ ${args[$b]}}" \
        "$(wc -l < "$work/expected")" "$rounds" "$(median 1)" "$(median 5)" "$(median 2)" "$(median 3)" "$(median 4)"
done
