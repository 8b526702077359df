#!/usr/bin/env bash
# sql_golden.sh - the SQL golden tests. For each tests/sql/NAME.sql, `weir
# replay` over NAME.input.ndjson must print exactly NAME.expected.ndjson
# (expected files were checked by hand against the inputs). For each
# tests/sql/errors/NAME.sql, replay must fail with exit 1 and the message of
# the file's first line ("-- error: FILE:LINE:COL: message"). For each
# tests/sql/explain/NAME.sql, the answers of `weir query -f NAME.sql` to the
# statements of its "-- query: SQL" lines, one after the other, must be
# exactly NAME.expected.ndjson (SHOW, DESCRIBE and EXPLAIN).
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/sql"
cases=(*.sql)
errors=(errors/*.sql)
explains=(explain/*.sql)
plan $(( ${#cases[@]} + 2 * ${#errors[@]} + ${#explains[@]} ))
for f in "${cases[@]}"; do
    name=${f%.sql}
    out=$($WEIR replay -f "$f" --input "$name.input.ndjson" --expect "$name.expected.ndjson" 2>&1)
    ok $? "golden $name"
    [ -n "$out" ] && diag "$out"
done
cd errors
for f in *.sql; do
    want=$(head -1 "$f" | sed 's/^-- error: //')
    got=$($WEIR replay -f "$f" --input /dev/null 2>&1)
    ok $(( $? != 1 )) "$f fails with exit 1"
    [ "$got" = "weir replay: $want" ]; ok $? "$f: $want"
    [ "$got" = "weir replay: $want" ] || diag "got: $got"
done
cd ../explain
for f in *.sql; do
    name=${f%.sql}
    sed -n 's/^-- query: //p' "$f" | while IFS= read -r q; do $WEIR query -f "$f" "$q" 2>&1; done > "$SCRATCH/$name.got"
    diff -u "$name.expected.ndjson" "$SCRATCH/$name.got" > "$SCRATCH/$name.diff"
    ok $? "explain/$name: $(sed -n 's/^-- query: //p' "$f" | paste -sd';')"
    [ -s "$SCRATCH/$name.diff" ] && diag "$(cat "$SCRATCH/$name.diff")"
done
finish
