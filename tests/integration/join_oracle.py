#!/usr/bin/env python3
"""join_oracle.py OUT - the input and the expected outputs of the join
goldens (join_restart.sh, join_kafka.sh), computed by brute force, not
by weir: files OUT/NAME.ndjson of the phases' records (customers1,
accounts1, prices, sales; orders2; customers3, accounts3 and deletes3,
the keys deleted; orders4), OUT/oracle.NAME for each output (sorted
JSON lines: enriched, gold_orders, both_sides, priced) and OUT/oracle.late
(late prices and sales). Each phase's records meet the tables as the
phases before left them; the temporal join's tables and streams have one
partition, so a record's lateness is its stream's order alone."""
import json, random, sys
out = sys.argv[1]
random.seed(1717)
def dump(name, rows):
    with open("%s/%s.ndjson" % (out, name), "w") as f:
        f.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
def oracle(name, rows):
    with open("%s/oracle.%s" % (out, name), "w") as f:
        f.write("".join(sorted(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)))
tiers = ["gold", "silver", "bronze"]
customers, accounts = {}, {}
c1 = [{"customer_id": "c%d" % random.randint(0, 2499), "tier": random.choice(tiers)} for _ in range(4000)]
a1 = [{"customer_id": "c%d" % random.randint(1000, 3499), "balance": random.randint(0, 999)} for _ in range(3000)]
for r in c1: customers[r["customer_id"]] = r
for r in a1: accounts[r["customer_id"]] = r
dump("customers1", c1); dump("accounts1", a1)
oid = 0
def orders(n):
    global oid
    rows = []
    for _ in range(n):
        rows.append({"oid": oid, "customer_id": "c%d" % random.randint(0, 2999)})
        oid += 1
    return rows
enriched, gold = [], []
def meet(rows):
    for o in rows:
        c = customers.get(o["customer_id"])
        enriched.append({"oid": o["oid"], "customer_id": o["customer_id"], "tier": c["tier"] if c else None})
        if c and c["tier"] == "gold":
            gold.append({"oid": o["oid"], "tier": "gold"})
o2 = orders(3000); dump("orders2", o2); meet(o2)
c3 = [{"customer_id": "c%d" % random.randint(0, 2999), "tier": random.choice(tiers)} for _ in range(1500)]
a3 = [{"customer_id": "c%d" % random.randint(0, 3499), "balance": random.randint(0, 999)} for _ in range(1500)]
for r in c3: customers[r["customer_id"]] = r
for r in a3: accounts[r["customer_id"]] = r
deletes = sorted(random.sample(sorted(customers), 200))
for k in deletes: del customers[k]
dump("customers3", c3); dump("accounts3", a3)
with open(out + "/deletes3", "w") as f: f.write("".join(k + "\n" for k in deletes))
o4 = orders(3000); dump("orders4", o4); meet(o4)
oracle("enriched", enriched); oracle("gold_orders", gold)
oracle("both_sides", [{"customer_id": k, "tier": customers[k]["tier"] if k in customers else None,
                       "balance": accounts[k]["balance"] if k in accounts else None}
                      for k in set(customers) | set(accounts)])

# The temporal join: one partition each, so a record's lateness is its stream's order alone.
base, grace = 1795420800000, 10000
def timed(n, step, late_every, make):
    rows, late = [], 0
    for i in range(n):
        r = make(i)
        r["ts"] = base + i * step - random.randint(0, 5000)   # out of order by less than GRACE
        if i % late_every == late_every - 1:
            r["ts"] -= 60000                                   # far behind: too late
        rows.append(r)
    return rows
prices = timed(2000, 300, 97, lambda i: {"sku": "s%d" % random.randint(0, 299), "price": random.randint(1, 99999)})
sales = timed(6000, 100, 89, lambda i: {"sid": i, "sku": "s%d" % random.randint(0, 329)})
prices.append({"sku": "flush", "price": 0, "ts": base + 3600000})  # moves the table's time past every sale
def on_time(rows):
    wm, kept, late = None, [], 0
    for seq, r in enumerate(rows):
        if wm is not None and r["ts"] + grace < wm:
            late += 1
            continue
        wm = r["ts"] if wm is None else max(wm, r["ts"])
        kept.append((seq, r))
    return kept, late
kept_prices, late_prices = on_time(prices)
kept_sales, late_sales = on_time(sales)
versions = {}
for seq, p in kept_prices:
    versions.setdefault(p["sku"], []).append((p["ts"], seq, p["price"]))
priced = []
for _, s in kept_sales:
    best = max((v for v in versions.get(s["sku"], []) if v[0] <= s["ts"]), default=None)
    priced.append({"sid": s["sid"], "sku": s["sku"], "price": best[2] if best else None})
dump("prices", prices); dump("sales", sales); oracle("priced", priced)
with open(out + "/oracle.late", "w") as f: f.write("%d %d\n" % (late_prices, late_sales))
