#!/usr/bin/env bash
# Idle memory of the release binary (a benchmark, not a test): the proxy's RSS at start, 3 s
# after a 5 s HTTP/1.1 keep-alive load, and 1, 3 and 10 s after a 5 s HTTP/2 burst over TLS
# (64 connections x 10 streams), all on 127.0.0.1 against an nginx backend, with the
# anonymous (heap) part of the last figure. The rest of RSS is mostly the binary's code.
#
#   scripts/idle-rss.sh [BIN]      (needs nginx, wrk, h2load, python3;
#                                   RUNTIME=mio|tokio, mio by default; WORKERS, 2 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
BIN="${1:-target/release/trafficcop}"
RUNTIME="${RUNTIME:-mio}"
for tool in nginx wrk h2load python3; do
  command -v "$tool" >/dev/null || { echo "SKIPPED idle-rss: $tool not installed"; exit 0; }
done
OUT="${OUT:-$PWD/target/idle-rss}"
rm -rf "$OUT" && mkdir -p "$OUT"
BACKEND=$(free_port)
WEB=$(free_port)
SECURE=$(free_port)
write_backend_nginx_conf "$OUT" <<EOF
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$BACKEND;
    location = / { return 200 "Hello, world!"; }
  }
EOF
# No certificate configured: the HTTPS entry point serves the generated default one.
cat > "$OUT/traefik.yml" <<EOF
entryPoints:
  web: {address: "127.0.0.1:$WEB"}
  websecure: {address: "127.0.0.1:$SECURE"}
serversTransport: {maxIdleConnsPerHost: 256}
providers: {file: {filename: "$OUT/dynamic.yml"}}
EOF
cat > "$OUT/dynamic.yml" <<EOF
http:
  routers:
    web: {entryPoints: [web], rule: "PathPrefix(\`/\`)", service: nginx}
    secure: {entryPoints: [websecure], rule: "PathPrefix(\`/\`)", service: nginx, tls: {}}
  services: {nginx: {loadBalancer: {servers: [{url: "http://127.0.0.1:$BACKEND"}]}}}
EOF
nginx -c "$OUT/nginx.conf" -p "$OUT"
TRAFFICCOP_WORKERS="${WORKERS:-2}" TRAFFICCOP_RUNTIME="$RUNTIME" "$BIN" --configFile="$OUT/traefik.yml" > "$OUT/proxy.log" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; kill "$(cat "$OUT/nginx.pid")" 2>/dev/null || true; }
trap cleanup EXIT
wait_port "$WEB"
wait_port "$SECURE"
rss() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
sleep 2
echo "idle-rss: $BIN ($RUNTIME, ${WORKERS:-2} workers)"
echo "at start: $(rss) kB"
wrk -t2 -c64 -d5s "http://127.0.0.1:$WEB/" | grep -E "Requests/sec"
sleep 3
echo "3 s after the HTTP/1.1 load: $(rss) kB"
h2load -t2 -c64 -m10 -D5 "https://127.0.0.1:$SECURE/" | grep -E "^requests:"
for after in 1 3 10; do
  sleep $((after - ${last:-0}))
  last=$after
  echo "$after s after the h2 burst: $(rss) kB"
done
echo "anonymous (heap) of that: $(awk '/^Anonymous:/ {s += $2} END {print s}' "/proc/$PID/smaps") kB"
