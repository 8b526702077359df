#!/usr/bin/env bash
# disk.sh [STEPS...] - what the data directory holds after the Collatz
# example (examples/collatz) has processed STEPS steps (default 300000
# 3000000): `weir gen collatz -n STEPS | weir produce`, then `weir serve
# --once`; prints, per STEPS, the input stream's bytes, the data
# directory's bytes and their ratio (issue 14's goal: at most 3x at 3M
# steps), each stream's bytes, the state store's (and of it, what is in
# its B-trees and what is free pages: build/bench/store_pages, which
# STORE=1 prints whole) and the pipeline directory's (the checkpoint), and
# serve --once's wall and CPU seconds. WEIR=path/to/weir measures another
# build (e.g. one from before compaction), PIPELINE=file.sql another
# pipeline (the example as an older build knew it). Prints markdown rows
# for BENCHMARKS.md.
set -eu
. "$(dirname "$0")/../tests/lib.sh"
PIPELINE=${PIPELINE:-$(cd "$(dirname "$0")/../examples/collatz" && pwd)/pipeline.sql}
[ $# -gt 0 ] || set -- 300000 3000000
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
bytes() { du -sb "$1" 2>/dev/null | cut -f1; }

echo "| steps | input MB | data dir MB | ratio | chains | chain_steps | value_numbers | data_series | state store (trees + free) | checkpoint | serve --once s (CPU s) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for steps in "$@"; do
    export WEIR_DATA="$SCRATCH/data-$steps"
    $WEIR gen collatz -n "$steps" --seed 1 | $WEIR produce conjecture.data --partitions 4 --key number
    /usr/bin/time -f "%e %U %S" -o "$SCRATCH/time" $WEIR serve -f "$PIPELINE" --once 2>"$SCRATCH/serve.err" ||
        { echo "weir serve --once failed: $(tail -3 "$SCRATCH/serve.err")" >&2; exit 1; }
    read -r wall user sys <"$SCRATCH/time"
    s="$WEIR_DATA/streams"
    input=$(bytes "$s/conjecture.data")
    total=$(bytes "$WEIR_DATA")
    $BUILD/bench/store_pages "$WEIR_DATA/state" >"$SCRATCH/pages"
    [ -z "${STORE:-}" ] || grep -E "^(\||freed)" "$SCRATCH/pages" >&2
    read -r _ trees free < <(grep '^pages ' "$SCRATCH/pages")
    echo "| $steps | $(mb "$input") | $(mb "$total") | $(awk -v t="$total" -v i="$input" 'BEGIN { printf "%.2fx", t / i }') |" \
         "$(mb "$(bytes "$s/chains")") | $(mb "$(bytes "$s/chain_steps")") | $(mb "$(bytes "$s/value_numbers")") |" \
         "$(mb "$(bytes "$s/data_series")") | $(mb "$(bytes "$WEIR_DATA/state")") ($(mb "$trees") + $(mb "$free")) |" \
         "$(mb "$(bytes "$WEIR_DATA/pipeline")") |" \
         "$wall ($(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')) |"
    rm -rf "$WEIR_DATA"
done
