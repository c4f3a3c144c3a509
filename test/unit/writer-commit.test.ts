/**
 * The commit pipeline of a writable store, counted rather than timed: holes (truncate,
 * fallocate-like growth, sparse writes) cost no hashing per byte, a size past the largest
 * is E_TOO_BIG, appending to a large file re-cuts only its tail, a rewrite in the middle
 * re-cuts from there, and fsync / sync make changes durable while close only commits.
 */
import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isCode } from "../../src/errors.js";
import { fsckClean, fsckStore } from "../../src/maintain/fsck.js";
import { MetaDb } from "../../src/meta/meta-db.js";
import { initStore } from "../../src/store/store-init.js";
import { type InodeId, KIB, MIB } from "../../src/types.js";
import { MAX_FILE_BYTES } from "../../src/writer/file-data.js";
import { type CallerContext, WritableStore } from "../../src/writer/index.js";

const dirs: string[] = [];
const ctx: CallerContext = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const B = (s: string) => Buffer.from(s);
/** the chunker's largest sub-block with the store's default parameters */
const MAX_SUB_BLOCK = 128 * KIB;

function newStore(): string {
  const d = mkdtempSync(join(tmpdir(), "sc-commit-"));
  dirs.push(d);
  const dir = join(d, "store");
  initStore(dir, { codec: "zstd", level: 3 });
  return dir;
}

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function hashed(s: WritableStore): number {
  return s.commitStats.bytesHashed;
}

function sha(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** Refcounts exact, and fsck finds nothing (sub-block bounds, tiling, hashes). */
async function storeClean(dir: string): Promise<void> {
  const db = MetaDb.open(join(dir, "superchunk.db"));
  try {
    assert.equal(db.recomputeRefcounts(), { contents: 0, subBlocks: 0, superChunks: 0 });
  } finally {
    db.close();
  }
  const r = await fsckStore(dir, { threads: 1 });
  assert.ok(fsckClean(r), r.problems.map((p) => p.message).join("\n"));
}

test("commit - truncate to 2^40 hashes nothing and reads zeros at the end", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir);
  const { attr, fh } = s.create(ctx, s.root, B("big"), 0o644);
  await s.release(fh);
  await s.truncate(attr.ino, 2 ** 40);
  assert.is(s.getattr(attr.ino)!.size, 2 ** 40);
  assert.is(hashed(s), 0);
  const tail = await s.read(attr.ino, 2 ** 40 - 4 * KIB, 8 * KIB);
  assert.is(tail.length, 4 * KIB);
  assert.ok(tail.every((b) => b === 0));
  await s.close();
  await storeClean(dir);
});

test("commit - a size past the largest is E_TOO_BIG; the largest itself is fine", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir);
  const { attr, fh } = s.create(ctx, s.root, B("f"), 0o644);
  for (const bad of [MAX_FILE_BYTES + 1, 2 ** 60]) {
    try {
      s.ftruncate(fh, bad);
      assert.unreachable("accepted");
    } catch (err) {
      assert.ok(isCode(err, "E_TOO_BIG"), String(err)); // EFBIG, past 2^53 too
    }
  }
  try {
    s.write(fh, B("x"), MAX_FILE_BYTES);
    assert.unreachable("accepted");
  } catch (err) {
    assert.ok(isCode(err, "E_TOO_BIG"), String(err));
  }
  s.ftruncate(fh, MAX_FILE_BYTES);
  await s.release(fh);
  assert.is(s.getattr(attr.ino)!.size, MAX_FILE_BYTES);
  assert.is(hashed(s), 0);
  await s.close();
  await storeClean(dir);
});

test("commit - growing to 2 GiB (fallocate) hashes nothing", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir);
  const { attr, fh } = s.create(ctx, s.root, B("f"), 0o644);
  s.write(fh, B("head"), 0);
  s.ftruncate(fh, 2 * 1024 * MIB);
  await s.release(fh);
  assert.ok(hashed(s) <= MAX_SUB_BLOCK, `${hashed(s)} bytes hashed`);
  assert.equal(await s.read(attr.ino, 0, 4), B("head"));
  await s.close();
  await storeClean(dir);
});

test("commit - a sparse 8 GiB file hashes only its data", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir);
  const { attr, fh } = s.create(ctx, s.root, B("sparse"), 0o644);
  const pieces: [number, Buffer][] = [];
  for (let i = 0; i < 8; i++) pieces.push([i * 1024 * MIB + i * 12_345, randomBytes(256 * KIB)]);
  for (const [at, data] of pieces) s.write(fh, data, at);
  s.ftruncate(fh, 8 * 1024 * MIB);
  await s.release(fh);
  // each run before a hole may take up to the chunker's minimum (8 KiB) of zeros
  const data = pieces.reduce((n, [, d]) => n + d.length, 0) + pieces.length * 8 * KIB;
  assert.ok(hashed(s) <= data, `${hashed(s)} bytes hashed for ${data} of data and pads`);
  for (const [at, d] of pieces) assert.ok((await s.read(attr.ino, at, d.length)).equals(d));
  const gap = await s.read(attr.ino, 3 * 1024 * MIB + 5 * MIB, 64 * KIB);
  assert.ok(gap.every((b) => b === 0));
  await s.close();
  await storeClean(dir);
});

