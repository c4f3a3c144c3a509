/**
 * The binding's listing cache (native/listing.c), through real mounts made as `mount` makes
 * them (mountFsView, mountWritable), readdir requests to JS counted by the mount's op stats
 * (never timed): a read-only mount of a packed store lists each directory through JS once,
 * and a second walk sends no readdir at all; a small budget evicts, so a second walk asks JS
 * again and still lists every entry; a read-write mount keeps no listing, so an entry made
 * after a listing shows in the next one. Shell tools run as child processes, so this process
 * stays free to answer the kernel.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import { type FuseMount, mountFsView, mountWritable } from "../../src/fuse/fuse-mount.js";
import { packTree } from "../../src/pack/pack.js";
import { openStoreReader } from "../../src/reader/store-reader.js";
import { WritableStore } from "../../src/writer/index.js";
import { mountDir } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { seededBytes, tmpDir } from "../helpers/tree.js";

const run = promisify(execFile);
const fuse = suiteNeeding("listing-cache", ["fuse"]);
const test = fuse.test;

const DIRS = 12;

/** DIRS directories of 40 files and one subdirectory of 5: DIRS * 2 + 1 directories. */
function makeTree(root: string): { dirs: number; entries: number } {
  for (let d = 0; d < DIRS; d++) {
    const dir = path.join(root, `dir-${d}`);
    fs.mkdirSync(path.join(dir, "sub"), { recursive: true });
    for (let f = 0; f < 40; f++) {
      fs.writeFileSync(path.join(dir, `file-with-a-longer-name-${f}.txt`), seededBytes(50 + f, f));
    }
    for (let f = 0; f < 5; f++) fs.writeFileSync(path.join(dir, "sub", `s${f}`), `${d}/${f}`);
  }
  return { dirs: DIRS * 2 + 1, entries: 1 + DIRS * (2 + 40 + 5) };
}

let shape = { dirs: 0, entries: 0 };
let store = "";
let rwStore = "";

test.before(async () => {
  if (fuse.skip) return;
  const src = tmpDir("listing-src");
  shape = makeTree(src);
  store = path.join(tmpDir("listing-store"), "store");
  rwStore = path.join(tmpDir("listing-rw"), "store");
  await packTree(src, store, { threads: 1 });
  await packTree(src, rwStore, { threads: 1 });
});

const readdirs = (m: FuseMount) => m.opStats().ops.find((o) => o.op === "readdir")?.count ?? 0;

async function walk(mnt: string): Promise<string[]> {
  const { stdout } = await run("find", [mnt, "-printf", "%P %i %s %m %T@\\n"], {
    maxBuffer: 1 << 24,
  });
  return stdout.trim().split("\n").sort();
}

/** Mounts the packed store read-only as `mount` does, runs `body`, and always unmounts. */
async function withReadOnly(
  listingCacheBytes: number | undefined,
  body: (mnt: string, m: FuseMount) => Promise<void>,
): Promise<void> {
  const reader = openStoreReader(store, {});
  const mnt = mountDir("listing");
  let m: FuseMount | undefined;
  try {
    m = await mountFsView(reader, mnt, { log: () => {}, listingCacheBytes });
    await body(mnt, m);
  } finally {
    await m?.unmount();
    await reader.close();
  }
}

