#!/usr/bin/env bash
# Installs what superchunk needs in a checkout on a Debian machine, then builds it:
#   - fuse3 (libfuse 3 and fusermount3), which only `mount` uses;
#   - the npm dependencies (npm ci) and the TypeScript build (dist/);
#   - the native FUSE binding, compiled (with libfuse3-dev, pkg-config and a C toolchain) only
#     when the checkout has no build of it yet: build/Release or prebuilds/linux-x64/.
# A C toolchain is also installed before `npm ci`: the native npm dependencies compile from
# source when their prebuilt downloads cannot be reached.
# With --tests it also installs the programs only the test suite drives (see below).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=0
for arg in "$@"; do
  case "$arg" in
    --tests) tests=1 ;;
    -h | --help)
      echo "usage: bash scripts/setup.sh [--tests]   (--tests: also the tools the test suite drives)"
      exit 0
      ;;
    *)
      echo "setup: unknown option $arg (usage: bash scripts/setup.sh [--tests])" >&2
      exit 2
      ;;
  esac
done

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
has() { command -v "$1" >/dev/null 2>&1; }

npm_needed=0
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm_needed=1
fi
binding_needed=1
if [ -f build/Release/superchunk_fuse.node ] || compgen -G "prebuilds/linux-x64/*.node" >/dev/null; then
  binding_needed=0
fi

need=()
# the tool: libfuse 3 and fusermount3 for `mount` (pack, extract and the rest need neither)
# (grep without -q: an early exit would fail the pipeline with SIGPIPE under pipefail)
ldconfig -p 2>/dev/null | grep 'libfuse3\.so\.3' >/dev/null || need+=(libfuse3-3)
has fusermount3 || need+=(fuse3)
has mkfifo || need+=(coreutils)
if [ "$npm_needed" = 1 ] || [ "$binding_needed" = 1 ]; then
  has make && has g++ || need+=(build-essential)
  has python3 || need+=(python3)
fi
if [ "$binding_needed" = 1 ]; then
  [ -f /usr/include/fuse3/fuse.h ] || need+=(libfuse3-dev)
  has pkg-config || need+=(pkg-config)
fi
if [ "$tests" = 1 ]; then
  # the tests: a web server for archives over HTTP, Info-ZIP for zip interchange, fio for
  # the read-write mount, Chromium to render the stats report, and a throwaway single-node
  # Ceph (mon, OSD, RADOS Gateway) for the S3 store
  has nginx || need+=(nginx-light)
  has zip || need+=(zip)
  has unzip || need+=(unzip)
  has fio || need+=(fio)
  has chromium || need+=(chromium)
  has ceph-mon || need+=(ceph-mon)
  has ceph-osd || need+=(ceph-osd)
  has radosgw || need+=(radosgw)
fi
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]} from Debian packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ "$npm_needed" = 1 ]; then
  echo "setup: installing npm dependencies (native modules may build from source, ~2 min)"
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ "$binding_needed" = 1 ]; then
  echo "setup: building the native FUSE binding"
  npm run build:native --silent >/dev/null
fi
echo "setup: building"
npm run build --silent
echo "setup: done"
