/**
 * pack's selection of what it stores: --exclude (names at any depth, paths from the
 * source root, directories not read), --exclude-from, --one-file-system over a real
 * tmpfs mount, several sources under their base names, and a store never packed into
 * itself when it lies inside its own source. Checked through the CLI and by listing the
 * stores made.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { listStore } from "../../src/export/list-store.js";
import { excludeMatcher, patternLines } from "../../src/glob/path-glob.js";
import { packTree } from "../../src/pack/pack.js";
import { cli } from "../helpers/cli-capture.js";
import { cleanupTmp, IS_ROOT, tmpDir } from "../helpers/tree.js";
import { hasTool } from "../helpers/zip-tree.js";

test.after(cleanupTmp);

/** Every path of the store, from its root, as ls -R lists them. */
async function walkStore(store: string): Promise<string[]> {
  const r = await listStore(store, "", { recursive: true });
  return r.entries.map((e) => e.path.toString());
}

/** A small source: code, objects, a node_modules with objects inside, a build dir. */
function source(root: string, name = "src"): string {
  const src = path.join(root, name);
  const files: Record<string, string> = {
    "main.c": "int main;",
    "main.o": "obj",
    "lib/util.c": "util",
    "lib/util.o": "obj2",
    "lib/deep/x.tmp": "tmp",
    "node_modules/pkg/index.js": "js",
    "node_modules/pkg/native.o": "obj3",
    "build/out.bin": "out",
    "build/keep/log": "log",
    "docs/build/page": "page",
    "cache/c": "c",
    "notes/cache": "a file named cache",
  };
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), text);
  }
  return src;
}

test("exclude - names at any depth, paths from the root, directories only with '/'", () => {
  const m = excludeMatcher(["*.o", "build/*", "/docs", "cache/", "lib/**/*.tmp"])!;
  const t = (rel: string, isDir = false) => m({ rel, name: path.posix.basename(rel), isDir });
  assert.ok(t("main.o") && t("a/b/c.o"), "name pattern at any depth");
  assert.ok(t("build/out.bin") && !t("build") && !t("docs/build/x"), "path pattern anchored");
  assert.ok(t("docs", true) && !t("x/docs", true), "leading '/' anchors a name");
  assert.ok(t("cache", true) && t("a/cache", true) && !t("notes/cache"), "'/' = dirs only");
  assert.ok(t("lib/deep/x.tmp") && t("lib/x.tmp") && !t("x.tmp"), "'**' crosses dirs");
  assert.ok(t(".hidden.o"), "dot names match");
  assert.is(excludeMatcher(["", "  "]), undefined);
  assert.equal(patternLines("# comment\n*.o\n\n  # indented\r\nbuild/\r\n \n"), ["*.o", "build/"]);
});

test("pack --exclude - left out, counted, excluded directories not read", async () => {
  const root = tmpDir("excl");
  const src = source(root);
  const store = path.join(root, "store");
  const r = await cli(
    "pack",
    "--threads",
    "1",
    "--json",
    "--exclude",
    "*.o",
    "--exclude",
    "node_modules",
    "--exclude",
    "build/*",
    src,
    store,
  );
  assert.is(r.code, 0, r.err);
  const paths = await walkStore(store);
  for (const gone of ["main.o", "lib/util.o", "node_modules", "build/out.bin", "build/keep"])
    assert.not.ok(paths.includes(gone), gone);
  for (const kept of ["main.c", "lib/util.c", "build", "docs/build/page", "notes/cache"])
    assert.ok(paths.includes(kept), kept);
  // main.o, lib/util.o, node_modules, build/out.bin, build/keep: had node_modules been
  // read, its native.o would count too
  assert.is(JSON.parse(r.out).excludedCount, 5);
  const text = await cli("pack", "--threads", "1", "--exclude", "*.o", src, `${store}2`);
  assert.match(text.out, /, 3 excluded\)/);
});

test("pack --exclude-from - one pattern a line, comments and blank lines skipped", async () => {
  const root = tmpDir("exfrom");
  const src = source(root);
  const list = path.join(root, "excludes");
  fs.writeFileSync(list, "# objects\n*.o\n\n   # caches\ncache/\nlib/**/*.tmp\n");
  const store = path.join(root, "store");
  const r = await cli("pack", "--threads", "1", "--exclude-from", list, src, store);
  assert.is(r.code, 0, r.err);
  const paths = await walkStore(store);
  for (const gone of ["main.o", "node_modules/pkg/native.o", "cache", "lib/deep/x.tmp"])
    assert.not.ok(paths.includes(gone), gone);
  assert.ok(paths.includes("notes/cache") && paths.includes("lib/deep"));
  const missing = await cli("pack", "--exclude-from", path.join(root, "nope"), src, `${store}2`);
  assert.is(missing.code, 2);
  assert.match(missing.err, /--exclude-from: .*nope: not found/);
});

