#!/usr/bin/env bash
# tweets_replay.sh [ROUNDS] [WEIR...] - issue 16's single-threaded workload:
# `weir replay` of 1,000,000 tweets (`weir gen tweets --seed 42 -n 1000000
# --step-ms 108`, 111 MB, 50 cities, 30 hours) through bench/tweets.sql
# (HOP 5-minute windows every minute by city: COUNT(*), retweets, exact
# COUNT(DISTINCT user_id); 90,200 windows). Runs each binary once per
# round, interleaved, ROUNDS rounds (default 7), and prints the medians of
# wall, CPU (user + system of each run), user and system seconds and peak
# RSS of each; the rows of every binary must equal the first one's, sorted,
# or it fails. Comparing a copy of an older build with the current one
# gives ratios that the noise of a shared machine affects alike:
#   cp build/weir /tmp/weir-base; (change, make); bench/tweets_replay.sh 7 /tmp/weir-base build/weir
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../build}
rounds=${1:-7}
[ $# -gt 0 ] && shift
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$build/weir")
data=$build/tweets-bench
mkdir -p "$data"
input=$data/tweets.ndjson
[ -s "$input" ] || "${bins[0]}" gen tweets --seed 42 -n 1000000 --step-ms 108 > "$input"
for ((r = 0; r < rounds; r++)); do
    for ((b = 0; b < ${#bins[@]}; b++)); do
        /usr/bin/time -f '%e %U %S %M' -a -o "$data/times.$b" \
            "${bins[$b]}" replay -f "$here/tweets.sql" -i "$input" --output city_stats > "$data/out.$b"
    done
done
sort "$data/out.0" > "$data/sorted.0"
for ((b = 0; b < ${#bins[@]}; b++)); do
    sort "$data/out.$b" | cmp -s - "$data/sorted.0" || { echo "${bins[$b]}: rows differ from ${bins[0]}'s" >&2; exit 1; }
    # fields: wall user sys rss, and CPU = user + sys of the same run
    median() { awk '{ printf "%s %s %s %s %.2f\n", $1, $2, $3, $4, $2 + $3 }' "$data/times.$b" | cut -d' ' -f"$1" | sort -n |
        awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    printf '%s: %s rows, median of %d: wall %s s, CPU %s s (user %s, sys %s), max RSS %s KiB\n' "${bins[$b]}" \
        "$(wc -l < "$data/out.$b")" "$rounds" "$(median 1)" "$(median 5)" "$(median 2)" "$(median 3)" "$(median 4)"
    rm -f "$data/times.$b"
done
