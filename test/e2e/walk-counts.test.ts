/**
 * The per-entry work of walking and reading a read-only mount, counted (never timed): a
 * packed tree served from this process through the real kernel with the read-only ops and
 * the options a read-only mount gets, every handler call counted by op, and the SQLite
 * statements the store ran (MetaDb.queryCount). A `find -printf '%i %s %m %T@'` must cost
 * one listing per directory (attributes come with it, so no getattr per entry) and one
 * query per directory, not per entry, and a second walk no query at all; a `tar` of the tree must cost no open or release at
 * all, and no query for a file's path (its directory was just listed): only its extents. Shell tools run as child processes, so this
 * process stays free to answer the kernel.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import { errnoFor } from "../../src/fuse/errno.js";
import { FuseOps } from "../../src/fuse/fuse-ops.js";
import { fuseOptionList } from "../../src/fuse/fuse-options.js";
import { mountNative } from "../../src/fuse/native-fuse.js";
import type { NativeFuseOps } from "../../src/fuse/native-types.js";
import { packTree } from "../../src/pack/pack.js";
import { openStoreReader, type StoreReader } from "../../src/reader/store-reader.js";
import { type InodeId, InodeKind } from "../../src/types.js";
import { mountDir } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { seededBytes, tmpDir } from "../helpers/tree.js";

const run = promisify(execFile);
const fuse = suiteNeeding("walk-counts", ["fuse"]);
const test = fuse.test;

const DIRS = 6;
const SUBDIRS = 2;
const FILES_PER_DIR = 150;

/** DIRS directories, each with FILES_PER_DIR small files and SUBDIRS subdirectories of 10. */
function makeTree(root: string): { dirs: number; files: number } {
  let files = 0;
  let dirs = 1;
  for (let d = 0; d < DIRS; d++) {
    const dir = path.join(root, `d${d}`);
    fs.mkdirSync(dir);
    dirs++;
    for (let f = 0; f < FILES_PER_DIR; f++) {
      fs.writeFileSync(path.join(dir, `f${f}.c`), seededBytes(200 + ((d * 7 + f) % 50) * 97, f));
      files++;
    }
    for (let s = 0; s < SUBDIRS; s++) {
      const sub = path.join(dir, `s${s}`);
      fs.mkdirSync(sub);
      dirs++;
      for (let f = 0; f < 10; f++) {
        fs.writeFileSync(path.join(sub, `g${f}.h`), seededBytes(100 + f, d * 100 + s * 10 + f));
        files++;
      }
    }
  }
  return { dirs, files };
}

/** `handlers` with every call counted by op name. */
function counted(handlers: NativeFuseOps<Buffer>): {
  ops: NativeFuseOps<Buffer>;
  calls: Map<string, number>;
} {
  const calls = new Map<string, number>();
  const ops: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(handlers)) {
    if (typeof fn !== "function") continue;
    ops[name] = (...a: unknown[]) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return (fn as (...x: unknown[]) => unknown)(...a);
    };
  }
  return { ops: ops as NativeFuseOps<Buffer>, calls };
}

let src = "";
let store = "";
let shape = { dirs: 0, files: 0 };

test.before(async () => {
  if (fuse.skip) return;
  src = tmpDir("walk-src");
  shape = makeTree(src);
  store = path.join(tmpDir("walk-store"), "store");
  await packTree(src, store, { threads: 2 });
});

/** Mounts the store read-only as a mount does, runs `body`, and always unmounts. */
async function withMount(
  body: (mnt: string, calls: Map<string, number>, reader: StoreReader) => Promise<void>,
): Promise<void> {
  const reader = openStoreReader(store, { cacheBytes: 64 << 20 });
  const ops = new FuseOps(reader, { log: () => {}, kernelCache: true });
  const { ops: handlers, calls } = counted(ops.handlers());
  const mnt = mountDir("walk");
  const options = fuseOptionList({ kernelCache: true });
  const m = await mountNative(mnt, handlers, options, { errnoOf: (e) => errnoFor(e).errno });
  try {
    await body(mnt, calls, reader);
  } finally {
    await m.unmount();
    await reader.close();
  }
}

const delta = (calls: Map<string, number>, before: Map<string, number>, op: string) =>
  (calls.get(op) ?? 0) - (before.get(op) ?? 0);

