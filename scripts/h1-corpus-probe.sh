#!/usr/bin/env bash
# Replays the HTTP/1 smuggling corpora (../shared/security) through TrafficCop and fails on any
# invariant violation (never forward CL+TE, bare CR/LF, NUL, smuggled requests, ...).
set -euo pipefail
BIN="$1"
SHARED="$2"
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"
port=$(free_port)
origin=$(free_port)
cat > "$work/traefik.yml" <<YML
entryPoints:
  web:
    address: "127.0.0.1:$port"
providers:
  file: {filename: "$work/dyn.yml", watch: false}
YML
cat > "$work/dyn.yml" <<YML
http:
  routers:
    all: {rule: "PathPrefix(\`/\`)", service: origin}
  services:
    origin:
      loadBalancer:
        servers: [{url: "http://127.0.0.1:$origin"}]
YML
"$BIN" --configFile="$work/traefik.yml" > "$work/proxy.log" 2>&1 &
pid=$!
wait_port "$port" || true
# The http-garden set is not in ../shared (license); the other three are.
python3 "$SHARED/security/tools/h1_corpus_probe.py" --proxy-port "$port" --origin-port "$origin" \
  --corpora "$SHARED/security/corpora" --sets guardian,portswigger,defparam --check > "$work/probe.jsonl" 2> "$work/probe.err" || {
  cat "$work/probe.err"
  python3 - "$work/probe.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["violations"]:
        print("VIOLATION", d["case"], d["status"], d["violations"])
PY
  exit 1
}
tail -1 "$work/probe.err"
