#!/usr/bin/env bash
# crash.sh - kill -9 a producing weir at random moments, many times over the
# same data directory. After every kill, every record whose batch was
# acknowledged (`--acks`) must be there, intact and once; the batch in
# flight (one commit over all four partitions) must be there whole or not
# at all; and the log must open, recover and take more writes.
# WEIR_CRASH_ROUNDS sets the number of kills (50 in CI;
# scripts/soak-crash.sh runs more).
. "$(dirname "$0")/../lib.sh"
ROUNDS=${WEIR_CRASH_ROUNDS:-50}
PER_ROUND=400000
plan 5

killed=0
: > "$SCRATCH/acked"
for r in $(seq 1 "$ROUNDS"); do
    awk -v r="$r" -v n="$PER_ROUND" 'BEGIN { for (i = 0; i < n; i++) printf "{\"r\":%d,\"s\":%d,\"pad\":\"%0*d\"}\n", r, i, i % 50, 0 }' > "$SCRATCH/in.ndjson"
    # A producer killed before its shell opened the acks file must not
    # inherit the previous round's acknowledgements: start from no file.
    rm -f "$SCRATCH/acks"
    $WEIR produce crashy --key s --acks "$SCRATCH/in.ndjson" > "$SCRATCH/acks" 2>>"$SCRATCH/stderr" &
    pid=$!
    sleep "0.$(printf '%03d' $((RANDOM % 150)))"
    kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
    wait "$pid" 2>/dev/null
    # The last complete acknowledgement of this round.
    acked=$(grep -so '^{"acked": [0-9]*}$' "$SCRATCH/acks" | tail -1 | tr -dc 0-9)
    echo "$r ${acked:-0}" >> "$SCRATCH/acked"
done
diag "$killed of $ROUNDS producers killed mid-run; $(grep -c 'recovery:' "$SCRATCH/stderr") recoveries reported"
[ "$killed" -ge $((ROUNDS / 2)) ]; ok $? "most producers were killed while writing"

# consume opens the log read-only, which never writes: a writer's open
# (here one that appends nothing) recovers the last round first.
$WEIR produce crashy /dev/null 2>>"$SCRATCH/stderr" &&
    $WEIR consume crashy --from-beginning --exit > "$SCRATCH/all"
ok $? "the log opens and reads after $ROUNDS kills"
# Every value intact, no (round, seq) twice, every acknowledged seq present
# (streamed through sort so memory stays small however many rounds ran).
damaged=$(grep -cv '^{"r":[0-9]*,"s":[0-9]*,"pad":"0*"}$' "$SCRATCH/all")
sed 's/^{"r":\([0-9]*\),"s":\([0-9]*\),.*/\1 \2/' "$SCRATCH/all" | sort -k1,1n -k2,2n -S 512M > "$SCRATCH/pairs"
duplicated=$(uniq -d "$SCRATCH/pairs" | wc -l)
missing=$(awk 'NR == FNR { acked[$1] = $2; next }
               $2 < acked[$1] { have[$1]++ }
               END { for (r in acked) m += acked[r] - have[r]; print m + 0 }' "$SCRATCH/acked" <(uniq "$SCRATCH/pairs"))
diag "damaged $damaged, duplicated $duplicated, acknowledged but missing $missing"
if [ "$missing" -ne 0 ]; then # say which rounds lost what, and what recovery did
    awk 'NR == FNR { acked[$1] = $2; next } $2 < acked[$1] { have[$1]++ }
         END { for (r in acked) if (acked[r] - have[r]) printf "# round %d: acked %d, found %d\n", r, acked[r], have[r] }' \
        "$SCRATCH/acked" <(uniq "$SCRATCH/pairs")
    grep 'recovery' "$SCRATCH/stderr" | sed 's/^/# /'
fi
[ "$damaged" -eq 0 ] && [ "$duplicated" -eq 0 ] && [ "$missing" -eq 0 ]
ok $? "every acknowledged record present, intact and exactly once"
# A round's records are numbered in the order the producer read them and
# its commits take them in that order, so a round whose commits are each
# whole or absent kept exactly seqs 0..N-1. A hole means a commit kept some
# partitions' records and lost others' (the unacknowledged one in flight).
partial=$(uniq "$SCRATCH/pairs" | awk '{ n[$1]++; if ($2 + 1 > top[$1]) top[$1] = $2 + 1 }
    END { for (r in n) if (n[r] != top[r]) { bad++; printf "# round %d: %d records kept, highest seq %d\n", r, n[r], top[r] - 1 > "/dev/stderr" } print bad + 0 }')
diag "rounds whose batch in flight was kept in part: $partial"
[ "$partial" -eq 0 ]; ok $? "every unacknowledged batch is there whole or not at all, across partitions"
printf '{"r":0,"s":0,"pad":""}\n' | $WEIR produce crashy; ok $? "the log takes writes after recovery"
finish
