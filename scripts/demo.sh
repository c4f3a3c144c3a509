#!/usr/bin/env bash
# The main job on the bundled fixtures: pack fixtures/sample into a store,
# extract it again and check it is identical, then mount the store, list and
# read a file through the mount, and unmount.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/superchunk-demo.XXXXXX)
mnt="$work/mnt"
cleanup() {
  if mountpoint -q "$mnt" 2>/dev/null; then node dist/src/cli/main.js umount "$mnt" || fusermount -uz "$mnt"; fi
  rm -rf "$work"
}
trap cleanup EXIT
sc() { node dist/src/cli/main.js "$@"; }

echo "== superchunk pack fixtures/sample $work/store"
sc pack fixtures/sample "$work/store"
echo
echo "== superchunk extract $work/store $work/out"
sc extract "$work/store" "$work/out"
diff -r fixtures/sample "$work/out" && echo "extracted tree is identical to fixtures/sample"
echo
echo "== superchunk mount $work/store $mnt"
mkdir "$mnt"
sc mount "$work/store" "$mnt"
ls -l "$mnt" "$mnt/release-1.1/docs"
echo "-- $mnt/README.txt:"
cat "$mnt/README.txt"
diff -r fixtures/sample "$mnt" && echo "mounted tree is identical to fixtures/sample"
echo
echo "== superchunk umount $mnt"
sc umount "$mnt"
echo "done"
