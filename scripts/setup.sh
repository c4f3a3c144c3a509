#!/usr/bin/env bash
# Installs what superchunk needs on a Debian machine with Node 20: the FUSE
# runtime and headers (libfuse3-3, fuse3, libfuse3-dev) and a C toolchain from Debian
# when missing, the npm dependencies (which build the native FUSE binding), and
# the build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
ldconfig -p 2>/dev/null | grep -q 'libfuse3\.so\.3' || need+=(libfuse3-3)
# fusermount3 mounts and unmounts for users other than root
command -v fusermount3 >/dev/null 2>&1 || need+=(fuse3)
command -v mkfifo >/dev/null 2>&1 || need+=(coreutils)
# the native FUSE binding (binding.gyp) builds against libfuse3's headers (pkg-config fuse3)
[ -f /usr/include/fuse3/fuse.h ] || need+=(libfuse3-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 || need+=(build-essential)
# tools the test suite drives: a web server for archives over HTTP, Info-ZIP for zip
# interchange, fio for the read-write mount, Chromium to render the stats report
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
command -v zip >/dev/null 2>&1 || need+=(zip)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v fio >/dev/null 2>&1 || need+=(fio)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# a throwaway single-node Ceph (mon, OSD, RADOS Gateway) for the S3 store tests
command -v ceph-mon >/dev/null 2>&1 || need+=(ceph-mon)
command -v ceph-osd >/dev/null 2>&1 || need+=(ceph-osd)
command -v radosgw >/dev/null 2>&1 || need+=(radosgw)
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]} from Debian packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
  || [ ! -f build/Release/superchunk_fuse.node ]; then
  echo "setup: installing npm dependencies (native modules build from source, ~2 min)"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: building"
npm run build --silent
echo "setup: done"
