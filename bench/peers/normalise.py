#!/usr/bin/env python3
"""normalise.py - one sorted TSV form of the tweets workload's rows, for bench/peers.sh.

Reads rows of any peer on standard input, as JSON lines (weir's objects, the
Python consumer's) or TSV (ClickHouse, the JVM programs), and prints
city, window_start, window_end (epoch seconds), tweets, retweets, users,
tab-separated, sorted. Timestamps may be ISO 8601 or epoch seconds.
"""
import datetime
import json
import sys


def seconds(v):
    if isinstance(v, (int, float)) or str(v).isdigit():
        return int(v)
    v = str(v).replace(" ", "T").replace("Z", "+00:00")
    d = datetime.datetime.fromisoformat(v)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp())


rows = []
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line:
        continue
    if line.startswith("{"):
        r = json.loads(line)
        f = [r["city"], r["window_start"], r["window_end"], r["tweets"], r["retweets"], r["users"]]
    else:
        f = line.split("\t")
    rows.append("\t".join([f[0], str(seconds(f[1])), str(seconds(f[2]))] + [str(int(x)) for x in f[3:6]]))
rows.sort()
sys.stdout.write("".join(r + "\n" for r in rows))
