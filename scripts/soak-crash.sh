#!/usr/bin/env bash
# soak-crash.sh [ROUNDS] - the kill -9 crash test with many more kills than
# CI runs (default 1000), plus the simulated power-cut test with 5000 cuts
# and 2000 simulated kills and power cuts in the middle of commits over
# several partitions (each must be kept whole or not at all).
set -eu
cd "$(dirname "$0")/.."
make all
WEIR_SOAK=1 ./build/tests/unit/test_recovery.t | tail -1
WEIR_CRASH_ROUNDS=${1:-1000} WEIR=$PWD/build/weir BUILD=$PWD/build prove -v tests/integration/crash.sh
