#!/usr/bin/env bash
# kafka_go.sh - a Go client, franz-go (tests/peers/franzgo, modules from the
# Go module proxy), against `weir serve --kafka-listen`: it asks for the
# newest API versions it knows and negotiates down to weir's, produces
# with its defaults (idempotent, acks=all) and lz4, consumes by group and
# commits. Own file: the first build compiles franz-go (a minute or two on
# 2 cores); later ones come from Go's build cache.
. "$(dirname "$0")/../lib.sh"
command -v go >/dev/null || { echo "1..0 # SKIP no Go toolchain (franz-go is built with it)"; exit 0; }
plan 3
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM events (id INT, name TEXT) WITH (partitions = 2);
SQL
peer=$(cd "$(dirname "$0")/../peers/franzgo" && pwd)
mkdir -p "$BUILD/peers"
(cd "$peer" && go build -o "$BUILD/peers/franzgo" .) 2>"$SCRATCH/go.err" ||
    { echo "Bail out! building tests/peers/franzgo failed: $(tail -5 "$SCRATCH/go.err")"; exit 1; }
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 --kafka-listen 127.0.0.1:0 || { echo "Bail out! weir serve --kafka-listen did not start"; exit 1; }
K=127.0.0.1:$(sed -n 's/.*speaking Kafka on .* (port \([0-9]*\)).*/\1/p' "$SCRATCH/serve.err")
out=$(timeout 120 "$BUILD/peers/franzgo" "$K" 1000 2>&1)
diag "$out"
grep -qx 'acked 1000' <<<"$out"
ok $? "franz-go's producer (idempotent, lz4) has its 1000 records acknowledged"
n=$($WEIR consume events --from-beginning -e 2>/dev/null | grep -c '"go"')
[ "$n" = 1000 ]
ok $? "weir stores each once ($n)"
grep -qx 'consumed 1000' <<<"$out" && [ "$($WEIR consume events --group go-group -e 2>/dev/null | wc -l)" = 0 ]
ok $? "a franz-go consumer group reads them back and commits its offsets, which weir consume --group shares"
stop_serve
finish