test("listing-cache - a second walk of a read-only mount sends no readdir to JS", async () => {
  await withReadOnly(undefined, async (mnt, m) => {
    const cold = await walk(mnt);
    assert.is(cold.length, shape.entries, "every entry listed");
    const first = readdirs(m);
    assert.ok(first >= shape.dirs && first <= shape.dirs + 2, `${first} listings, cold`);
    const hitsCold = m.opStats().listings?.hits ?? 0;
    const warm = await walk(mnt);
    assert.equal(warm, cold, "the same entries and attributes");
    assert.is(readdirs(m), first, "no readdir reached JS on the second walk");
    const { listings: l, kernelDirCache, dirOpensInKernel } = m.opStats();
    assert.ok(l !== undefined, "the binding keeps listings");
    // every libfuse 3.10 or later passes the bits on (3.16 itself, earlier ones by dircache.c)
    assert.ok(kernelDirCache, "the kernel may keep listings");
    // libfuse 3.10-3.15 and a kernel with FUSE_CAP_NO_OPENDIR_SUPPORT (5.1 on)
    assert.ok(dirOpensInKernel, "the kernel opens directories itself");
    if (kernelDirCache === true) {
      assert.is(l.hits, hitsCold, "the kernel answered the second walk's listings");
    } else {
      assert.ok(l.hits >= shape.dirs, "the binding answered them");
    }
    assert.is(l?.evictions, 0);
    fs.writeFileSync("/proc/sys/vm/drop_caches", "3"); // the kernel's listings go
    assert.equal(await walk(mnt), cold, "the same entries and attributes, caches dropped");
    assert.is(readdirs(m), first, "the binding answered the third walk");
    assert.ok((m.opStats().listings?.hits ?? 0) >= shape.dirs, "from the listings it kept");
    console.log(
      `listing-cache: ${l?.listings} listings of ${l?.entries} entries in ${l?.bytes} bytes`,
    );
  });
});

test("listing-cache - directories the kernel opens: big listings, rewinds, fsync, ioctl", async () => {
  await withReadOnly(8 << 10, async (mnt, m) => {
    const big = path.join(mnt, "dir-0");
    const script = [
      "import os, fcntl, sys",
      "d = sys.argv[1]",
      "names = sorted(os.listdir(d))",
      "fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)",
      "os.fsync(fd)", // FSYNCDIR without a handle: answered, nothing to do
      "try:",
      "    fcntl.ioctl(fd, 0x80086601, bytes(8))", // FS_IOC_GETFLAGS on a directory
      "except OSError as e:",
      "    print('ioctl', e.errno)",
      "os.close(fd)",
      "for _ in range(3):",
      "    assert sorted(os.listdir(d)) == names",
      "print(len(names))",
    ].join("\n");
    const { stdout } = await run("python3", ["-c", script, big]);
    assert.ok(stdout.trim().endsWith("\n41"), `python saw: ${stdout}`); // 40 files and sub
    // the mount still serves after those
    assert.is((await walk(mnt)).length, shape.entries, "every entry listed");
    assert.ok(m.opStats().dirOpensInKernel, "the kernel opened the directories");
  });
});

test("listing-cache - a small budget evicts; walks still list every entry", async () => {
  await withReadOnly(8 << 10, async (mnt, m) => {
    const cold = await walk(mnt);
    const first = readdirs(m);
    fs.writeFileSync("/proc/sys/vm/drop_caches", "3"); // the kernel's listings go
    assert.equal(await walk(mnt), cold, "the same entries and attributes");
    const again = readdirs(m) - first;
    const l = m.opStats().listings;
    assert.ok(l !== undefined && l.evictions > 0, "listings were dropped");
    assert.ok(l !== undefined && l.peakBytes <= 8 << 10, `${l?.peakBytes} bytes held at most`);
    assert.ok(again > 0, `${again} directories listed through JS again`);
  });
});

test("listing-cache - a read-write mount keeps no listing: a new entry shows", async () => {
  const w = await WritableStore.open(rwStore, { freezeIdleMs: 60_000 });
  const mnt = mountDir("listing-rw");
  let m: FuseMount | undefined;
  try {
    m = await mountWritable(w, mnt, { log: () => {} });
    const dir = path.join(mnt, "dir-3");
    const before = await fs.promises.readdir(dir);
    assert.not.ok(before.includes("new.txt"));
    await fs.promises.writeFile(path.join(dir, "new.txt"), "new");
    await fs.promises.rm(path.join(dir, "file-with-a-longer-name-7.txt"));
    const after = await fs.promises.readdir(dir);
    assert.ok(after.includes("new.txt"), "the new file is listed");
    assert.not.ok(after.includes("file-with-a-longer-name-7.txt"), "the removed one is not");
    assert.is(after.length, before.length);
    const l = m.opStats().listings;
    assert.ok(l === undefined || (l.budget === 0 && l.hits === 0), "nothing kept");
  } finally {
    await m?.unmount();
    await w.close();
  }
});

test.run();
