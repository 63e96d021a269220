#!/usr/bin/env bash
# Benchmark (not a test): runs ../shared/bench/run.sh with TrafficCop added beside nginx, HAProxy
# (and Traefik when `traefik` is on PATH) in the same session, so ratios are paired.
# ../shared is read-only, so the harness runs from a scratch copy; results land in
# target/bench/. Needs: apt-get install nginx haproxy wrk.
#
#   benches/scripts/run-peers.sh                       # small + close, 1 and 2 workers, 3 repeats
#   SCENARIOS="small 1k close" REPEATS=1 benches/scripts/run-peers.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SHARED="${TRAFFICCOP_SHARED:-$(cd .. && pwd)/shared}"
cargo build --release -p trafficcop
work="$ROOT/target/bench/harness"
rm -rf "$work"
mkdir -p "$work"
cp -r "$SHARED/bench/." "$work/"
chmod -R u+w "$work"
export OUT="$ROOT/target/bench/out" RESULTS_MD="$ROOT/target/bench/results.md"
export PROXY_NAME=trafficcop PROXY_PORT=8085 PROXY_TLS_PORT=8445
export PROXY_CMD="env TRAFFICCOP_WORKERS=\$BENCH_WORKERS $ROOT/target/release/trafficcop --configFile=\$BENCH_TRAEFIK_CONF"
export PROXIES="${PROXIES:-nginx haproxy trafficcop}"
export SCENARIOS="${SCENARIOS:-small close}"
export REPEATS="${REPEATS:-3}"
export FRESH=1
bash "$work/run.sh"
echo "results: $RESULTS_MD"
