#!/usr/bin/env bash
# Benchmark (not a test): runs ../shared/bench/run.sh with TrafficCop on each of its runtimes
# (`trafficcop-mio`, `trafficcop-tokio`) beside nginx, HAProxy, h2o and Traefik in one pass, so
# every ratio is paired: for each worker count all proxies are up at once and each scenario runs
# them back to back. Traefik joins when a binary is found (TRAFFICCOP_TRAEFIK_BIN, or
# target/oracle/traefik from scripts/fetch-traefik.sh); h2o when `h2o` is installed.
# ../shared is read-only, so the harness runs from a scratch copy; results land in
# target/bench/. Needs: apt-get install nginx haproxy wrk nghttp2-client (h2load) [h2o].
#
#   benches/scripts/run-peers.sh                          # every scenario, 1 and 2 workers, 3 repeats
#   SCENARIOS="small 1k" REPEATS=1 ADAPTERS=mio benches/scripts/run-peers.sh
#   python3 benches/scripts/repeats-table.py target/bench/out/runs.log   # the table
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

# The harness takes one proxy of ours (PROXY_NAME/PROXY_CMD). The second adapter gets a case of
# its own in the scratch copy's `proxy_spec`, next to the first, so both run in the same pass.
python3 - "$work/run.sh" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
anchor = '    "$PROXY_NAME")\n'
if text.count(anchor) != 1:
    sys.exit("run-peers.sh: the harness's proxy_spec has changed; cannot add the second adapter")
second = ('    "$PROXY2_NAME")\n'
          '             P_PORT=$PROXY2_PORT; P_TLS_PORT=$PROXY2_TLS_PORT; P_CMD=$PROXY2_CMD ;;\n')
open(path, "w").write(text.replace(anchor, second + anchor))
PY

bin="$ROOT/target/release/trafficcop"
cmd() { echo "$bin --runtime=$1 --configFile=\$BENCH_TRAEFIK_CONF"; }
ADAPTERS="${ADAPTERS:-mio tokio}"
set -- $ADAPTERS
export PROXY_NAME="trafficcop-$1" PROXY_PORT=8085 PROXY_TLS_PORT=8445
export PROXY_CMD="env TRAFFICCOP_WORKERS=\$BENCH_WORKERS $(cmd "$1")"
ours="$PROXY_NAME"
if [ $# -ge 2 ]; then
  export PROXY2_NAME="trafficcop-$2" PROXY2_PORT=8088 PROXY2_TLS_PORT=8448
  export PROXY2_CMD="env TRAFFICCOP_WORKERS=\$BENCH_WORKERS $(cmd "$2")"
  ours="$ours $PROXY2_NAME"
fi

peers="nginx haproxy"
command -v h2o >/dev/null && peers="$peers h2o"
traefik="${TRAFFICCOP_TRAEFIK_BIN:-$ROOT/target/oracle/traefik}"
if [ -x "$traefik" ]; then
  mkdir -p "$ROOT/target/bench/path"
  ln -sf "$traefik" "$ROOT/target/bench/path/traefik"
  export PATH="$ROOT/target/bench/path:$PATH"
  peers="$peers traefik"
else
  echo "run-peers.sh: no Traefik binary ($traefik); run scripts/fetch-traefik.sh to add it" >&2
fi

export OUT="$ROOT/target/bench/out" RESULTS_MD="$ROOT/target/bench/results.md"
export PROXIES="${PROXIES:-$peers $ours}"
export SCENARIOS="${SCENARIOS:-small 1k close tls h2}"
export REPEATS="${REPEATS:-3}"
export FRESH=1
bash "$work/run.sh" 2>&1 | tee "$ROOT/target/bench/run.log"
echo "results: $RESULTS_MD; log: target/bench/run.log"
