#!/usr/bin/env bash
# join.sh - the interval join against an oracle: a short Python script (not
# weir) generates clicks and buys, a little out of order and with a few far
# too late, and computes the INNER and FULL joins of join.sql by brute force.
# weir replay, weir serve --once, and weir serve killed with -9 at random
# moments and restarted must each produce exactly those rows, each once,
# and send exactly the late records to the dead letters. WEIR_KILLS sets the
# number of kills (10 here). Last, a running server emits a LEFT join's
# unmatched click once both streams have been quiet for --idle-ms: event
# time then follows the clock past the click's interval.
. "$(dirname "$0")/../lib.sh"
KILLS=${WEIR_KILLS:-10}
SQL="$(dirname "$0")/join.sql"
plan 10

# Records come in event-time order give or take 50 s, less than any bound
# plus grace, so none is late whatever partition it lands in. Every 400th
# record is a copy of the stream's latest, ten minutes older: same key, so
# same partition, whose watermark it is then far behind: late wherever.
python3 - "$SCRATCH" <<'PY'
import json, random, sys
out = sys.argv[1]
random.seed(17)
base = 1795420800000
lo, hi = -60000, 300000
recs = {"clicks": [], "buys": []}
ok = {"clicks": [], "buys": []}
order = []
late = {"clicks": 0, "buys": 0}
for i in range(60000):
    s = "clicks" if random.random() < 0.7 else "buys"
    ts = base + i * 100 - random.randint(0, 50000)
    r = {"cid" if s == "clicks" else "bid": len(recs[s]), "user": "u%d" % random.randint(0, 299), "ts": ts}
    if i % 400 == 399 and recs[s]:
        prev = recs[s][-1]
        r["user"], r["ts"] = prev["user"], prev["ts"] - 600000
        late[s] += 1
    else:
        ok[s].append(r)
    recs[s].append(r)
    order.append((s, r))
for s in recs:
    with open("%s/%s.ndjson" % (out, s), "w") as f:
        for r in recs[s]:
            f.write(json.dumps(r) + "\n")
with open(out + "/replay.ndjson", "w") as f:
    for s, r in order:
        f.write(json.dumps({"stream": s, "row": r}) + "\n")
by_user = {}
for b in ok["buys"]:
    by_user.setdefault(b["user"], []).append(b)
inner, seen_b = [], set()
full = []
for c in ok["clicks"]:
    met = False
    for b in by_user.get(c["user"], []):
        if lo <= b["ts"] - c["ts"] <= hi:
            inner.append({"cid": c["cid"], "bid": b["bid"], "user": c["user"]})
            full.append({"cid": c["cid"], "bid": b["bid"]})
            seen_b.add(b["bid"])
            met = True
    if not met:
        full.append({"cid": c["cid"], "bid": None})
full += [{"cid": None, "bid": b["bid"]} for b in ok["buys"] if b["bid"] not in seen_b]
for name, rows in (("matched", inner), ("everything", full)):
    with open("%s/oracle.%s" % (out, name), "w") as f:
        f.write("".join(sorted(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)))
with open(out + "/oracle.late", "w") as f:
    f.write("%d %d\n" % (late["clicks"], late["buys"]))
PY
read late_clicks late_buys < "$SCRATCH/oracle.late"
diag "oracle: $(wc -l < "$SCRATCH/oracle.matched") matched pairs, $(wc -l < "$SCRATCH/oracle.everything") rows of the FULL join, $late_clicks + $late_buys late records"

$WEIR replay -f "$SQL" --input "$SCRATCH/replay.ndjson" > "$SCRATCH/replay.out"
for s in matched everything; do
    sed -n "s/^{\"stream\":\"$s\",\"row\":\(.*\)}$/\1/p" "$SCRATCH/replay.out" | sort > "$SCRATCH/replay.$s"
    cmp -s "$SCRATCH/oracle.$s" "$SCRATCH/replay.$s"; ok $? "replay: $s equals the oracle's"
done

$WEIR produce clicks --data "$SCRATCH/input" --partitions 4 --key user "$SCRATCH/clicks.ndjson" &&
    $WEIR produce buys --data "$SCRATCH/input" --partitions 4 --key user "$SCRATCH/buys.ndjson"
cp -a "$SCRATCH/input" "$SCRATCH/once"
cp -a "$SCRATCH/input" "$SCRATCH/killed"

$WEIR serve -f "$SQL" --data "$SCRATCH/once" --once; ok $? "serve --once"
for s in matched everything; do
    $WEIR consume "$s" --data "$SCRATCH/once" --from-beginning -e | sort > "$SCRATCH/once.$s"
    cmp -s "$SCRATCH/oracle.$s" "$SCRATCH/once.$s"; ok $? "serve --once: $s equals the oracle's"
done
dead=$(( $($WEIR consume clicks.dlq --data "$SCRATCH/once" --from-beginning -e | grep -c 'too late') +
         $($WEIR consume buys.dlq --data "$SCRATCH/once" --from-beginning -e | grep -c 'too late') ))
# Each late record is a dead letter of each of the two joins.
[ "$dead" -eq $(( 2 * (late_clicks + late_buys) )) ]; ok $? "every late record is a dead letter, once per join ($dead)"

serve_killed "$KILLS" "$SCRATCH/stderr" -f "$SQL" --data "$SCRATCH/killed" --once --checkpoint-ms 30
killed=$KILLED
diag "$killed kills"
[ "$killed" -ge 1 ]; ok $? "serve was killed $killed times mid-run and then finished"
for s in matched everything; do
    $WEIR consume "$s" --data "$SCRATCH/killed" --from-beginning -e | sort > "$SCRATCH/killed.$s"
    cmp -s "$SCRATCH/oracle.$s" "$SCRATCH/killed.$s"; ok $? "after kills: $s equals the oracle's, each row once"
done
mkdir -p "$SCRATCH/live"
$WEIR produce clicks --data "$SCRATCH/live" --key user /dev/null && $WEIR produce buys --data "$SCRATCH/live" --key user /dev/null
cat > "$SCRATCH/left.sql" <<'SQL'
CREATE STREAM clicks (cid INT, user TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (bid INT, user TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM click_or_not AS SELECT c.cid, b.bid FROM clicks c LEFT JOIN buys b
  ON c.user = b.user AND b.ts BETWEEN c.ts AND c.ts + INTERVAL '1' SECOND;
SQL
start_serve -f "$SCRATCH/left.sql" --data "$SCRATCH/live" --idle-ms 200 --checkpoint-ms 100
echo "{\"cid\":7,\"user\":\"ann\",\"ts\":$(date +%s)}" | $WEIR produce clicks --data "$SCRATCH/live"
for i in $(seq 300); do
    got=$($WEIR consume click_or_not --data "$SCRATCH/live" --from-beginning -e)
    [ -n "$got" ] && break
    sleep 0.1
done
stop_serve
[ "$got" = '{"cid":7,"bid":null}' ]; ok $? "a quiet server emits the unmatched click with NULLs (got: $got)"
finish
