#!/usr/bin/env bash
# fuzz.sh [SECONDS] - runs every fuzz target under libFuzzer (clang,
# ASan+UBSan) for SECONDS each (default 60), starting from fuzz/corpus/<t>
# and keeping what it finds in build-fuzz/corpus/<t> (not in the repo).
# A crash stops the script with the reproducer's path.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-60}
scripts/deps.sh fuzz
mkdir -p build-fuzz
flags="-g -O1 -std=c11 -D_GNU_SOURCE -Isrc -Ifuzz -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
lib=$(ls src/*/*.c | grep -v "^src/cli/")
for src in fuzz/fuzz_*.c; do
    t=$(basename "$src" .c); t=${t#fuzz_}
    clang $flags $lib "$src" -o "build-fuzz/fuzz_$t" -lpthread -lxxhash -lmicrohttpd -lcurl -lrdkafka -lpcre2-8 -lgnutls -llmdb -lz -lsnappy -llz4 -lzstd -lm
    mkdir -p "build-fuzz/corpus/$t"
    echo "fuzzing $t for ${seconds}s"
    "build-fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="build-fuzz/crash-$t-" \
        "build-fuzz/corpus/$t" "fuzz/corpus/$t" $([ "$t" = sql ] && echo tests/sql tests/sql/errors) 2>&1 | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|SUMMARY|==[0-9]+==ERROR)' || true
    ls build-fuzz/crash-$t-* >/dev/null 2>&1 && { echo "crash in $t: $(ls build-fuzz/crash-$t-*)"; exit 1; }
done
echo "no crashes"
