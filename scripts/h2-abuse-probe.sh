#!/usr/bin/env bash
# Runs ../shared/security/tools/h2_abuse.py (rapid reset, MadeYouReset, CONTINUATION and HPACK
# floods, SETTINGS/PING/empty-DATA floods, window overflow, malformed HTTP/2 -> HTTP/1) against
# TrafficCop over h2c and over TLS+ALPN h2, with --check, then checks that the process is alive
# and that its peak memory stayed bounded.
set -euo pipefail
BIN="$1"
SHARED="$2"
work=$(mktemp -d)
trap 'kill "$pid" "$origin_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"
plain=$(free_port); secure=$(free_port); origin=$(free_port)
python3 - "$origin" > /dev/null 2>&1 <<'PY' &
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        n = 1 << 20 if self.path.startswith("/big") else 2
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n + b"x" * n)
    do_POST = do_GET
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 128
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
origin_pid=$!
cat > "$work/traefik.yml" <<YML
entryPoints:
  web: {address: "127.0.0.1:$plain"}
  websecure: {address: "127.0.0.1:$secure"}
providers:
  file: {filename: "$work/dyn.yml", watch: false}
YML
cat > "$work/dyn.yml" <<YML
http:
  routers:
    plain: {rule: "PathPrefix(\`/\`)", service: origin}
    secure: {rule: "PathPrefix(\`/\`)", service: origin, tls: {}}
  services:
    origin:
      loadBalancer:
        servers: [{url: "http://127.0.0.1:$origin"}]
YML
"$BIN" --configFile="$work/traefik.yml" > "$work/proxy.log" 2>&1 &
pid=$!
for port in "$plain" "$secure" "$origin"; do
  wait_port "$port" || true
done
status=0
python3 "$SHARED/security/tools/h2_abuse.py" --port "$plain" --n 5000 --check > "$work/h2c.jsonl" || status=1
python3 "$SHARED/security/tools/h2_abuse.py" --port "$secure" --tls --n 5000 --check > "$work/tls.jsonl" || status=1
if [ "$status" != 0 ]; then
  grep -h '"ok": false' "$work/h2c.jsonl" "$work/tls.jsonl" || true
  echo "h2 abuse probe: FAILED"
  exit 1
fi
kill -0 "$pid" || { echo "h2 abuse probe: TrafficCop died"; exit 1; }
peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
cpu=$(ps -o time= -p "$pid")
scenarios=$(cat "$work/h2c.jsonl" "$work/tls.jsonl" | grep -c '"ok": true')
echo "h2 abuse probe: $scenarios scenarios ok (h2c and TLS), process alive, peak RSS ${peak} KiB, CPU $cpu"
if [ "$peak" -gt 65536 ]; then
  echo "h2 abuse probe: peak RSS above 64 MiB"
  exit 1
fi
