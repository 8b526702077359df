#!/usr/bin/env bash
# statestore.sh [ROUNDS] [STEPS...] - the measurement behind weir's choice of
# embedded state store (docs/STATE_STORE.md): bench/statestore/compare.c run
# on RocksDB and LMDB side by side, interleaved, ROUNDS rounds (default 3),
# on the Collatz tables at STEPS steps (default 300000: what make bench runs;
# `bench/statestore.sh 1 3000000` is the larger run, RocksDB's taking more
# than 25 minutes here) and on the
# tweets windows of `weir gen tweets -n 1000000 --seed 42`, beside the
# disk's own limit (dd oflag=direct). Prints markdown tables of medians for
# BENCHMARKS.md. STATEBENCH_BIG=1 adds 32.7M steps (about an hour on
# RocksDB); STATEBENCH_ONLY=TEXT runs only the jobs whose label has TEXT.
# Needs librocksdb-dev (scripts/deps.sh bench) and liblmdb-dev (a base
# dependency: weir's state store, src/state/store.c, links it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../build}
weir=${WEIR:-$build/weir}
rounds=${1:-3}
[ $# -gt 0 ] && shift
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(300000)
data=$build/statebench-data # on the repository's disk: /tmp may be tmpfs
rm -rf "$data"
mkdir -p "$data"
trap 'rm -rf "$data"' EXIT
gcc -O2 -Wall -Wextra -Werror -o "$data/compare" "$here/statestore/compare.c" \
    $(pkg-config --cflags --libs rocksdb lmdb) -lpthread -lm
"$weir" gen tweets -n 1000000 --seed 42 > "$data/tweets.ndjson"
dd_mbs=$(dd if=/dev/zero of="$data/dd" bs=1M count=512 oflag=direct 2>&1 |
    awk '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^[GM]B\/s$/) print ($i == "GB/s" ? $(i - 1) * 1000 : $(i - 1)) }')
rm -f "$data/dd"
echo "Disk: dd bs=1M oflag=direct ${dd_mbs} MB/s."
if [ "${STATEBENCH_BIG:-0}" = 1 ]; then
    sizes+=(32700000)
else
    echo "Skipped: 32.7M Collatz steps (STATEBENCH_BIG=1 runs it; about an hour on RocksDB at these rates)."
fi
"$data/compare" "$data" "$data/tweets.ndjson" "$rounds" "${sizes[@]}"
