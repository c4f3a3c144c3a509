/**
 * Compaction of a writable store (engine API, no mount): a tree of similar versions written
 * through a WritableStore shrinks, once idle, toward a fresh pack of the same tree; every
 * file reads back identical and fsck is clean; reads and writes during a pass are served
 * and kept; a pass whose plan a commit invalidated yields and the next one succeeds.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { getPriority } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CodecPool } from "../../src/codec/codec-pool.js";
import { compactor } from "../../src/maintain/compact.js";
import { fsckClean, fsckStore } from "../../src/maintain/fsck.js";
import { packTree } from "../../src/pack/pack.js";
import { readCompactPending } from "../../src/store/compact-pending.js";
import { initStore } from "../../src/store/store-init.js";
import { openStore } from "../../src/store/store-layout.js";
import { type InodeId, KIB } from "../../src/types.js";
import { type CallerContext, WritableStore } from "../../src/writer/index.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";
import { versionsTree, writeTree } from "../helpers/versions-tree.js";

const ctx: CallerContext = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const SETTINGS = { codec: "zstd" as const, level: 19, superChunkBytes: 512 * KIB };
const TREE = versionsTree({ versions: 10, files: 24, fileBytes: 16 * KIB, seed: 11 });
const SMALL = versionsTree({ versions: 4, files: 12, fileBytes: 16 * KIB, seed: 5 });

test.after(() => cleanupTmp());

/** Bytes of the super-chunk files (sc/<2 hex>/<id>.sc). */
function scBytes(store: string): number {
  let n = 0;
  for (const e of readdirSync(join(store, "sc"), { recursive: true, withFileTypes: true })) {
    if (e.isFile()) n += statSync(join(e.parentPath ?? e.path, e.name)).size;
  }
  return n;
}

async function mkdirs(s: WritableStore, rel: string): Promise<InodeId> {
  let at = s.root;
  for (const part of rel.split("/")) {
    const name = Buffer.from(part);
    at = s.lookup(at, name) ?? s.mkdir(ctx, at, name, 0o755).ino;
  }
  return at;
}

async function put(s: WritableStore, rel: string, data: Buffer): Promise<void> {
  const i = rel.lastIndexOf("/");
  const dir = await mkdirs(s, rel.slice(0, i));
  const name = Buffer.from(rel.slice(i + 1));
  const old = s.lookup(dir, name);
  const fh = old === undefined ? s.create(ctx, dir, name, 0o644).fh : s.open(old, 0o1001);
  s.write(fh, data, 0);
  await s.release(fh);
}

async function readBack(s: WritableStore, rel: string): Promise<Buffer> {
  const ino = s.lookupPath(rel);
  assert.ok(ino !== undefined, `${rel} exists`);
  return s.read(ino!, 0, s.getattr(ino!)!.size + 1);
}

async function sameFiles(s: WritableStore, tree: Map<string, Buffer>): Promise<void> {
  for (const [rel, data] of tree) {
    assert.ok((await readBack(s, rel)).equals(data), `${rel} reads back identical`);
  }
}

/** A store holding SMALL, written through the engine; the caller closes it. */
async function written(o: Parameters<typeof compactor>[0] = {}) {
  const store = join(tmpDir("compact"), "store");
  initStore(store, SETTINGS);
  const s = await WritableStore.open(store, {
    freezeIdleMs: 20,
    compactIdleMs: 3_600_000, // passes are started by the test
    compactor: compactor(o),
    compactAtClose: false,
  });
  for (const [rel, data] of SMALL) await put(s, rel, data);
  await s.freezeAll();
  return { store, s };
}

