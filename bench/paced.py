#!/usr/bin/env python3
"""paced.py - an open-loop HTTP client for bench/p99_under_load.sh.

One keep-alive connection sends a request every INTERVAL ms for SECONDS
and prints the latency percentiles. Latency is counted from the time a
request was due, not from when it went out (wrk2's correction of
coordinated omission): when the server stalls for 2.5 s, the requests due
meanwhile wait behind the stalled one and each counts its wait. wrk counts
such a stall once, so a stall every 25 s never reaches its p99, only its
max. One connection and a fixed schedule: no queueing in the client.

  paced.py URL --get PATHS_FILE ...   GET the paths of the file in turn
  paced.py URL --post PATH ...        POST --batch records of a Collatz
                                      chain (numbers from --first up) each time

Prints one line: requests=N errors=N p50=MS p99=MS max=MS service_p99=MS
(service: from sending to the answer, the part wrk would see).
"""
import argparse
import datetime
import http.client
import sys
import time
import urllib.parse


def percentile(sorted_ms, p):
    """Nearest rank: the smallest value with p% of the values at or below it."""
    if not sorted_ms:
        return 0.0
    rank = max(1, -(-len(sorted_ms) * p // 100))
    return sorted_ms[int(rank) - 1]


def chain_records(first, batch):
    """Endless NDJSON bodies: batch steps each of the chains of first, first+1, ..."""
    number = first
    while True:
        value, step, lines = number, 0, []
        while len(lines) < batch:
            ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            lines.append('{"number":%d,"step":%d,"value":%d,"ts":"%s"}' % (number, step, value, ts))
            value = value // 2 if value % 2 == 0 else 3 * value + 1
            step += 1
        yield ("\n".join(lines) + "\n").encode()
        number += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url", help="the server, http://HOST:PORT")
    ap.add_argument("--get", metavar="FILE", help="paths to GET, one a line, in turn")
    ap.add_argument("--post", metavar="PATH", help="the path records are POSTed to")
    ap.add_argument("--batch", type=int, default=4, help="records per POST (default 4)")
    ap.add_argument("--first", type=int, default=10**15, help="first chain's number (default 10^15)")
    ap.add_argument("--interval-ms", type=float, default=5.0, help="time between requests (default 5)")
    ap.add_argument("--seconds", type=float, required=True, help="how long to send")
    ap.add_argument("--stalls", metavar="FILE",
                    help="write there each request slower than --stall-ms: when it was due (wall ms) and its latency")
    ap.add_argument("--stall-ms", type=float, default=50.0, help="see --stalls (default 50)")
    a = ap.parse_args()
    if bool(a.get) == bool(a.post):
        ap.error("give one of --get and --post")

    u = urllib.parse.urlsplit(a.url)
    if a.get:
        with open(a.get) as f:
            paths = [line.strip() for line in f if line.strip()]
        requests = (("GET", paths[i % len(paths)], None) for i in range(1 << 62))
    else:
        requests = (("POST", a.post, body) for body in chain_records(a.first, a.batch))
    headers = {"Content-Type": "application/x-ndjson"} if a.post else {}

    stalls = open(a.stalls, "w") if a.stalls else None
    wall0 = time.time() - time.monotonic()
    conn = None
    latencies, services, errors = [], [], 0
    interval = a.interval_ms / 1000.0
    t0 = time.monotonic()
    for i, (method, path, body) in enumerate(requests):
        due = t0 + i * interval
        if due >= t0 + a.seconds:
            break
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        sent = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 200
        except (OSError, http.client.HTTPException):
            conn, ok = None, False
        done = time.monotonic()
        errors += not ok
        latencies.append((done - due) * 1000.0)
        if stalls and latencies[-1] >= a.stall_ms:
            stalls.write("%.0f %.1f\n" % ((wall0 + due) * 1000.0, latencies[-1]))
        services.append((done - sent) * 1000.0)
    latencies.sort()
    services.sort()
    print("requests=%d errors=%d p50=%.2f p99=%.2f max=%.2f service_p99=%.2f" % (
        len(latencies), errors, percentile(latencies, 50), percentile(latencies, 99),
        latencies[-1] if latencies else 0.0, percentile(services, 99)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
