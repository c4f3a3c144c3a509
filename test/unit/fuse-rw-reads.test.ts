/**
 * The reading side of a read-write mount's ops (fuse/fuse-rw-reads.ts), called as the binding
 * calls them, without a kernel: opens that walk a directory in readdir order load the
 * super-chunks of the files after them before anything reads them, as on a read-only mount.
 */
import { randomBytes } from "node:crypto";
import { constants as fsc } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FuseRwOps } from "../../src/fuse/fuse-rw-ops.js";
import type { DirEntry, FuseCaller } from "../../src/fuse/native-types.js";
import { packTree } from "../../src/pack/pack.js";
import { KIB } from "../../src/types.js";
import { WritableStore } from "../../src/writer/index.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";
import { writeTree } from "../helpers/versions-tree.js";

const ROOT: FuseCaller = { uid: 0, gid: 0, pid: process.pid, umask: 0o022 };

test.after(() => cleanupTmp());

/** A store of `files` files of 64 KiB of random bytes each, 256 KiB super-chunks. */
async function storeOf(files: number): Promise<string> {
  const src = tmpDir("rw-reads-src");
  const tree = new Map<string, Buffer>();
  for (let i = 0; i < files; i++) tree.set(`f${String(i).padStart(3, "0")}`, randomBytes(64 * KIB));
  writeTree(src, tree);
  const store = join(tmpDir("rw-reads"), "store");
  await packTree(src, store, { codec: "zstd", level: 3, superChunkBytes: 256 * KIB });
  return store;
}

/**
 * The working set's loads once they have reached `atLeast` and stayed the same over five
 * polls 20 ms apart (loads ahead start asynchronously; a busy machine starts them late);
 * gives up after 10 s with the count then.
 */
async function settled(s: WritableStore, atLeast = 0): Promise<number> {
  let last = -1;
  let same = 0;
  for (let i = 0; i < 500; i++) {
    const loads = s.workingSetStats().loads;
    same = loads === last ? same + 1 : 0;
    if (same >= 5 && loads >= atLeast) return loads;
    last = loads;
    await new Promise((r) => setTimeout(r, 20));
  }
  return last;
}

test("rw reads - opens walking a directory load the next files' super-chunks ahead", async () => {
  const s = await WritableStore.open(await storeOf(48), { compactAtClose: false });
  try {
    const ops = new FuseRwOps(s, { log: () => {} });
    const h = ops.handlers();
    const names = ((await h.readdir!(Buffer.from("/"), 0, ROOT)) as DirEntry<Buffer>[])
      .map((e) => (typeof e === "object" && "name" in e ? e.name : e).toString())
      .filter((n) => n !== "." && n !== "..");
    assert.is(names.length, 48);
    assert.is(s.workingSetStats().loads, 0, "a listing loads nothing");
    // a walk: the first two files of the listing opened in order, nothing read
    const fhs = [];
    for (const name of names.slice(0, 2)) {
      fhs.push((await h.open!(Buffer.from(`/${name}`), fsc.O_RDONLY, ROOT)) as number);
    }
    const loads = await settled(s, 4);
    const st = s.workingSetStats();
    // two files of 64 KiB need one or two super-chunks; the walk's next 32 files need more
    assert.ok(loads >= 4, `loads ahead of the walk: ${JSON.stringify(st)}`);
    assert.is(st.prefetchLoads, loads, "every load was a prefetch");
    for (const fh of fhs) await h.release!(null, fh, 0, ROOT);
  } finally {
    await s.close();
  }
});

test("rw reads - an open for writing gives no hint", async () => {
  const s = await WritableStore.open(await storeOf(8), { compactAtClose: false });
  try {
    const h = new FuseRwOps(s, { log: () => {} }).handlers();
    for (const name of ["f000", "f001", "f002"]) {
      const fh = (await h.open!(Buffer.from(`/${name}`), fsc.O_WRONLY, ROOT)) as number;
      await h.release!(null, fh, 0, ROOT);
    }
    assert.is(await settled(s), 0);
  } finally {
    await s.close();
  }
});

test.run();
