#!/usr/bin/env bash
# Installs what superchunk needs on a Debian machine with Node 20: the FUSE
# runtime (libfuse2, fuse) from Debian when missing, the npm dependencies, and the
# build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
ldconfig -p 2>/dev/null | grep -q 'libfuse\.so\.2' || need+=(libfuse2)
command -v fusermount >/dev/null 2>&1 || need+=(fuse)
command -v mkfifo >/dev/null 2>&1 || need+=(coreutils)
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]} from Debian packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (native modules build from source, ~2 min)"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: building"
npm run build --silent
echo "setup: done"
