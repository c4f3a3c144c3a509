import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ZipEntries } from "../../src/zip/zip-entries.js";
import { cli } from "../helpers/cli-capture.js";
import { cleanupTmp, seededBytes, tmpDir } from "../helpers/tree.js";
import { diffTrees, hasTool, listTree } from "../helpers/zip-tree.js";

test.after(cleanupTmp);

/** A tree of everything zip can hold, with odd-second times and unusual modes. */
function makeTree(root: string): void {
  const p = (...s: string[]) => path.join(root, ...s);
  fs.mkdirSync(p("docs", "deep"), { recursive: true });
  fs.mkdirSync(p("empty-dir"));
  fs.mkdirSync(p("locked"));
  fs.writeFileSync(p("hello.txt"), "hello\n");
  fs.writeFileSync(p("empty"), "");
  fs.writeFileSync(p("docs", "big.bin"), seededBytes(5 * 1024 * 1024 + 77, 9)); // > one 4 MiB read
  fs.writeFileSync(p("docs", "deep", "text.txt"), "some text\n".repeat(5000));
  fs.writeFileSync(p("locked", "ro.txt"), "read only\n");
  fs.writeFileSync(p("run.sh"), "#!/bin/sh\n");
  fs.writeFileSync(p("ünï.txt"), "utf-8\n");
  fs.symlinkSync("hello.txt", p("link"));
  fs.symlinkSync("../../../etc/passwd", p("docs", "escaping"));
  fs.chmodSync(p("run.sh"), 0o750);
  fs.chmodSync(p("locked", "ro.txt"), 0o444);
  fs.chmodSync(p("locked"), 0o555);
  fs.chmodSync(p("empty-dir"), 0o700);
  let t = 1_500_000_001; // odd seconds: DOS time cannot hold them, the 0x5455 field can
  for (const f of ["hello.txt", "empty", "docs/big.bin", "docs/deep/text.txt", "run.sh"]) {
    fs.utimesSync(p(f), t, t);
    t += 3;
  }
  for (const d of ["docs/deep", "docs", "empty-dir", "locked/ro.txt", "locked"]) {
    fs.utimesSync(p(d), t, t);
    t += 3;
  }
}

async function packed(tag: string) {
  const root = tmpDir(tag);
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeTree(src);
  const store = path.join(root, "store");
  const r = await cli("pack", "--quiet", "--threads", "1", src, store);
  assert.is(r.code, 0, r.err);
  return { root, src, store };
}

test("zip-export - round trip through the system unzip and through pack", async () => {
  const { root, src, store } = await packed("zipexp");
  const zip = path.join(root, "tree.zip");
  const r = await cli("extract", "--zip", "--quiet", store, zip);
  assert.is(r.code, 0, r.err);
  assert.equal(fs.readdirSync(root).sort(), ["src", "store", "tree.zip"], "no temp file left");
  const want = listTree(src);
  if (hasTool("unzip")) {
    const out = path.join(root, "unzipped");
    const u = spawnSync("unzip", ["-q", zip, "-d", out]);
    assert.is(u.status, 0, u.stderr?.toString());
    // unzip reads times from local headers, where yazl writes only DOS time (2 s steps)
    assert.equal(diffTrees(want, listTree(out), 1), []);
  }
  // our own import reads the central 0x5455 field: exact to the second
  const again = path.join(root, "again");
  assert.is((await cli("pack", "--quiet", "--threads", "1", zip, again)).code, 0);
  const back = path.join(root, "back");
  assert.is((await cli("extract", "--quiet", again, back)).code, 0);
  assert.equal(diffTrees(want, listTree(back)), []);
});

test("zip-export - entries are deflated files, unix modes, symlinks, directories", async () => {
  const { root, store } = await packed("zipent");
  const zip = path.join(root, "t.zip");
  assert.is((await cli("extract", "--zip", "--quiet", store, zip)).code, 0);
  const z = await ZipEntries.open(zip);
  try {
    const byName = new Map(z.entries.map((e) => [e.path.toString(), e]));
    assert.is(byName.get("docs/deep/text.txt")?.kind, "file");
    assert.ok(byName.get("docs/deep/text.txt")!.compressedSize < 50_000 / 10, "deflated");
    assert.is(byName.get("link")?.kind, "symlink");
    assert.is(byName.get("empty-dir")?.kind, "dir");
    assert.is(byName.get("run.sh")?.mode, 0o750);
    assert.not.ok(byName.has(""), "no root entry");
  } finally {
    z.close();
  }
});

test("zip-export - selected paths only, with their parent directories", async () => {
  const { root, store } = await packed("zipsel");
  const zip = path.join(root, "sel.zip");
  assert.is((await cli("extract", "--zip", "--quiet", store, zip, "docs/deep")).code, 0);
  const z = await ZipEntries.open(zip);
  const names = z.entries.map((e) => e.path.toString()).sort();
  z.close();
  assert.equal(names, ["docs", "docs/deep", "docs/deep/text.txt"]);
});

test("zip-export - refuses to overwrite without --force", async () => {
  const { root, store } = await packed("zipforce");
  const zip = path.join(root, "x.zip");
  fs.writeFileSync(zip, "precious");
  const r = await cli("extract", "--zip", "--quiet", store, zip);
  assert.is(r.code, 2);
  assert.match(r.err, /\[E_DEST_EXISTS\]/);
  assert.is(fs.readFileSync(zip, "utf8"), "precious");
  assert.is((await cli("extract", "--zip", "--quiet", "--force", store, zip)).code, 0);
  const z = await ZipEntries.open(zip);
  assert.ok(z.entries.length > 5);
  z.close();
  const dir = await cli("extract", "--zip", "--quiet", "--force", store, path.join(root, "src"));
  assert.match(dir.err, /\[E_DEST_EXISTS\]/, "never replaces a directory");
});

test("zip-export - a FIFO is skipped with a warning", async () => {
  const root = tmpDir("zipfifo");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, "a.txt"), "a");
  if (spawnSync("mkfifo", [path.join(src, "fifo")]).status !== 0) return;
  const store = path.join(root, "store");
  assert.is((await cli("pack", "--quiet", src, store)).code, 0);
  const r = await cli("extract", "--zip", "--quiet", store, path.join(root, "f.zip"));
  assert.is(r.code, 3, r.err);
  assert.match(r.err, /fifo.*\[E_UNSUPPORTED\]/);
});

test.run();
