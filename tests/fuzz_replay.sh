#!/usr/bin/env bash
# fuzz_replay.sh - every fuzz target over its seed corpus and thousands of
# deterministic mutations of it (fuzz/replay_main.c), so each build runs
# the parsers on hostile input; under SANITIZE=1 with ASan and UBSan.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
targets=(json ndjson decode batch segment stream_conf sql eval checkpoint partition_states http jschema key clickhouse_row groups join_store kafka kafka_producers statements index task_state repartition kafka_config store_format)
plan ${#targets[@]}
for t in "${targets[@]}"; do
    seeds=(fuzz/corpus/$t/*)
    [ "$t" = sql ] && seeds+=(tests/sql/*.sql tests/sql/errors/*.sql) # the golden tests seed the SQL fuzzer
    out=$("$BUILD/fuzz/fuzz_$t-replay" "${seeds[@]}" 2>&1)
    rc=$?
    [ $rc -eq 0 ] && ! grep -q '^not ok' <<<"$out"
    ok $? "fuzz target $t replays its corpus and mutations"
    [ $rc -ne 0 ] && diag "$(tail -20 <<<"$out")"
done
finish
