#!/usr/bin/env bash
# recovery.sh - kill -9 `weir serve` at random moments while it works
# through a fixed input, restart it each time, and check that the tables,
# the output streams and the dead letters equal those of a run that was
# never interrupted: nothing counted twice, nothing lost. WEIR_KILLS sets
# the number of kills (20 in CI). The same again with --threads 4 (tweets
# runs per partition for the queries that group it by city or filter it,
# the others in the pipeline's engine), compared with the same uninterrupted
# run without threads.
. "$(dirname "$0")/../lib.sh"
KILLS=${WEIR_KILLS:-20}
N=${WEIR_RECOVERY_N:-400000}
SQL="$(dirname "$0")/recovery.sql"
plan 21

# Tweets over about an hour of event time, a little out of order, with a
# few records far too late and a few that do not fit the schema.
awk -v n="$N" 'BEGIN {
    srand(42); base = 1795420800000
    for (i = 0; i < n; i++) {
        ts = base + int(i * 9) + int(rand() * 25000) - 20000
        if (i % 997 == 0) ts -= 600000
        rt = (rand() < 0.3) ? "true" : "false"
        if (i % 1499 == 0) rt = "\"maybe\""
        printf "{\"id\":\"%d\",\"user_id\":\"u%d\",\"city\":\"city%d\",\"is_retweet\":%s,\"created_at\":%.0f}\n", i, int(rand() * 5000), int(rand() * 20), rt, ts
    }
}' > "$SCRATCH/tweets.ndjson"
$WEIR produce tweets --data "$SCRATCH/input" --partitions 4 --key city "$SCRATCH/tweets.ndjson"
cp -a "$SCRATCH/input" "$SCRATCH/ref"

$WEIR serve -f "$SQL" --data "$SCRATCH/ref" --once --idle-ms 0; ok $? "uninterrupted run"

for threads in 1 4; do
    dir="$SCRATCH/killed$threads"
    cp -a "$SCRATCH/input" "$dir"
    serve_killed "$KILLS" "$SCRATCH/stderr" -f "$SQL" --data "$dir" --once --idle-ms 0 --checkpoint-ms 30 --threads "$threads"
    killed=$KILLED
    diag "--threads $threads: $killed kills; $(grep -c 'recovery:' "$SCRATCH/stderr") log recoveries reported"
    [ "$killed" -ge "$KILLS" ]; ok $? "serve --threads $threads was killed $killed times mid-run and then finished"

    for t in city_5m city_1m users rt_by_city sessions; do
        $WEIR query "SELECT * FROM $t" --data "$SCRATCH/ref" | sort > "$SCRATCH/ref.$t"
        $WEIR query "SELECT * FROM $t" --data "$dir" | sort > "$SCRATCH/killed.$t"
        [ -s "$SCRATCH/ref.$t" ] && cmp -s "$SCRATCH/ref.$t" "$SCRATCH/killed.$t"
        ok $? "--threads $threads: table $t equals the uninterrupted run's ($(wc -l < "$SCRATCH/ref.$t") rows)"
    done
    # Streams whose content does not depend on how partitions interleave: each
    # row exactly once.
    for s in city_5m sessions retweets tweets.dlq; do
        $WEIR consume "$s" --data "$SCRATCH/ref" --from-beginning -e | sort > "$SCRATCH/ref.s.$s"
        $WEIR consume "$s" --data "$dir" --from-beginning -e | sort > "$SCRATCH/killed.s.$s"
        [ -s "$SCRATCH/ref.s.$s" ] && cmp -s "$SCRATCH/ref.s.$s" "$SCRATCH/killed.s.$s"
        ok $? "--threads $threads: stream $s holds the same $(wc -l < "$SCRATCH/ref.s.$s") rows, none twice"
    done
done
finish
