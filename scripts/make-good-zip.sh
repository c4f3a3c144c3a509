#!/usr/bin/env bash
# Writes spec/fixtures/good/infozip-tree.zip with Debian's Info-ZIP `zip` (3.0): a small
# tree with unix modes, explicit times, nested and empty directories, a non-ASCII name,
# an empty file, symlinks (one whose target leaves the tree: stored, never followed).
# zip -y stores symlinks as links; without -X it writes the 0x5455 extended timestamp.
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/spec/fixtures/good/infozip-tree.zip"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
t="$work/tree"
mkdir -p "$t/docs/deep/er" "$t/empty-dir" "$t/private"
printf 'hello from a zip\n' > "$t/hello.txt"
: > "$t/empty"
for i in $(seq 1 4000); do echo "line $i of a compressible file"; done > "$t/docs/big.txt"
head -c 16000 /dev/urandom > "$t/docs/deep/er/random.bin"
printf '#!/bin/sh\necho hi\n' > "$t/run.sh"
printf 'utf-8 name\n' > "$t/ünïcödé.txt"
printf 'secret\n' > "$t/private/key"
ln -s hello.txt "$t/link-to-hello"
ln -s ../../outside/etc/passwd "$t/docs/escaping-link"
chmod 0755 "$t/run.sh"; chmod 0640 "$t/hello.txt"; chmod 0600 "$t/private/key"
chmod 0750 "$t/private"; chmod 0700 "$t/empty-dir"
TZ=UTC find "$t" -exec touch -h -d '2021-03-04 05:06:07' {} +
TZ=UTC touch -d '2019-01-02 03:04:05' "$t/hello.txt" "$t/docs/deep"
rm -f "$out"
(cd "$t" && zip -q -r -y "$out" .)
echo "wrote $out ($(stat -c %s "$out") bytes)"
