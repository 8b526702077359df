#!/usr/bin/env bash
# sql_golden.sh - the SQL golden tests. For each tests/sql/NAME.sql, `weir
# replay` over NAME.input.ndjson must print exactly NAME.expected.ndjson
# (expected files were checked by hand against the inputs). For each
# tests/sql/errors/NAME.sql, replay must fail with exit 1 and the message of
# the file's first line ("-- error: FILE:LINE:COL: message"). For each
# tests/sql/explain/NAME.sql, the answers of `weir query -f NAME.sql` to the
# statements of its "-- query: SQL" lines, one after the other, must be
# exactly NAME.expected.ndjson (SHOW, DESCRIBE and EXPLAIN).
#
# Then each case with one source stream (its input JSON objects, not in envelopes) runs
# through the durable path at each thread count of $WEIR_GOLDEN_THREADS
# (default "1 4"): its input produced into a log of the stream's partitions
# by its key, `weir serve --once --threads N` over it; every stream it wrote
# (`weir consume --meta`: partition, offset, key and value of each record; the
# dead letters sorted, one partition fed by all) must be byte for byte what
# the first count wrote. (Replay itself is one partition by definition: input
# order is the order, one watermark; it runs on one thread.)
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/sql"
cases=(*.sql)
errors=(errors/*.sql)
explains=(explain/*.sql)
read -ra counts <<< "${WEIR_GOLDEN_THREADS:-1 4}"
# threaded: the cases with one source stream fed by plain lines, and that stream's "NAME PARTITIONS KEY"
threaded=()
declare -A source
for f in "${cases[@]}"; do
    name=${f%.sql}
    src=$($WEIR query -f "$f" "SHOW STREAMS" 2>/dev/null | grep '"kind":"source"')
    [ "$(printf '%s' "$src" | grep -c .)" -eq 1 ] || continue
    head -1 "$name.input.ndjson" | grep -q '^{"stream":' && continue
    grep -v '^[[:space:]]*$' "$name.input.ndjson" | grep -qv '^{' && continue # weir produce refuses a line that is not JSON
    source[$name]=$(printf '%s' "$src" | sed 's/.*"name":"\([^"]*\)".*"partitions":\([0-9]*\),"key":\("\([^"]*\)"\|null\).*/\1 \2 \4/')
    threaded+=("$name")
done
plan $(( ${#cases[@]} + 2 * ${#errors[@]} + ${#explains[@]} + ${#threaded[@]} * (${#counts[@]} > 1) ))
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
cd ..
# serve_dump NAME N: the case through serve --once --threads N; every stream it wrote into $SCRATCH/NAME.N
serve_dump() {
    local name=$1 n=$2 dir="$SCRATCH/serve-$1-$2" s
    read -r stream parts key <<< "${source[$name]}"
    $WEIR produce -d "$dir" --partitions "$parts" ${key:+-k "${key// /}"} "$stream" "$name.input.ndjson" >/dev/null &&
        $WEIR serve -f "$name.sql" -d "$dir" --once --idle-ms 0 --threads "$n" 2>"$SCRATCH/$name.$n.err" ||
        { diag "$name: serve --threads $n: $(cat "$SCRATCH/$name.$n.err")"; return 1; }
    for s in $($WEIR streams -d "$dir" -j | sed 's/^{"stream":"\([^"]*\)".*/\1/'); do
        [ "$s" = "$stream" ] && continue
        echo "== $s"
        # record timestamps are ingest times (the wall clock) for rows of sources without event time,
        # and dead letters' too; the dead letters, from all partitions, are sorted
        if [ "$s" = "$stream.dlq" ]; then
            $WEIR consume "$s" -d "$dir" --from-beginning -e | sed 's/"timestamp":"[^"]*"//g' | sort
        else
            $WEIR consume "$s" -d "$dir" --from-beginning -e --meta | sed 's/"timestamp":"[^"]*",//'
        fi
    done > "$SCRATCH/$name.$n" 2>&1
}
if [ ${#counts[@]} -gt 1 ]; then
    for name in "${threaded[@]}"; do
        good=0
        serve_dump "$name" "${counts[0]}" || good=1
        for n in "${counts[@]:1}"; do
            [ $good -eq 0 ] && serve_dump "$name" "$n" && cmp -s "$SCRATCH/$name.${counts[0]}" "$SCRATCH/$name.$n" || good=1
            [ $good -eq 0 ] || { diag "$name: --threads $n"; diff "$SCRATCH/$name.${counts[0]}" "$SCRATCH/$name.$n" | head -5 | sed 's/^/# /'; break; }
        done
        ok $good "golden $name through serve --once: the same records with --threads ${counts[*]}"
    done
fi
finish
