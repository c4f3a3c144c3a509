/**
 * `superchunk ls` (names, -l, -R, --json, a file path, a missing path, read-only on a store
 * directory and an archive) and extract's globs (`*` within a directory, `**` across,
 * literal names first, a pattern matching nothing an error naming it), in-process through
 * the CLI on a small packed tree with a symlink, a hard link, a FIFO and names with a
 * space, a newline and bytes that are not UTF-8.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { modeString } from "../../src/cli/ls-format.js";
import { InodeKind } from "../../src/types.js";
import { cli } from "../helpers/cli-capture.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

const BAD = Buffer.from([0x62, 0x61, 0x64, 0xff]); // "bad" + a byte that is not UTF-8

let fixture: { root: string; src: string; store: string } | undefined;

/** The tree, packed once. */
async function packed() {
  if (fixture) return fixture;
  const root = tmpDir("ls");
  const src = path.join(root, "src");
  const put = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), text);
  };
  put("GL/a.h", "a header");
  put("GL/b.c", "c");
  put("GL/sub/c.h", "deep header");
  put("other/d.h", "d");
  put("lit*.h", "a star in the name");
  put("sp ace", "space");
  put("new\nline", "newline");
  fs.writeFileSync(Buffer.concat([Buffer.from(`${src}/`), BAD]), "raw");
  fs.symlinkSync("GL/a.h", path.join(src, "lnk"));
  fs.linkSync(path.join(src, "GL/a.h"), path.join(src, "hard.h"));
  spawnSync("mkfifo", [path.join(src, "fifo")]);
  fs.chmodSync(path.join(src, "GL/b.c"), 0o4750);
  const store = path.join(root, "store");
  const r = await cli("pack", "--threads", "1", "--quiet", src, store);
  assert.is(r.code, 0, r.err);
  fixture = { root, src, store };
  return fixture;
}

