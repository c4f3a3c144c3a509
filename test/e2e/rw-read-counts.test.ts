/**
 * The requests a read-only walk and copy of a read-write mount send to JS, counted by the
 * mount's op stats (never timed), through a real mount made as `mount -w` makes it
 * (mountWritable): directories open and close in the binding (no opendir or releasedir),
 * listings carry their entries' attributes (no lookup, which the binding serves as a
 * getattr, per entry of a `find`), files open read-only in the binding (no open, release
 * or flush), a walk's reads of the files after the first are answered by the binding from
 * files handed to it, and so are the stats the kernel sends after each read (it drops the
 * atime on a writable mount). The bytes served are the packed tree's. A file's st_blksize is the mount's largest write, so cp
 * writes in requests of that size. Shell tools run as child processes, so this process
 * stays free to answer the kernel.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import type { FuseMount } from "../../src/fuse/fuse-mount.js";
import { packTree } from "../../src/pack/pack.js";
import { withRwMount } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { seededBytes, tmpDir } from "../helpers/tree.js";

const run = promisify(execFile);
const fuse = suiteNeeding("rw-read-counts", ["fuse"]);
const test = fuse.test;

const DIRS = 8;
const FILES = 30;

let src = "";
let store = "";

test.before(async () => {
  if (fuse.skip) return;
  src = tmpDir("rw-counts-src");
  for (let d = 0; d < DIRS; d++) {
    const dir = path.join(src, `d${d}`);
    fs.mkdirSync(dir);
    for (let f = 0; f < FILES; f++) {
      fs.writeFileSync(path.join(dir, `f${f}`), seededBytes(300 + f * 11, d * FILES + f));
    }
  }
  store = path.join(tmpDir("rw-counts-store"), "store");
  await packTree(src, store, { threads: 1 });
});

const count = (m: FuseMount, op: string) => m.opStats().ops.find((o) => o.op === op)?.count ?? 0;

test("rw-read-counts - find and cat: no opendir, no lookup per entry, no open, no flush", () =>
  withRwMount(store, "rw-counts", async (m, mnt) => {
    const { stdout } = await run("find", [mnt, "-printf", "%P %i %s %m\\n"]);
    assert.is(stdout.trim().split("\n").length, 1 + DIRS + DIRS * FILES, "find saw every entry");
    assert.is(count(m, "opendir"), 0, "directories open in the binding");
    assert.is(count(m, "releasedir"), 0);
    const lookups = count(m, "getattr");
    assert.ok(lookups <= DIRS + 2, `${lookups} getattr for ${DIRS * FILES} entries`);
    // read every file of one directory through cat: opened and closed in the binding
    const dir = path.join(mnt, "d3");
    const { stdout: bytes } = await run("sh", ["-c", `cat ${dir}/* | wc -c`]);
    let want = 0;
    for (let f = 0; f < FILES; f++) want += fs.statSync(path.join(src, "d3", `f${f}`)).size;
    assert.is(Number(bytes.trim()), want);
    assert.is(count(m, "open"), 0, "opens for reading are answered by the binding");
    assert.is(count(m, "release"), 0);
    assert.is(count(m, "flush"), 0, "a read-only close sends no flush");
    await run("cmp", [path.join(src, "d3", "f7"), path.join(mnt, "d3", "f7")]);
    // fsync of a file open for reading: everything is made durable
    await run("sync", [path.join(mnt, "d3", "f7")]);
    assert.is(count(m, "fsync"), 1);
  }));

test("rw-read-counts - tar: the binding answers the walk's reads and the stats after them", () =>
  withRwMount(store, "rw-counts-tar", async (m, mnt) => {
    const { stdout } = await run("sh", ["-c", `tar cf - -C ${mnt} . | wc -c`]);
    assert.ok(Number(stdout.trim()) > DIRS * FILES * 300, "tar read the tree");
    const s = m.opStats();
    const files = DIRS * FILES;
    // the first file of each walk is read through JS; the walk hands the rest to the binding
    assert.ok(
      (s.preloaded?.files ?? 0) >= files / 2,
      `handed over: ${JSON.stringify(s.preloaded)}`,
    );
    assert.ok(count(m, "read") <= files / 2, `${count(m, "read")} reads reached JS`);
    // tar stats each file after reading it: answered from what the listings carried
    assert.ok((s.attrs?.answered ?? 0) >= files, `stats answered: ${JSON.stringify(s.attrs)}`);
    assert.ok(count(m, "getattr") <= DIRS + 4, `${count(m, "getattr")} getattrs reached JS`);
  }));

test("rw-read-counts - cp -a: no getattr after a create, chmod or utimens, no setxattr of an ACL", () =>
  withRwMount(store, "rw-counts-cpa", async (m, mnt) => {
    fs.chmodSync(path.join(src, "d1", "f1"), 0o640);
    try {
      await run("cp", ["-a", src, path.join(mnt, "copy")]);
      const files = DIRS * FILES;
      assert.ok(
        count(m, "chmod") >= files && count(m, "utimens") >= files,
        "cp -a set modes and times",
      );
      // per new name: its lookup (ENOENT) and the parent's attributes (changed by the create);
      // the attributes after each chmod and utimens came with its answer, so libfuse's getattr
      // after them stayed in the binding (two more per file before)
      const getattrs = count(m, "getattr");
      const bound = 2 * (files + DIRS) + 16;
      assert.ok(getattrs <= bound, `${getattrs} getattr for ${files} files (at most ${bound})`);
      assert.is(count(m, "setxattr"), 0, "setting an ACL is refused in the binding");
      // a create answers the new file's attributes: libfuse's getattr after it stays in C
      assert.ok(
        count(m, "fgetattr") <= 4,
        `${count(m, "fgetattr")} fgetattr after ${files} creates`,
      );
      // modes, times and file sizes as the source's (directory sizes differ from ext4's)
      const listing = (dir: string) =>
        run("find", [
          dir,
          "-type",
          "f",
          "-printf",
          "%P %m %s %T@\\n",
          "-o",
          "-printf",
          "%P %m %T@\\n",
        ]).then((r) => r.stdout.split("\n").sort());
      assert.equal(await listing(path.join(mnt, "copy")), await listing(src));
    } finally {
      fs.chmodSync(path.join(src, "d1", "f1"), 0o644);
    }
  }));

test("rw-read-counts - st_blksize is one write request: cp writes a 3 MiB file in 1 MiB writes", () => {
  const big = path.join(tmpDir("rw-counts-big"), "big");
  fs.writeFileSync(big, seededBytes(3 * 1_048_576, 99));
  return withRwMount(store, "rw-counts-cp", async (m, mnt) => {
    const { stdout } = await run("stat", ["-c", "%o", path.join(mnt, "d0", "f0")]);
    assert.is(Number(stdout.trim()), 1_048_576);
    await run("cp", [big, path.join(mnt, "big")]);
    const writes = count(m, "write");
    assert.ok(writes >= 3 && writes <= 4, `${writes} write requests for 3 MiB`);
    await run("cmp", [big, path.join(mnt, "big")]);
  });
});

test.run();
