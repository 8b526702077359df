#!/usr/bin/env bash
# bench.sh BUILD_DIR - runs every benchmark in BUILD_DIR/bench and every
# bench/*.sh (each prints a markdown table for BENCHMARKS.md). Benchmarks write their data under
# BUILD_DIR/bench-data, on the same disk as the repository. A
# clickhouse-server is started for bench/sinks when Debian's is installed.
set -eu
build=${1:-build}
export BUILD=$build
. "$(dirname "$0")/../tests/lib.sh"
if command -v clickhouse-server >/dev/null && start_clickhouse "$SCRATCH/clickhouse" >/dev/null; then
    export WEIR_BENCH_CLICKHOUSE=$CH_URL
    trap 'stop_clickhouse; rm -rf "$SCRATCH"' EXIT
fi
for b in "$build"/bench/*; do
    [ -x "$b" ] || continue
    echo "\$ $b"
    "$b" "$build/bench-data"
    echo
done
for b in "$(dirname "$0")"/../bench/*.sh; do # the benchmarks of whole examples, driven from the shell
    echo "\$ $b"
    WEIR="$build/weir" bash "$b"
    echo
done
