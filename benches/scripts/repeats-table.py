#!/usr/bin/env python3
"""Turns one run.sh log with several repeats (REPEATS=3) into the markdown tables RESULTS.md
uses: for each TrafficCop runtime in the log (`trafficcop-mio`, `trafficcop-tokio`, or the
older single `trafficcop`), per scenario and worker count, its median throughput, nginx's and
HAProxy's, its ratio to each paired repeat by repeat (the median and every repeat's), its
median ratio to h2o and Traefik when they ran, median CPU per request, median p99 and peak RSS.
A summary of how many cells reach nginx, 1.2x nginx and HAProxy goes to stderr.

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


def paired(t, o):
    """TrafficCop's ratio to another proxy, repeat by repeat (empty when it did not run)."""
    return [t[r]["r"] / o[r]["r"] for r in sorted(t) if o and r in o and o[r]["r"] > 0]


def per(xs):
    return ", ".join(f"{x:.2f}" for x in xs)


ours = sorted({p for (p, _, _) in rows if p.startswith("trafficcop")})
for name in ours:
    print(f"\n**{name}**\n")
    print("| scenario | workers | req/s | nginx | vs nginx (per repeat) | HAProxy | vs HAProxy (per repeat) "
          "| vs h2o | vs Traefik | CPU µs/req (user): TrafficCop / nginx / HAProxy | p99 ms: TrafficCop / nginx "
          "| peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    cells = at_nginx = at_12 = at_haproxy = p99_ok = 0
    for s in ["small", "1k", "close", "tls", "h2"]:
        for w in ["1", "2"]:
            t, n, h, o, k = (rows.get((p, w, s)) for p in (name, "nginx", "haproxy", "h2o", "traefik"))
            if not (t and n and h):
                continue
            rn, rh, ro, rk = paired(t, n), paired(t, h), paired(t, o), paired(t, k)
            mn, mh = st.median(rn), st.median(rh)
            cells += 1
            at_nginx += mn >= 1
            at_12 += mn >= 1.2
            at_haproxy += mh >= 1
            p99_ok += med(t, "p99") <= med(n, "p99")
            cpu = " / ".join(f"{med(d, 'cpu'):.2f} ({med(d, 'user'):.2f})" for d in (t, n, h))
            vs_o = f"{st.median(ro):.2f}×" if ro else "-"
            vs_k = f"{st.median(rk):.2f}×" if rk else "-"
            print(f"| {s} | {w} | {med(t, 'r'):,.0f} | {med(n, 'r'):,.0f} | {mn:.2f}× ({per(rn)}) | {med(h, 'r'):,.0f} "
                  f"| {mh:.2f}× ({per(rh)}) | {vs_o} | {vs_k} | {cpu} | {med(t, 'p99'):.2f} / {med(n, 'p99'):.2f} "
                  f"| {max(v['rss'] for v in t.values()):.1f} |")
    print(f"{name}: cells {cells}: >= nginx {at_nginx}, >= 1.2x nginx {at_12}, >= HAProxy {at_haproxy}, "
          f"p99 <= nginx {p99_ok}", file=sys.stderr)
