#!/usr/bin/env bash
# bench.sh BUILD_DIR - runs every benchmark in BUILD_DIR/bench (each prints
# a markdown table for BENCHMARKS.md). Benchmarks write their data under
# BUILD_DIR/bench-data, on the same disk as the repository.
set -eu
build=${1:-build}
for b in "$build"/bench/*; do
    [ -x "$b" ] || continue
    echo "\$ $b"
    "$b" "$build/bench-data"
    echo
done