test("compact - an idle store shrinks to within 1.3x of a fresh pack; files and fsck intact", async () => {
  const src = tmpDir("compact-src");
  writeTree(src, TREE);
  const packed = join(tmpDir("compact-pack"), "store");
  await packTree(src, packed, { ...SETTINGS, threads: 2 });
  const fresh = scBytes(packed);

  const store = join(tmpDir("compact"), "store");
  initStore(store, SETTINGS);
  const s = await WritableStore.open(store, {
    freezeIdleMs: 20,
    compactIdleMs: 100,
    compactor: compactor(),
    compactAtClose: false,
  });
  let t = performance.now();
  for (const [rel, data] of TREE) await put(s, rel, data);
  await s.freezeAll();
  const before = scBytes(store);
  console.log(`written in ${(performance.now() - t).toFixed(0)} ms`);
  t = performance.now();
  // the idle grace starts the pass by itself; wait for it (no command is run)
  for (let i = 0; i < 600 && (s.compactionStatus().last?.retired ?? 0) === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log(`compacted after ${(performance.now() - t).toFixed(0)} ms`);
  const last = s.compactionStatus().last;
  assert.ok(last !== undefined && last.retired > 0, "an idle pass ran");
  await sameFiles(s, TREE);
  assert.equal(s.backgroundErrors, [], "no background error");
  await s.close();
  const after = scBytes(store);
  console.log(
    `compact: fresh pack ${fresh} B, written ${before} B (${(before / fresh).toFixed(2)}x), compacted ${after} B (${(after / fresh).toFixed(2)}x)`,
  );
  assert.ok(before / fresh > 1.3, "the test means something: the written store is larger");
  assert.ok(after / fresh <= 1.3, `within 1.3x of a fresh pack: ${after / fresh}`);
  const opened = openStore(store, { readonly: true });
  try {
    assert.equal(readCompactPending(opened.meta), [], "nothing left pending");
  } finally {
    opened.meta.close();
  }
  assert.ok(fsckClean(await fsckStore(store)), "fsck clean");
});

test("compact - reads during a pass return the right bytes; writes during it are kept", async () => {
  const extra = new Map<string, Buffer>();
  let during = 0;
  const { store, s } = await written({
    beforeSwitch: async () => {
      during++;
      await sameFiles(s, SMALL); // served from the old super-chunks
      extra.set("new/late.txt", Buffer.from("written while compacting\n".repeat(999)));
      extra.set("v0/src/d0/file0.ts", Buffer.from("replaced while compacting\n"));
      for (const [rel, data] of extra) await put(s, rel, data);
    },
  });
  const o = await s.compactNow();
  assert.is(during, 1);
  assert.ok(o !== undefined && o.retired > 0 && !o.yielded, "the pass switched");
  const want = new Map([...SMALL, ...extra]);
  await sameFiles(s, want);
  assert.equal(s.backgroundErrors, [], "no background error");
  await s.close();
  const r = await WritableStore.open(store);
  await sameFiles(r, want);
  await r.close();
  assert.ok(fsckClean(await fsckStore(store)), "fsck clean");
});

test("compact - a commit that reuses a sub-block the pass drops makes it yield; the next pass succeeds", async () => {
  const rel = "v3/src/d1/file1.ts";
  const data = SMALL.get(rel)!;
  let first = true;
  const { store, s } = await written({
    beforeSwitch: async () => {
      if (!first) return;
      first = false;
      await put(s, rel, data); // its sub-blocks were dead when the pass chose them
    },
  });
  // make the file's own sub-blocks dead before the pass
  const dir = s.lookupPath("v3/src/d1")!;
  s.unlink(dir, Buffer.from("file1.ts"));
  await s.freezeAll();
  const o1 = await s.compactNow();
  assert.ok(o1?.yielded, "the first pass yields");
  const o2 = await s.compactNow();
  assert.ok(o2 !== undefined && o2.retired > 0 && !o2.yielded, "the second pass switches");
  await sameFiles(s, SMALL);
  await s.close();
  assert.ok(fsckClean(await fsckStore(store)), "fsck clean");
});

test("compact - the codec pool's niceness reaches its worker thread (Linux)", async () => {
  if (!existsSync("/proc/thread-self")) return;
  const pool = new CodecPool({ threads: 1, niceness: 7 });
  try {
    await pool.compress("zstd", 1, Buffer.alloc(1000, 1));
    const niceOf = (tid: string | number) =>
      Number(readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]);
    const nices = readdirSync("/proc/self/task").map(niceOf);
    assert.ok(nices.includes(7), `a thread at nice 7: ${nices.join(",")}`);
    // the main thread's task is the process id (a worker's tid may sort before it)
    assert.is(niceOf(process.pid), getPriority(), "the main thread keeps its priority");
  } finally {
    await pool.close();
  }
});

test.run();
