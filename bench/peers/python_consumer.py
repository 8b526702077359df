#!/usr/bin/env python3
"""python_consumer.py - the seeds-style Python consumer, written for bench/peers.sh.

What the seed projects do by hand, on the tweets workload: json.loads of
every NDJSON line, HOP windows of 5 minutes every minute by city kept in
dicts (tweets, retweets, and a set of user ids for the exact distinct
count), and at the end of the input every window printed as one JSON line
{city, window_start, window_end, tweets, retweets, users}, times as epoch
seconds. Reads standard input (or FILE), writes standard output.
"""
import datetime
import json
import sys

SLIDE = 60      # seconds between window starts
SIZE = 300      # window length in seconds


def epoch(text):
    """ISO 8601 ('2026-11-23T00:00:00.108Z') -> epoch seconds, as a float."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main():
    src = open(sys.argv[1], "rb") if len(sys.argv) > 1 else sys.stdin.buffer
    windows = {}  # (city, window_start) -> [tweets, retweets, set of users]
    for line in src:
        t = json.loads(line)
        ts = int(epoch(t["created_at"]) // SLIDE) * SLIDE
        for start in range(ts - SIZE + SLIDE, ts + SLIDE, SLIDE):
            w = windows.get((t["city"], start))
            if w is None:
                w = windows[(t["city"], start)] = [0, 0, set()]
            w[0] += 1
            w[1] += 1 if t["is_retweet"] else 0
            w[2].add(t["user_id"])
    out = sys.stdout
    for (city, start), (n, rt, users) in windows.items():
        out.write(json.dumps({"city": city, "window_start": start, "window_end": start + SIZE,
                              "tweets": n, "retweets": rt, "users": len(users)}) + "\n")


if __name__ == "__main__":
    main()