test("commit - appending 1 MiB to a 64 MiB file re-cuts only the tail, every round", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir);
  const first = randomBytes(64 * MIB);
  const { attr, fh } = s.create(ctx, s.root, B("log"), 0o644);
  s.write(fh, first, 0);
  await s.release(fh);
  assert.is(hashed(s), 64 * MIB, "the first commit hashes it all (on the worker)");
  const whole = createHash("sha256").update(first);
  let size = first.length;
  const rounds: number[] = [];
  for (let r = 0; r < 10; r++) {
    const more = randomBytes(MIB);
    whole.update(more);
    const before = hashed(s);
    const h = s.open(attr.ino, 1 | 0o2000);
    s.write(h, more, 0);
    await s.release(h);
    size += more.length;
    rounds.push(hashed(s) - before);
  }
  for (const n of rounds) assert.ok(n <= MIB + MAX_SUB_BLOCK, `round hashed ${n}: ${rounds}`);
  assert.is(s.getattr(attr.ino)!.size, size);
  const back = await s.read(attr.ino, 0, size);
  assert.is(sha(back), whole.digest("hex"));
  await s.close();
  await storeClean(dir);
});

test("commit - a write in the middle re-cuts from the sub-block holding it", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir);
  const data = randomBytes(16 * MIB);
  const { attr, fh } = s.create(ctx, s.root, B("mid"), 0o644);
  s.write(fh, data, 0);
  await s.release(fh);
  const before = hashed(s);
  const h = s.open(attr.ino, 2);
  const patch = randomBytes(100);
  s.write(h, patch, 12 * MIB);
  await s.release(h);
  patch.copy(data, 12 * MIB);
  const n = hashed(s) - before;
  assert.ok(n <= 4 * MIB + MAX_SUB_BLOCK, `${n} bytes hashed`);
  assert.ok((await s.read(attr.ino, 0, data.length)).equals(data));
  await s.close();
  await storeClean(dir);
});

test("commit - shrink then grow, holes and data mixed, reopen", async () => {
  const dir = newStore();
  let s = await WritableStore.open(dir);
  const data = randomBytes(3 * MIB);
  const { attr, fh } = s.create(ctx, s.root, B("f"), 0o644);
  s.write(fh, data, 0);
  await s.fsync(fh);
  s.ftruncate(fh, MIB + 7);
  s.ftruncate(fh, 5 * MIB);
  s.write(fh, B("tail"), 4 * MIB);
  await s.release(fh);
  const want = Buffer.alloc(5 * MIB);
  data.copy(want, 0, 0, MIB + 7);
  B("tail").copy(want, 4 * MIB);
  assert.ok((await s.read(attr.ino, 0, want.length)).equals(want));
  await s.close();
  s = await WritableStore.open(dir);
  assert.ok((await s.read(attr.ino as InodeId, 0, want.length)).equals(want));
  await s.close();
  await storeClean(dir);
});

test("commit - files of every size through the reused buffers read back after reopen", async () => {
  // a commit reads every window into one shared buffer and a freeze reads every chunk
  // into pooled ones: bytes a later window or chunk overwrote would show here, and fsck
  // checks every sub-block against its hash
  const dir = newStore();
  let s = await WritableStore.open(dir);
  const files: { ino: InodeId; data: Buffer }[] = [];
  for (let i = 0; i < 12; i++) {
    // inline runs, several windows with a carry (on the worker), and a last short window
    const size = i % 3 === 0 ? 9 * MIB + 12_345 * i : i % 3 === 1 ? 100 * KIB + i : 300 * KIB;
    const data = randomBytes(size);
    const { attr, fh } = s.create(ctx, s.root, B(`f${i}`), 0o644);
    s.write(fh, data, 0);
    await s.release(fh);
    files.push({ ino: attr.ino, data });
  }
  await s.close();
  s = await WritableStore.open(dir);
  for (const f of files) {
    const back = await s.read(f.ino, 0, f.data.length + 1);
    assert.is(sha(back), sha(f.data));
  }
  await s.close();
  await storeClean(dir);
});

test("commit - identical files written in place share one content", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir);
  const data = randomBytes(2 * MIB);
  const inos: InodeId[] = [];
  for (const name of ["a", "b"]) {
    const { attr, fh } = s.create(ctx, s.root, B(name), 0o644);
    s.write(fh, data, 0);
    await s.release(fh);
    inos.push(attr.ino);
  }
  await s.close();
  const db = MetaDb.open(join(dir, "superchunk.db"));
  try {
    assert.is(db.getInode(inos[0]!)!.content, db.getInode(inos[1]!)!.content);
  } finally {
    db.close();
  }
});

test("commit - a raw file shorter than its committed length (power cut) still opens", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir, { freezeIdleMs: 60_000 });
  const { fh } = s.create(ctx, s.root, B("f"), 0o644);
  s.write(fh, randomBytes(300 * KIB), 0);
  await s.fsync(fh);
  await s.release(fh);
  // the state a power cut can leave: the database durable, the raw file behind it
  const copy = join(dirs[dirs.length - 1]!, "copy");
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, "superchunk.lock"), { force: true });
  await s.close();
  const raw = readdirSync(join(copy, "open"));
  assert.is(raw.length, 1);
  truncateSync(join(copy, "open", raw[0]!), 100 * KIB);
  const again = await WritableStore.open(copy);
  assert.ok(again.recovery.missingRawBytes > 0);
  assert.is(again.getattr(again.lookupPath("f")!)!.size, 300 * KIB);
  await again.close();
  const r = await fsckStore(copy, { threads: 1 });
  assert.not.ok(fsckClean(r), "fsck names the damaged sub-blocks");
});

test.run();
