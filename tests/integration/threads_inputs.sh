#!/usr/bin/env bash
# threads_inputs.sh - serve --threads with two partition-parallel inputs:
# each input's partitions have engines of their own, and each engine keeps
# in the state store the groups of its own input's queries only. A run
# stopped with windows still open and then finished with --once gives every
# final row once, as one thread does (an engine that also read the other
# input's open windows from the store would close them a second time).
. "$(dirname "$0")/../lib.sh"
plan 3
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM a (k TEXT, n INT, ts TIMESTAMP) WITH (partitions = 2, key = 'k', timestamp = 'ts');
CREATE STREAM b (k TEXT, n INT, ts TIMESTAMP) WITH (partitions = 2, key = 'k', timestamp = 'ts');
CREATE TABLE wa AS SELECT k, window_start, COUNT(*) AS c, SUM(n) AS s
  FROM TUMBLE(a, INTERVAL '1' MINUTE) GROUP BY k EMIT FINAL;
CREATE TABLE wb AS SELECT k, window_start, COUNT(*) AS c, SUM(n) AS s
  FROM TUMBLE(b, INTERVAL '1' MINUTE) GROUP BY k EMIT FINAL;
SQL
records() { # records N: N records over 5 keys, a few per second from 10:00:00
    awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) { t = int(i / 3)
        printf "{\"k\":\"k%d\",\"n\":%d,\"ts\":\"2026-11-23T10:%02d:%02dZ\"}\n", i % 5, i, int(t / 60), t % 60 } }'
}
run() { # run THREADS: a serve stopped with windows open, then --once; the final rows of both tables
    local d="$SCRATCH/t$1"
    records 400 | $WEIR produce a --data "$d" --partitions 2 --key k
    records 300 | $WEIR produce b --data "$d" --partitions 2 --key k
    WEIR_DATA="$d" start_serve -f "$SCRATCH/p.sql" --data "$d" --threads "$1" --idle-ms 0 --checkpoint-ms 100
    local i
    for i in $(seq 300); do
        [ "$(curl -s "$URL/metrics" | grep -c '^weir_pipeline_lag_records{stream="[ab]",partition="[01]"} 0$')" = 4 ] && break
        sleep 0.1
    done
    stop_serve
    records 500 | tail -n 100 | $WEIR produce a --data "$d" --key k
    $WEIR serve -f "$SCRATCH/p.sql" --data "$d" --once --threads "$1" 2>"$SCRATCH/once$1.err" ||
        diag "serve --once failed: $(cat "$SCRATCH/once$1.err")"
    for t in wa wb; do $WEIR consume "$t" --data "$d" --from-beginning -e | sed "s/^/$t /"; done | sort > "$SCRATCH/rows$1"
}
run 1
run 2
[ -s "$SCRATCH/rows1" ]; ok $? "one thread: $(wc -l < "$SCRATCH/rows1") final rows"
cmp -s "$SCRATCH/rows1" "$SCRATCH/rows2"; ok $? "two threads give the same final rows, each once ($(wc -l < "$SCRATCH/rows2"))"
[ "$(sort -u "$SCRATCH/rows2" | wc -l)" = "$(wc -l < "$SCRATCH/rows2")" ]; ok $? "no row twice"
finish