/** name, size and mtime of every file below `dir`: what a write would change. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of fs.readdirSync(d).sort()) {
      const st = fs.lstatSync(path.join(d, n));
      out.push(`${path.relative(dir, path.join(d, n))} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(path.join(d, n));
    }
  };
  walk(dir);
  return out;
}

test("ls - names one a line, sorted by bytes, never writing the store", async () => {
  const { store } = await packed();
  const before = snapshot(store);
  const r = await cli("ls", store);
  assert.is(r.code, 0, r.err);
  const names = ["GL", "other", "lit*.h", "sp ace", "new\nline", "lnk", "hard.h", "fifo"]
    .map((n) => Buffer.from(n))
    .concat(BAD)
    .sort(Buffer.compare);
  assert.is(r.out, names.map((n) => `${n.toString()}\n`).join(""));
  assert.equal((await cli("ls", store, "/GL/")).out, "a.h\nb.c\nsub\n");
  assert.equal(snapshot(store), before, "ls changed the store directory");
});

test("ls -l - mode, links, ids, size, time, name and symlink target", async () => {
  const { store, src } = await packed();
  const r = await cli("ls", "-l", store);
  assert.is(r.code, 0, r.err);
  const line = (name: string) => r.out.split("\n").find((l) => l.endsWith(` ${name}`)) ?? "";
  const uid = fs.statSync(src).uid;
  assert.match(
    line("GL"),
    new RegExp(`^drwxr-xr-x +3 ${uid} +\\d+ +\\d+ \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d GL$`),
  );
  assert.match(line("hard.h"), /^-rw-r--r-- +2 .* 8 \d{4}-/);
  assert.match(r.out, /\nlrwxrwxrwx +1 .* 6 [0-9: -]+ lnk -> GL\/a\.h\n/);
  assert.match(line("fifo"), /^prw/);
  const gl = await cli("ls", "-l", store, "GL");
  assert.match(gl.out, /^-rwsr-x--- +1 .* b\.c$/m);
  // a file path lists that one entry, by the path given
  const one = await cli("ls", "-l", store, "GL/a.h");
  assert.match(one.out, /^-rw-r--r-- +2 .* 8 .* GL\/a\.h\n$/);
});

test("ls -R and --json - every path below, types, raw names, times", async () => {
  const { store, src } = await packed();
  const rec = await cli("ls", "-R", store, "GL");
  assert.is(rec.out, "a.h\nb.c\nsub\nsub/c.h\n");
  const r = await cli("ls", "--json", "-R", store);
  assert.is(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  assert.is(doc.version, 1);
  assert.is(doc.store, store);
  const by = new Map<string, Record<string, unknown>>(
    doc.entries.map((e: { path: string }) => [e.path, e]),
  );
  assert.is(by.get("GL")?.type, "dir");
  assert.is(by.get("GL/sub/c.h")?.type, "file");
  assert.is(by.get("GL/sub/c.h")?.name, "c.h");
  assert.is(by.get("GL/sub/c.h")?.size, 11);
  assert.is(by.get("lnk")?.type, "symlink");
  assert.is(by.get("lnk")?.target, "GL/a.h");
  assert.is(by.get("fifo")?.type, "other");
  assert.is(by.get("hard.h")?.nlink, 2);
  assert.is(by.get("GL/b.c")?.mode, 0o4750);
  assert.is(by.get("new\nline")?.type, "file");
  const st = fs.statSync(path.join(src, "GL/sub/c.h"), { bigint: true });
  assert.is(by.get("GL/sub/c.h")?.mtimeNs, st.mtimeNs.toString());
  assert.is(by.get("GL/sub/c.h")?.mtime, new Date(Number(st.mtimeNs / 1_000_000n)).toISOString());
  const raw = doc.entries.find((e: { rawName?: string }) => e.rawName !== undefined);
  assert.ok(raw, "the name that is not UTF-8 comes as base64 too");
  assert.ok(Buffer.from(raw.rawName, "base64").equals(BAD));
  assert.is(by.get("sp ace")?.rawName, undefined);
});

test("ls - a missing path is E_NOT_FOUND naming it; an archive lists the same", async () => {
  const { store, root } = await packed();
  const r = await cli("ls", store, "GL/nope");
  assert.is(r.code, 1);
  assert.match(r.err, /GL\/nope: not in the store .*\[E_NOT_FOUND\]/);
  const zip = path.join(root, "store.zip");
  assert.is((await cli("seal", store, zip)).code, 0);
  const size = fs.statSync(zip).size;
  assert.is((await cli("ls", zip, "GL")).out, "a.h\nb.c\nsub\n");
  assert.is(fs.statSync(zip).size, size);
  assert.is((await cli("ls", path.join(root, "none"))).code, 1);
});

test("ls - mode strings with set-id and sticky bits", () => {
  assert.is(modeString(InodeKind.file, 0o4755), "-rwsr-xr-x");
  assert.is(modeString(InodeKind.file, 0o4644), "-rwSr--r--");
  assert.is(modeString(InodeKind.dir, 0o1777), "drwxrwxrwt");
  assert.is(modeString(InodeKind.dir, 0o2750), "drwxr-s---");
  assert.is(modeString(InodeKind.chardev, 0o600), "crw-------");
});

/** Every path below `dir` on disk. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const n of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      out.push(r);
      if (fs.lstatSync(path.join(dir, r)).isDirectory()) walk(r);
    }
  };
  walk("");
  return out;
}

test("extract - '*' within a directory, '**' across, literal names first", async () => {
  const { store, root } = await packed();
  const one = path.join(root, "x1");
  assert.is((await cli("extract", "--quiet", store, one, "GL/*.h")).code, 0);
  assert.equal(files(one), ["GL", "GL/a.h"]);
  const all = path.join(root, "x2");
  assert.is((await cli("extract", "--quiet", store, all, "**/*.h", "GL/s*")).code, 0);
  assert.equal(files(all), [
    "GL",
    "GL/a.h",
    "GL/sub",
    "GL/sub/c.h",
    "hard.h",
    "lit*.h",
    "other",
    "other/d.h",
  ]);
  assert.is(fs.statSync(path.join(all, "hard.h")).ino, fs.statSync(path.join(all, "GL/a.h")).ino);
  const lit = path.join(root, "x3");
  assert.is((await cli("extract", "--quiet", store, lit, "lit*.h")).code, 0);
  assert.equal(files(lit), ["lit*.h"], "a name in the store is taken literally");
});

test("extract - a pattern matching nothing is E_NOT_FOUND naming it, nothing written", async () => {
  const { store, root } = await packed();
  const dest = path.join(root, "none");
  const r = await cli("extract", store, dest, "GL/*.h", "GL/*.zz");
  assert.is(r.code, 1);
  assert.match(r.err, /GL\/\*\.zz: not found in the store.*\[E_NOT_FOUND\]/);
  assert.not.ok(fs.existsSync(dest));
  const lit = await cli("extract", store, dest, "GL/none.h");
  assert.match(lit.err, /GL\/none\.h: not in the store \[E_NOT_FOUND\]/);
  const zip = await cli("extract", "--zip", store, path.join(root, "o.zip"), "other/*");
  assert.is(zip.code, 0, zip.err);
});

test.run();
