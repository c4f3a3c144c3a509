#!/usr/bin/env bash
# The main job on the bundled fixtures: pack fixtures/sample into a store,
# extract it again and check it is identical, then mount the store, list and
# read a file through the mount (read-only, the default), remount it read-write
# (-w) and write a copy of a file into it, unmount, and check the copy through a
# read-only mount; finally
# seal the store into one zip archive and mount that.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/superchunk-demo.XXXXXX)
mnt="$work/mnt"
cleanup() {
  if mountpoint -q "$mnt" 2>/dev/null; then node dist/src/cli/main.js umount "$mnt" || fusermount3 -uz "$mnt" || fusermount -uz "$mnt" || umount -l "$mnt"; fi
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
sc umount "$mnt"
echo
echo "== superchunk mount -w $work/store $mnt"
sc mount -w "$work/store" "$mnt"
cp "$mnt/README.txt" "$mnt/README-copy.txt"
echo "wrote README-copy.txt through the read-write mount"
echo
echo "== superchunk umount $mnt"
sc umount "$mnt"
echo
echo "== superchunk mount $work/store $mnt"
sc mount "$work/store" "$mnt"
cmp "$mnt/README-copy.txt" fixtures/sample/README.txt && echo "the copy written before is there"
sc umount "$mnt"
echo
echo "== superchunk seal $work/store $work/sample.zip"
sc seal "$work/store" "$work/sample.zip"
sc mount "$work/sample.zip" "$mnt"
diff -r -x README-copy.txt fixtures/sample "$mnt" && echo "the archive mounts as the same tree"
sc umount "$mnt"
echo "done"
