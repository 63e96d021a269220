#!/usr/bin/env python3
"""Turns run.sh's per-run log lines (from one or more logs) into a markdown table with each
proxy's throughput ratio to nginx at the same worker count and scenario, from the same log.

  python3 benches/scripts/results-table.py target/bench/*.log > benches/RESULTS.md.part
"""
import re, sys

LINE = re.compile(r"\] (\S+) w=(\d+) (\S+) r\d+: ([\d.]+) req/s p50=(\d+)us p99=(\d+)us p99\.9=(\d+)us .*?rss=(\d+)kB proxy_cpu=([\d.]+)us/req \(user ([\d.]+)\)")

print("| log | scenario | workers | proxy | req/s | vs nginx | p50 ms | p99 ms | p99.9 ms | CPU µs/req (user) | peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for path in sys.argv[1:]:
    rows = [m.groups() for m in map(LINE.search, open(path)) if m]
    nginx = {(w, s): float(r) for (p, w, s, r, *_ ) in rows if p == "nginx"}
    for p, w, s, r, p50, p99, p999, rss, cpu, user in rows:
        base = nginx.get((w, s))
        ratio = f"{float(r) / base:.2f}" if base else "-"
        print(f"| {path.rsplit('/', 1)[-1]} | {s} | {w} | {p} | {float(r):,.0f} | {ratio} | {int(p50)/1000:.2f} | {int(p99)/1000:.2f} | {int(p999)/1000:.2f} | {cpu} ({user}) | {int(rss)/1024:.1f} |")
