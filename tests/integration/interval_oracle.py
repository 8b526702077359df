#!/usr/bin/env python3
"""interval_oracle.py OUT [N] - the input and the expected outputs of the
interval joins of join.sql (join.sh, join_scale_out.sh), computed by
brute force, not by weir: N records (60000 by default) of clicks and
buys in OUT/clicks.ndjson, OUT/buys.ndjson and, interleaved as
weir replay reads them, OUT/replay.ndjson; the INNER and FULL joins'
rows in OUT/oracle.matched and OUT/oracle.everything (sorted JSON
lines); the late clicks and buys in OUT/oracle.late.

Records come in event-time order give or take 50 s, less than any bound
plus grace, so none is late whatever partition it lands in. Every 400th
record is a copy of the stream's latest, ten minutes older: same key, so
same partition, whose watermark it is then far behind: late wherever."""
import json, random, sys
out = sys.argv[1]
random.seed(17)
base = 1795420800000
lo, hi = -60000, 300000
recs = {"clicks": [], "buys": []}
ok = {"clicks": [], "buys": []}
order = []
late = {"clicks": 0, "buys": 0}
for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 60000):
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
