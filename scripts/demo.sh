#!/usr/bin/env bash
# The main job on the bundled fixtures: pack fixtures/sample into a store,
# extract it again and check the result is identical.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/superchunk-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
sc() { node dist/src/cli/main.js "$@"; }

echo "== superchunk pack fixtures/sample $work/store"
sc pack fixtures/sample "$work/store"
echo
echo "== superchunk extract $work/store $work/out"
sc extract "$work/store" "$work/out"
diff -r fixtures/sample "$work/out" && echo "extracted tree is identical to fixtures/sample"