(hasTool("zip") ? test : test.skip)("pack --exclude - applies to a zip source too", async () => {
  const root = tmpDir("exzip");
  const src = source(root);
  const zip = path.join(root, "src.zip");
  assert.is(spawnSync("zip", ["-qr", zip, "."], { cwd: src }).status, 0);
  const store = path.join(root, "store");
  const r = await cli("pack", "--threads", "1", "--exclude", "*.o", zip, store);
  assert.is(r.code, 0, r.err);
  const paths = await walkStore(store);
  assert.ok(paths.includes("main.c"));
  assert.not.ok(paths.some((p) => p.endsWith(".o")));
});

test("pack - several sources each under their base name; one base name twice refused", async () => {
  const root = tmpDir("multi");
  const one = source(root, "one");
  const two = source(path.join(root, "sub"), "two");
  const file = path.join(root, "single.txt");
  fs.writeFileSync(file, "alone");
  const store = path.join(root, "store");
  const r = await cli("pack", "--threads", "1", "--exclude", "*.o", two, file, one, store);
  assert.is(r.code, 0, r.err);
  const paths = await walkStore(store);
  assert.equal(
    paths.filter((p) => !p.includes("/")),
    ["one", "single.txt", "two"],
  );
  assert.ok(paths.includes("one/lib/util.c") && paths.includes("two/docs/build/page"));
  assert.not.ok(paths.includes("two/main.o"), "excludes apply to every source");
  const out = path.join(root, "out");
  assert.is((await cli("extract", store, out)).code, 0);
  assert.is(fs.readFileSync(path.join(out, "single.txt"), "utf8"), "alone");
  assert.is(fs.readFileSync(path.join(out, "two", "lib", "util.c"), "utf8"), "util");

  const other = source(path.join(root, "elsewhere"), "one");
  const dup = await cli("pack", one, other, path.join(root, "store2"));
  assert.is(dup.code, 2);
  assert.match(dup.err, /two sources named "one".*\[E_USAGE\]/);
  assert.not.ok(fs.existsSync(path.join(root, "store2")));
});

test("pack - a store inside its own source never stores itself", async () => {
  const root = tmpDir("self");
  const src = source(root);
  // a directory store, an archive (built through a temporary store beside it), and an
  // empty directory given as the destination, all inside the source
  fs.mkdirSync(path.join(src, "dest"));
  for (const dest of ["self.sc", "self.zip", "dest"]) {
    const r = await cli("pack", "--threads", "1", src, path.join(src, dest));
    assert.is(r.code, 0, r.err);
    const top = (await walkStore(path.join(src, dest))).filter((p) => !p.includes("/"));
    assert.not.ok(
      top.some((p) => p.startsWith(".") || p === dest),
      `${dest} holds ${top.join(" ")}`,
    );
  }
  // the second and third packs did store the earlier stores: they are ordinary entries then
  const names = await walkStore(path.join(src, "dest"));
  assert.ok(names.includes("self.sc") && names.includes("self.zip"));
  assert.not.ok(names.some((p) => p.includes(".partial") || p.includes(".store-")));
});

const MOUNT = IS_ROOT && spawnSync("mount", ["--version"]).status === 0;

(MOUNT ? test : test.skip)(
  "pack --one-file-system - a mount inside the source is left out",
  async () => {
    const root = tmpDir("onefs");
    const src = source(root);
    const mnt = path.join(src, "mnt");
    fs.mkdirSync(mnt);
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "none", mnt]);
    assert.is(m.status, 0, m.stderr.toString());
    try {
      fs.writeFileSync(path.join(mnt, "on-tmpfs"), "other fs");
      const crossed = await packTree(src, path.join(root, "crossed"), { threads: 1 });
      assert.ok((await walkStore(path.join(root, "crossed"))).includes("mnt/on-tmpfs"));
      assert.is(crossed.excluded, 0);
      const r = await cli(
        "pack",
        "--threads",
        "1",
        "--json",
        "--one-file-system",
        src,
        `${root}/s`,
      );
      assert.is(r.code, 0, r.err);
      const paths = await walkStore(`${root}/s`);
      assert.not.ok(paths.includes("mnt") || paths.includes("mnt/on-tmpfs"));
      assert.ok(paths.includes("lib/util.c"));
      assert.is(JSON.parse(r.out).excludedCount, 1);
    } finally {
      const u = spawnSync("umount", [mnt]);
      if (u.status !== 0) spawnSync("umount", ["-l", mnt]);
    }
  },
);

test.run();
