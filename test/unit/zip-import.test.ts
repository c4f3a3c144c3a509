import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { packTree } from "../../src/pack/pack.js";
import { ZIP_LIMITS_DEFAULT } from "../../src/pack/zip-source.js";
import { normalizeZipName } from "../../src/zip/zip-name.js";
import { cli } from "../helpers/cli-capture.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";
import { diffTrees, hasTool, listTree } from "../helpers/zip-tree.js";

test.after(cleanupTmp);

const GOOD = path.resolve("spec/fixtures/good/infozip-tree.zip");
const BAD_DIR = path.resolve("spec/fixtures/bad");

test("zip-import - Info-ZIP zip -> pack -> extract equals the zip's tree", async () => {
  const root = tmpDir("zipimp");
  const store = path.join(root, "store");
  const r = await cli("pack", "--quiet", "--threads", "1", GOOD, store);
  assert.is(r.code, 0, r.err);
  assert.not.ok(fs.existsSync(path.join(store, ".zip-source")), "staging removed");
  assert.equal(fs.readdirSync(root), ["store"], "nothing but the store is left next to it");
  assert.is((await cli("extract", "--quiet", store, path.join(root, "out"))).code, 0);
  const got = listTree(path.join(root, "out"));
  // what the zip says, independently of the system unzip
  assert.equal(got.get("run.sh")?.mode, 0o755);
  assert.equal(got.get("hello.txt")?.mode, 0o640);
  assert.equal(got.get("private")?.mode, 0o750);
  assert.equal(got.get("empty-dir")?.kind, "dir");
  assert.equal(got.get("hello.txt")?.mtime, Date.UTC(2019, 0, 2, 3, 4, 5) / 1000);
  assert.equal(got.get("docs/big.txt")?.mtime, Date.UTC(2021, 2, 4, 5, 6, 7) / 1000);
  assert.equal(got.get("docs/deep")?.mtime, Date.UTC(2019, 0, 2, 3, 4, 5) / 1000);
  assert.equal(got.get("link-to-hello")?.target, "hello.txt");
  assert.equal(got.get("docs/escaping-link")?.target, "../../outside/etc/passwd");
  assert.ok(got.has("ünïcödé.txt"));
  if (!hasTool("unzip")) return;
  const ref = path.join(root, "unzipped");
  fs.mkdirSync(ref);
  const u = spawnSync("unzip", ["-q", GOOD, "-d", ref]);
  assert.is(u.status, 0, u.stderr?.toString());
  assert.equal(diffTrees(listTree(ref), got), []);
});

test("zip-import - every bad fixture fails with the code in its name and leaves nothing", async () => {
  const files = fs.readdirSync(BAD_DIR).filter((f) => f.endsWith(".zip"));
  assert.ok(files.length >= 20, `fixtures: ${files.length}`);
  for (const f of files) {
    const want = /^(E_[A-Z_]+?)-/.exec(f)?.[1];
    assert.ok(want, `${f}: name starts with the code`);
    const root = tmpDir("zipbad");
    const r = await cli(
      "pack",
      "--quiet",
      "--threads",
      "1",
      path.join(BAD_DIR, f),
      path.join(root, "dest"),
    );
    const got = /\[(E_[A-Z_]+)\]\s*(?:Run .*)?$/.exec(r.err.trim())?.[1];
    assert.is(got, want, `${f}: ${r.err}`);
    assert.ok(r.code !== 0, `${f}: exit ${r.code}`);
    assert.ok(r.err.includes(f), `${f}: the message names the zip: ${r.err}`);
    assert.equal(fs.readdirSync(root), [], `${f}: nothing written`);
  }
});

test("zip-import - the code in a bad fixture's name is a real code", async () => {
  const codes = fs.readFileSync(path.resolve("src/errors.ts"), "utf8");
  for (const f of fs.readdirSync(BAD_DIR).filter((x) => x.endsWith(".zip"))) {
    const code = /^(E_[A-Z_]+?)-/.exec(f)?.[1] ?? "";
    assert.ok(codes.includes(`"${code}"`), `${f}: ${code}`);
  }
});

test("zip-import - total size cap", async () => {
  const root = tmpDir("zipcap");
  let code = "none";
  try {
    await packTree(GOOD, path.join(root, "s"), {
      threads: 1,
      zipLimits: { ...ZIP_LIMITS_DEFAULT, maxTotalBytes: 10_000 },
    });
  } catch (e) {
    code = (e as { code: string }).code;
  }
  assert.is(code, "E_ZIP_BOMB");
  assert.equal(fs.readdirSync(root), []);
  const r = await cli("pack", "--quiet", "--zip-max-size", "10K", GOOD, path.join(root, "t"));
  assert.match(r.err, /\[E_ZIP_BOMB\]/);
});

test("zip-import - DOS times and default modes (zip -X, no extended timestamp)", async () => {
  if (!hasTool("zip")) return;
  const root = tmpDir("zipdos");
  const src = path.join(root, "src");
  fs.mkdirSync(path.join(src, "d"), { recursive: true });
  fs.writeFileSync(path.join(src, "d", "f.txt"), "dos time\n");
  fs.chmodSync(path.join(src, "d", "f.txt"), 0o600);
  const even = 1_600_000_000; // an even second: DOS time holds it exactly
  fs.utimesSync(path.join(src, "d", "f.txt"), even, even);
  fs.utimesSync(path.join(src, "d"), even + 2, even + 2);
  const zip = path.join(root, "dos.zip");
  const z = spawnSync("zip", ["-q", "-r", "-X", zip, "d"], { cwd: src });
  assert.is(z.status, 0, z.stderr?.toString());
  const store = path.join(root, "store");
  assert.is((await cli("pack", "--quiet", zip, store)).code, 0);
  assert.is((await cli("extract", "--quiet", store, path.join(root, "out"))).code, 0);
  const got = listTree(path.join(root, "out"));
  assert.equal(got.get("d/f.txt")?.mtime, even);
  assert.equal(got.get("d")?.mtime, even + 2);
  assert.equal(got.get("d/f.txt")?.mode, 0o600);
});

test("zip-import - name normalisation", () => {
  const n = (s: string, host = 3) => {
    const r = normalizeZipName(Buffer.from(s), host, "t.zip");
    return `${r.path.toString()}${r.isDir ? "/" : ""}`;
  };
  assert.is(n("./a//b/"), "a/b/");
  assert.is(n("a/./b.txt"), "a/b.txt");
  assert.is(n("a\\b.txt"), "a\\b.txt", "a backslash is a name byte on unix");
  assert.is(n("a\\b.txt", 0), "a/b.txt", "and a separator on DOS");
  assert.is(n("./"), "/", "an explicit root");
  for (const bad of ["../x", "a/../../x", "/x", "C:x", "\\x", "a/..\\x", "a\0b"]) {
    assert.throws(
      () => n(bad),
      (e: { code: string }) => e.code === "E_PATH_ESCAPE",
      bad,
    );
  }
  assert.throws(
    () => n("."),
    (e: { code: string }) => e.code === "E_PATH_ESCAPE",
  );
});

test.run();
