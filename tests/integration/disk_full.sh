#!/usr/bin/env bash
# disk_full.sh - a full disk under a running weir serve: ingest answers 503
# with Retry-After, the server stays up, the pipeline pauses and resumes by
# itself when space is freed, and the table ends with exactly the records
# that were acknowledged. A restart on a full disk starts and refuses
# ingest below --min-free; a first start on a full disk says so clearly.
#
# The disk is a small tmpfs mounted in a private mount namespace, so the
# test re-runs itself under unshare(1) (as root, or in a user namespace).
if [ -z "${WEIR_DISK_NS:-}" ]; then
    flags=(-m --propagation private)
    [ "$(id -u)" = 0 ] || flags=(-r "${flags[@]}")
    if WEIR_DISK_NS=1 unshare "${flags[@]}" true 2>/dev/null; then
        WEIR_DISK_NS=1 exec unshare "${flags[@]}" bash "$0" "$@"
    fi
    echo "1..0 # SKIP no mount namespace here (unshare -m refused)"
    exit 0
fi
. "$(dirname "$0")/../lib.sh"
plan 18
DISK="$SCRATCH/disk"
mkdir -p "$DISK"
mount -t tmpfs -o size=24m tmpfs "$DISK" || { echo "Bail out! cannot mount a tmpfs"; exit 1; }
trap 'umount "$DISK" 2>/dev/null; rm -rf "$SCRATCH"' EXIT
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM events (k TEXT, n INT) WITH (partitions = 4, key = 'k');
CREATE TABLE counts AS SELECT k, COUNT(*) AS c FROM events GROUP BY k;
SQL
acked=0
# post FIRST COUNT: records {"k":"k<i % 10>","n":i}; sets CODE, counts acknowledged ones.
post() {
    awk -v f="$1" -v n="$2" 'BEGIN { for (i = f; i < f + n; i++) printf "{\"k\":\"k%d\",\"n\":%d}\n", i % 10, i }' > "$SCRATCH/batch"
    CODE=$(curl -s -o "$SCRATCH/answer" -D "$SCRATCH/headers" -w '%{http_code}' --data-binary @"$SCRATCH/batch" "$URL/v1/streams/events")
    [ "$CODE" = 200 ] && acked=$((acked + $2))
}
fill() { dd if=/dev/zero of="$DISK/filler" bs=1M 2>/dev/null; head -c 65536 /dev/zero >> "$DISK/filler" 2>/dev/null; true; }
# table_total: the sum of the table's counts, as a pull query answers it.
table_total() {
    curl -s "$URL/v1/query" --data '{"sql":"SELECT k, c FROM counts"}' |
        python3 -c 'import json,sys; print(sum(r["c"] for r in json.load(sys.stdin)["rows"]))' 2>/dev/null
}
wait_total() { # wait_total N: until the table counts N records (60 s at most)
    local i
    for i in $(seq 600); do [ "$(table_total)" = "$1" ] && return 0; sleep 0.1; done
    diag "the table counts $(table_total), expected $1"; return 1
}

start_serve -f "$SCRATCH/p.sql" --data "$DISK/data" --checkpoint-ms 100 --min-free 0 ||
    { echo "Bail out! weir serve did not start"; exit 1; }
post 0 5000
[ "$CODE" = 200 ] && wait_total 5000; ok $? "5000 records acknowledged and counted before the disk fills"

fill
post 5000 20000
[ "$CODE" = 503 ] && grep -qi '^Retry-After:' "$SCRATCH/headers" && grep -q 'No space left on device\|disk is full' "$SCRATCH/answer"
ok $? "with the disk full, ingest answers 503 with Retry-After and says why: $(head -c 200 "$SCRATCH/answer")"
for i in $(seq 300); do curl -s "$URL/healthz" | grep -q '"status":"paused"' && break; sleep 0.1; done
curl -s "$URL/healthz" | grep -q '"status":"paused".*"disk_free_bytes"'; ok $? "/healthz answers and says the pipeline is paused: $(curl -s "$URL/healthz")"
post 25000 100
[ "$CODE" = 503 ] && grep -q 'pipeline is paused' "$SCRATCH/answer"; ok $? "while paused, ingest is refused at once: $(head -c 200 "$SCRATCH/answer")"
kill -0 "$SERVE_PID"; ok $? "the server is still running"
grep -q 'the disk is full' "$SCRATCH/serve.err"; ok $? "serve says the disk is full on its standard error"
curl -s "$URL/metrics" | grep -q '^weir_pipeline_paused 1$'; ok $? "/metrics shows weir_pipeline_paused 1"

rm -f "$DISK/filler"
for i in $(seq 300); do post 30000 1000; [ "$CODE" = 200 ] && break; sleep 0.1; done
[ "$CODE" = 200 ]; ok $? "once space is freed, ingest is accepted again (last answer $CODE)"
grep -q 'disk space is back' "$SCRATCH/serve.err"; ok $? "serve says the pipeline resumed"
post 31000 4000
wait_total "$acked"; ok $? "the table counts exactly the $acked acknowledged records: none lost, none twice"
stop_serve; ok $? "serve stops cleanly after the pause"

# A restart on a full disk: the checkpoint is there, nothing must be written to start.
fill
start_serve -f "$SCRATCH/p.sql" --data "$DISK/data" --checkpoint-ms 100 --min-free 4194304
ok $? "serve starts on a full disk from its checkpoint"
post 40000 100
[ "$CODE" = 503 ] && grep -q 'under --min-free 4194304' "$SCRATCH/answer"; ok $? "ingest below --min-free answers 503 naming it: $(head -c 200 "$SCRATCH/answer")"
rm -f "$DISK/filler"
for i in $(seq 300); do post 41000 500; [ "$CODE" = 200 ] && break; sleep 0.1; done
wait_total "$acked"; ok $? "after space is freed it takes records again and counts all $acked"
stop_serve

# The pipeline's own writes (its table's changelog, checkpoints) meet the full disk: a backlog
# produced while serve was stopped is processed on a full disk, pauses, and resumes exactly.
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "{\"k\":\"k%d\",\"n\":%d}\n", i % 10, i }' |
    $WEIR produce events --data "$DISK/data" && acked=$((acked + 20000))
fill
start_serve -f "$SCRATCH/p.sql" --data "$DISK/data" --checkpoint-ms 100 --min-free 0
for i in $(seq 300); do curl -s "$URL/healthz" | grep -q '"status":"paused"' && break; sleep 0.1; done
curl -s "$URL/healthz" | grep -q '"status":"paused"'; ok $? "processing a backlog on a full disk pauses the pipeline"
rm -f "$DISK/filler"
wait_total "$acked"; ok $? "and once space is freed the table counts all $acked records exactly"
stop_serve

# A first start on a full disk cannot write its first checkpoint: it says so.
fill
$WEIR serve -f "$SCRATCH/p.sql" --data "$DISK/fresh" --listen off 2>"$SCRATCH/fresh.err"; rc=$?
[ $rc -ne 0 ] && grep -q "the disk of $DISK/fresh is full" "$SCRATCH/fresh.err"; ok $? "a first start on a full disk exits with a clear message: $(cat "$SCRATCH/fresh.err")"
rm -f "$DISK/filler"
$WEIR serve -f "$SCRATCH/p.sql" --data "$DISK/fresh" --once 2>/dev/null; ok $? "the same start works once space is freed"
finish
