#!/usr/bin/env bash
# Mixed-load soak of the release binary (a benchmark, not a test): keep-alive requests, a new
# connection per request, 1 MiB response bodies, 1 MiB uploads and slow readers, all at once
# for DURATION seconds on 127.0.0.1, against an nginx backend. Samples the proxy's RSS and open
# fds every 10 s and prints whether RSS at the end is within 10 % of its value after the first
# minute and whether the fd count is back to its baseline once the load stops.
#
#   scripts/soak.sh [BIN] [DURATION]      (needs nginx, wrk, python3; RUNTIME=mio|tokio, mio by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
BIN="${1:-target/release/trafficcop}"
DURATION="${2:-600}"
RUNTIME="${RUNTIME:-mio}"
for tool in nginx wrk python3; do
  command -v "$tool" >/dev/null || { echo "SKIPPED soak: $tool not installed"; exit 0; }
done
OUT="${OUT:-$PWD/target/soak}"
rm -rf "$OUT" && mkdir -p "$OUT/www"
head -c 1048576 /dev/urandom > "$OUT/www/1m"
BACKEND=$(free_port)
PROXY=$(free_port)
write_backend_nginx_conf "$OUT" <<EOF
  keepalive_requests 1000000;
  client_max_body_size 2m;
  server {
    listen 127.0.0.1:$BACKEND;
    root $OUT/www;
    location = / { return 200 "Hello, world!"; }
    location = /upload { client_body_in_single_buffer on; return 200 "stored"; }
  }
EOF
cat > "$OUT/traefik.yml" <<EOF
entryPoints: {web: {address: "127.0.0.1:$PROXY"}}
# Idle backend connections are kept for idleConnTimeout (90 s by default): 5 s here, so that
# the fd count can be checked against its baseline soon after the load.
serversTransport: {forwardingTimeouts: {idleConnTimeout: 5s}}
providers: {file: {filename: "$OUT/dynamic.yml"}}
EOF
cat > "$OUT/dynamic.yml" <<EOF
http:
  routers: {all: {rule: "PathPrefix(\`/\`)", service: nginx}}
  services: {nginx: {loadBalancer: {servers: [{url: "http://127.0.0.1:$BACKEND"}]}}}
EOF
nginx -c "$OUT/nginx.conf" -p "$OUT"
TRAFFICCOP_RUNTIME="$RUNTIME" "$BIN" --configFile="$OUT/traefik.yml" > "$OUT/proxy.log" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; kill "$(cat "$OUT/nginx.pid")" 2>/dev/null || true; jobs -p | xargs -r kill 2>/dev/null || true; }
trap cleanup EXIT
wait_port "$PROXY"
sample() { echo "$(date +%s) $(awk '/VmRSS/ {print $2}' /proc/$PID/status) $(ls /proc/$PID/fd | wc -l)"; }
FD_BASE=$(ls /proc/$PID/fd | wc -l)
echo "soak: $BIN ($RUNTIME) for ${DURATION}s; proxy :$PROXY -> nginx :$BACKEND; fds at rest: $FD_BASE"

# A 1 MiB upload body for wrk.
cat > "$OUT/upload.lua" <<'EOF'
wrk.method = "POST"
wrk.body = string.rep("u", 1048576)
wrk.path = "/upload"
EOF
# Slow readers: each fetches 1 MiB reading 16 KiB every 50 ms (~320 KiB/s), then reconnects.
cat > "$OUT/slow.py" <<EOF
import socket, sys, time
end = time.time() + $DURATION
while time.time() < end:
    try:
        s = socket.create_connection(("127.0.0.1", $PROXY))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.sendall(b"GET /1m HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
        while time.time() < end:
            d = s.recv(16384)
            if not d:
                break
            time.sleep(0.05)
        s.close()
    except OSError:
        time.sleep(0.1)
EOF
wrk -t1 -c32 -d"${DURATION}s" "http://127.0.0.1:$PROXY/" > "$OUT/wrk-keepalive.txt" 2>&1 &
wrk -t1 -c8 -d"${DURATION}s" -H "Connection: close" "http://127.0.0.1:$PROXY/" > "$OUT/wrk-close.txt" 2>&1 &
wrk -t1 -c4 -d"${DURATION}s" "http://127.0.0.1:$PROXY/1m" > "$OUT/wrk-1m.txt" 2>&1 &
wrk -t1 -c2 -d"${DURATION}s" -s "$OUT/upload.lua" "http://127.0.0.1:$PROXY/" > "$OUT/wrk-upload.txt" 2>&1 &
for _ in 1 2 3 4; do python3 "$OUT/slow.py" & done

: > "$OUT/samples.txt"
START=$(date +%s)
while [ $(( $(date +%s) - START )) -lt "$DURATION" ]; do
  sample >> "$OUT/samples.txt"
  sleep 10
done
wait $(jobs -p | grep -v "^$PID\$") 2>/dev/null || true
sleep 8
sample >> "$OUT/samples.txt"
python3 - "$OUT/samples.txt" "$START" "$FD_BASE" <<'EOF'
import statistics, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
start, fd_base = int(sys.argv[2]), int(sys.argv[3])
loaded = rows[:-1]
span = loaded[-1][0] - start
# RSS swings with the allocator from sample to sample: compare the medians of the second
# minute and of the last minute.
second = [r[1] for r in loaded if 60 <= r[0] - start < 120]
last = [r[1] for r in loaded if r[0] - start >= span - 60]
a, b = statistics.median(second), statistics.median(last)
drift = (b - a) / a * 100
low = min(r[1] for r in loaded if r[0] - start >= 60)
print(f"RSS (median) in minute 2: {a/1024:.1f} MiB; in the last minute: {b/1024:.1f} MiB ({drift:+.1f} %); "
      f"range after minute 1: {low/1024:.1f}-{max(r[1] for r in loaded)/1024:.1f} MiB")
print(f"fds: at rest {fd_base}, under load up to {max(r[2] for r in loaded)}, after the load {rows[-1][2]}")
ok = abs(drift) <= 10 and rows[-1][2] <= fd_base
print("soak:", "flat (within 10 %, fds back to baseline)" if ok else "NOT flat")
EOF
# What the proxy still holds after the load (by peer port and state).
ss -tanp 2>/dev/null | grep "pid=$PID," | awk '{print $1, ($4 ~ /:'"$PROXY"'$/ ? "client" : "backend")}' | sort | uniq -c | sed 's/^/open after the load: /' || true
for f in keepalive close 1m upload; do
  echo "wrk $f: $(grep -E 'Requests/sec' "$OUT/wrk-$f.txt") $(grep -E 'Non-2xx|Socket errors' "$OUT/wrk-$f.txt" | tr '\n' ' ')"
done
