#!/usr/bin/env python3
"""Turns one run.sh log with several repeats (REPEATS=3) into the markdown table RESULTS.md
uses since the twelfth session: per scenario and worker count, TrafficCop's median
throughput, nginx's and HAProxy's, TrafficCop's ratio to each paired repeat by repeat (the
median and every repeat's), median CPU per request, median p99 and peak RSS. A summary of
how many cells reach nginx, 1.2x nginx and HAProxy goes to stderr.

  python3 benches/scripts/repeats-table.py target/bench/run.log
"""
import re
import statistics as st
import sys

LINE = re.compile(r"\] (\S+) w=(\d+) (\S+) r(\d+): ([\d.]+) req/s p50=(\d+)us p99=(\d+)us p99\.9=(\d+)us .*?rss=(\d+)kB proxy_cpu=([\d.]+)us/req \(user ([\d.]+)\)")

rows = {}
for m in map(LINE.search, open(sys.argv[1])):
    if m:
        proxy, w, s, rep, rps, _p50, p99, _p999, rss, cpu, user = m.groups()
        rows.setdefault((proxy, w, s), {})[rep] = dict(
            r=float(rps), p99=int(p99) / 1000, rss=int(rss) / 1024, cpu=float(cpu), user=float(user))


def med(d, k):
    return st.median(v[k] for v in d.values())


print("| scenario | workers | TrafficCop req/s | nginx | vs nginx (per repeat) | HAProxy | vs HAProxy (per repeat) "
      "| CPU µs/req (user): TrafficCop / nginx / HAProxy | p99 ms: TrafficCop / nginx | peak RSS MiB (TrafficCop) |")
print("|---|---|---|---|---|---|---|---|---|---|")
cells = at_nginx = at_12 = at_haproxy = 0
for s in ["small", "1k", "close", "tls", "h2"]:
    for w in ["1", "2"]:
        t, n, h = (rows.get((p, w, s)) for p in ("trafficcop", "nginx", "haproxy"))
        if not (t and n and h):
            continue
        reps = sorted(t)
        rn = [t[r]["r"] / n[r]["r"] for r in reps if r in n]
        rh = [t[r]["r"] / h[r]["r"] for r in reps if r in h]
        mn, mh = st.median(rn), st.median(rh)
        cells += 1
        at_nginx += mn >= 1
        at_12 += mn >= 1.2
        at_haproxy += mh >= 1
        per = lambda xs: ", ".join(f"{x:.2f}" for x in xs)
        cpu = " / ".join(f"{med(d, 'cpu'):.2f} ({med(d, 'user'):.2f})" for d in (t, n, h))
        print(f"| {s} | {w} | {med(t, 'r'):,.0f} | {med(n, 'r'):,.0f} | {mn:.2f}× ({per(rn)}) | {med(h, 'r'):,.0f} "
              f"| {mh:.2f}× ({per(rh)}) | {cpu} | {med(t, 'p99'):.2f} / {med(n, 'p99'):.2f} "
              f"| {max(v['rss'] for v in t.values()):.1f} |")
print(f"cells {cells}: >= nginx {at_nginx}, >= 1.2x nginx {at_12}, >= HAProxy {at_haproxy}", file=sys.stderr)