test("walk-counts - find: one listing and one query per directory, none per entry", async () => {
  await withMount(async (mnt, calls, reader) => {
    const entries = shape.dirs + shape.files;
    for (const pass of ["cold", "warm"]) {
      const before = new Map(calls);
      const q0 = reader.meta.queryCount;
      const { stdout } = await run("find", [mnt, "-printf", "%i %s %m %T@\\n"], {
        maxBuffer: 1 << 24,
      });
      const lines = stdout.trim().split("\n");
      assert.is(lines.length, entries, `${pass}: every entry listed`);
      const queries = reader.meta.queryCount - q0;
      const getattrs = delta(calls, before, "getattr");
      const listings = delta(calls, before, "readdir");
      console.log(
        `walk-counts: find (${pass}) of ${entries} entries in ${shape.dirs} directories: ` +
          `${listings} listings, ${getattrs} getattr, ${queries} queries`,
      );
      assert.ok(listings <= shape.dirs, `${pass}: ${listings} listings for ${shape.dirs} dirs`);
      assert.ok(getattrs <= 2, `${pass}: ${getattrs} getattr (attributes come with listings)`);
      // cold: one per directory; warm: the listings are kept (statfs asks a few)
      const most = pass === "cold" ? shape.dirs + 5 : 5;
      assert.ok(queries <= most, `${pass}: ${queries} queries for ${shape.dirs} dirs`);
      assert.is(delta(calls, before, "opendir"), 0, "directories open in the binding");
    }
    // the listing's numbers are the store's
    const { stdout } = await run("stat", ["-c", "%i %s", path.join(mnt, "d3", "f7.c")]);
    const ino = reader.lookupPath("d3/f7.c") as InodeId;
    assert.is(stdout.trim(), `${ino} ${reader.getattr(ino)?.size}`);
  });
});

test("walk-counts - tar: no open or release per file, bounded queries per file", async () => {
  await withMount(async (mnt, calls, reader) => {
    const q0 = reader.meta.queryCount;
    const { stdout } = await run("sh", ["-c", `tar cf - -C ${mnt} . | tar tvf - | wc -l`]);
    assert.is(Number(stdout.trim()), shape.dirs + shape.files, "tar saw every entry");
    const queries = reader.meta.queryCount - q0;
    const reads = calls.get("read") ?? 0;
    console.log(
      `walk-counts: tar of ${shape.files} files: ${calls.get("open") ?? 0} open, ` +
        `${calls.get("release") ?? 0} release, ${reads} read, ${queries} queries`,
    );
    assert.ok(
      (calls.get("open") ?? 0) <= 1,
      "the first open tells the kernel opens need no server",
    );
    assert.is(calls.get("release") ?? 0, 0);
    assert.ok(reads >= shape.files, "every file read through the mount");
    // per directory its listing, per file its extents (content row, extents): no lookups
    assert.ok(queries <= 2 * (shape.dirs + shape.files) + 8, `${queries} queries`);
    // the bytes are the source's
    const file = path.join("d5", "s1", "g3.h");
    assert.ok(fs.readFileSync(path.join(src, file)).equals(await readAsync(mnt, file)));
  });
});

test("walk-counts - a listing answers each entry's attributes; getattr then queries nothing", async () => {
  const reader = openStoreReader(store, {});
  try {
    const ops = new FuseOps(reader, { log: () => {}, kernelCache: true }).handlers();
    const q0 = reader.meta.queryCount;
    const listed = (await ops.readdir!(Buffer.from("/d2"), 0, CALLER)) as {
      name: Buffer | string;
      stat?: { ino: number; size: number; mode: number };
    }[];
    assert.is(listed.length, 2 + FILES_PER_DIR + SUBDIRS, ". and .. and the entries");
    assert.ok(reader.meta.queryCount - q0 <= 4, "the listing with its attributes: a few queries");
    const q1 = reader.meta.queryCount;
    const attrs = listed.slice(2).map((e) => reader.getattr(e.stat?.ino as InodeId));
    assert.is(reader.meta.queryCount - q1, 0, "every entry's attributes came with the listing");
    const dir = reader.lookupPath("d2") as InodeId;
    listed.slice(2).forEach((e, i) => {
      const name = String(e.name);
      assert.is(e.stat?.ino, reader.lookup(dir, Buffer.from(name)), `${name}: its inode`);
      assert.is(e.stat?.size, attrs[i]?.size, `${name}: its size`);
      const isDir = (e.stat?.mode ?? 0) & fs.constants.S_IFDIR;
      assert.is(attrs[i]?.kind === InodeKind.dir, isDir !== 0, `${name}: its type`);
      assert.is(isDir !== 0, name.startsWith("s"), `${name}: a subdirectory`);
    });
  } finally {
    await reader.close();
  }
});

const CALLER = { uid: 0, gid: 0, pid: 0, umask: 0 };

/** Reads a file of the mount without blocking this process's event loop. */
async function readAsync(mnt: string, rel: string): Promise<Buffer> {
  return fs.promises.readFile(path.join(mnt, rel));
}

test.run();
