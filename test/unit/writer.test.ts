import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { type ErrorCode, isCode } from "../../src/errors.js";
import { MetaDb } from "../../src/meta/meta-db.js";
import { packTree } from "../../src/pack/pack.js";
import { openStoreReader } from "../../src/reader/store-reader.js";
import { initStore } from "../../src/store/store-init.js";
import { type InodeId, InodeKind, KIB } from "../../src/types.js";
import {
  type CallerContext,
  WritableStore,
  XATTR_CREATE,
  XATTR_REPLACE,
} from "../../src/writer/index.js";

const dirs: string[] = [];
const ctx: CallerContext = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const B = (s: string) => Buffer.from(s);

function newStore(): string {
  const d = mkdtempSync(join(tmpdir(), "sc-writer-"));
  dirs.push(d);
  const dir = join(d, "store");
  initStore(dir, { codec: "zstd", level: 3, superChunkBytes: 256 * KIB });
  return dir;
}

async function throwsCode(fn: () => unknown, code: ErrorCode): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assert.ok(isCode(err, code), `expected ${code}, got ${String(err)}`);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

async function readAll(s: WritableStore, ino: InodeId): Promise<Buffer> {
  const size = s.getattr(ino)!.size;
  return s.read(ino, 0, size + 10);
}

async function writeFile(s: WritableStore, parent: InodeId, name: string, data: Buffer) {
  const { attr, fh } = s.create(ctx, parent, B(name), 0o644);
  s.write(fh, data, 0);
  await s.flush(fh);
  await s.release(fh);
  return attr.ino;
}

/** Refcounts recomputed in a copy must match the stored ones (nothing to repair). */
function checkRefcounts(dir: string): void {
  const db = MetaDb.open(join(dir, "superchunk.db"));
  try {
    const r = db.recomputeRefcounts();
    assert.equal(r, { contents: 0, subBlocks: 0, superChunks: 0 }, "refcounts exact");
    assert.is(db.recomputeNlinks(), 0, "nlinks exact");
  } finally {
    db.close();
  }
}

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("writer - init, create, write, read, close, reopen", async () => {
  const dir = newStore();
  let s = await WritableStore.open(dir);
  const data = randomBytes(300 * KIB);
  const ino = await writeFile(s, s.root, "a.bin", data);
  assert.ok((await readAll(s, ino)).equals(data));
  await s.close();
  checkRefcounts(dir);
  assert.equal(readdirSync(join(dir, "open")), []);
  s = await WritableStore.open(dir);
  const again = s.lookupPath("a.bin")!;
  assert.is(again, ino);
  assert.ok((await readAll(s, ino)).equals(data));
  await s.close();
});

test("writer - append, overwrite in the middle, truncate, holes", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir);
  const { attr, fh } = s.create(ctx, s.root, B("f"), 0o644);
  const model = Buffer.alloc(200 * KIB);
  randomBytes(100 * KIB).copy(model);
  s.write(fh, model.subarray(0, 100 * KIB), 0);
  await s.release(fh);
  const fa = s.open(attr.ino, 1 | 0o2000); // O_WRONLY | O_APPEND
  const tail = randomBytes(5000);
  s.write(fa, tail, 0);
  await s.release(fa);
  let want = Buffer.concat([model.subarray(0, 100 * KIB), tail]);
  assert.ok((await readAll(s, attr.ino)).equals(want), "append");
  const fw = s.open(attr.ino, 2);
  s.write(fw, B("middle"), 50_000);
  B("middle").copy(want, 50_000);
  assert.ok((await readAll(s, attr.ino)).equals(want), "own unflushed write seen");
  s.write(fw, B("far"), 500_000);
  const grown = Buffer.alloc(500_003);
  want.copy(grown);
  B("far").copy(grown, 500_000);
  want = grown;
  await s.fsync(fw);
  assert.ok((await readAll(s, attr.ino)).equals(want), "hole reads zeros");
  s.ftruncate(fw, 1000);
  s.ftruncate(fw, 3000);
  want = Buffer.concat([want.subarray(0, 1000), Buffer.alloc(2000)]);
  await s.release(fw);
  assert.ok((await readAll(s, attr.ino)).equals(want), "shrink then grow");
  await s.truncate(attr.ino, 10);
  assert.is(s.getattr(attr.ino)!.size, 10);
  await s.close();
  checkRefcounts(dir);
});

test("writer - namespace: mkdir, rename over, link, symlink, rmdir rules", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir);
  const d = s.mkdir(ctx, s.root, B("d"), 0o755);
  assert.is(s.getattr(s.root)!.nlink, 3);
  const a = await writeFile(s, d.ino, "a", B("aaa"));
  const b = await writeFile(s, s.root, "b", B("bbb"));
  await throwsCode(() => s.create(ctx, s.root, B("b"), 0o644), "E_EXISTS");
  s.rename(s.root, B("b"), d.ino, B("a"));
  assert.is(s.lookup(d.ino, B("a")), b);
  assert.is(s.getattr(a), undefined, "replaced inode is gone");
  s.link(b, s.root, B("hard"));
  assert.is(s.getattr(b)!.nlink, 2);
  s.symlink(ctx, s.root, B("sym"), B("d/a"));
  assert.equal(s.readlink(s.lookup(s.root, B("sym"))!), B("d/a"));
  await throwsCode(() => s.rmdir(s.root, B("d")), "E_NOT_EMPTY");
  const e = s.mkdir(ctx, s.root, B("e"), 0o755);
  await throwsCode(() => s.rename(s.root, B("d"), d.ino, B("x")), "E_USAGE");
  await throwsCode(() => s.rename(s.root, B("hard"), s.root, B("e")), "E_IS_DIR");
  await throwsCode(() => s.rename(s.root, B("e"), s.root, B("hard")), "E_NOT_DIR");
  s.rename(s.root, B("e"), d.ino, B("e2"));
  assert.is(s.getattr(d.ino)!.nlink, 3);
  const f = s.mkdir(ctx, s.root, B("f"), 0o755);
  s.rename(s.root, B("f"), d.ino, B("e2")); // dir over empty dir
  assert.is(s.lookup(d.ino, B("e2")), f.ino);
  assert.is(s.getattr(e.ino), undefined);
  await throwsCode(() => s.unlink(s.root, B("d")), "E_IS_DIR");
  s.unlink(s.root, B("hard"));
  assert.is(s.getattr(b)!.nlink, 1);
  await throwsCode(
    () =>
      s.mknod(
        ctx.uid === 0 ? { uid: 1, gid: 1 } : ctx,
        s.root,
        B("dev"),
        InodeKind.chardev,
        0o600,
        5,
      ),
    "E_NOT_PERMITTED",
  );
  s.mknod(ctx, s.root, B("fifo"), InodeKind.fifo, 0o600);
  await throwsCode(() => s.mkdir(ctx, s.root, B("x".repeat(256)), 0o755), "E_NAME_TOO_LONG");
  await s.close();
  checkRefcounts(dir);
});

test("writer - paths resolve after directories are renamed, removed and made again", async () => {
  const s = await WritableStore.open(newStore());
  try {
    await renamedAndRemade(s);
  } finally {
    await s.close();
  }
});

async function renamedAndRemade(s: WritableStore): Promise<void> {
  const a = s.mkdir(ctx, s.root, B("a"), 0o755);
  const b = s.mkdir(ctx, a.ino, B("b"), 0o755);
  const f = await writeFile(s, b.ino, "f", B("f"));
  assert.is(s.lookupPath("/a/b/f"), f);
  assert.is(s.parentOf("/a/b/f").parent, b.ino);
  s.rename(s.root, B("a"), s.root, B("c"));
  assert.is(s.lookupPath("/a/b/f"), undefined, "the old path is gone");
  assert.is(s.lookupPath("/c/b/f"), f);
  // a directory removed and made again by the same name is the new one
  const g = await writeFile(s, s.root, "g", B("g"));
  s.unlink(b.ino, B("f"));
  s.rmdir(s.lookupPath("/c")!, B("b"));
  const b2 = s.mkdir(ctx, s.lookupPath("/c")!, B("b"), 0o755);
  assert.is.not(b2.ino, b.ino);
  s.rename(s.root, B("g"), b2.ino, B("g"));
  assert.is(s.lookupPath("/c/b/g"), g);
  assert.is(s.lookupPath("/c/b/f"), undefined);
  // a file is never taken for a directory
  assert.is(s.lookupPath("/c/b/g/x"), undefined);
}

test("writer - attributes, xattrs, owner-only ops", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir);
  const ino = await writeFile(s, s.root, "x", B("x"));
  s.setxattr(ino, B("user.a"), B("1"));
  await throwsCode(() => s.setxattr(ino, B("user.a"), B("2"), XATTR_CREATE), "E_EXISTS");
  await throwsCode(() => s.setxattr(ino, B("user.b"), B("2"), XATTR_REPLACE), "E_NO_XATTR");
  s.setxattr(ino, B("user.a"), B("3"), XATTR_REPLACE);
  assert.equal(s.getxattrStrict(ino, B("user.a")), B("3"));
  // regular files also show the read-only user.superchunk.info
  assert.equal(s.listxattr(ino), [B("user.a"), B("user.superchunk.info")]);
  await throwsCode(() => s.setxattr(ino, B("user.superchunk.info"), B("x")), "E_NOT_PERMITTED");
  s.removexattr(ino, B("user.a"));
  await throwsCode(() => s.removexattr(ino, B("user.a")), "E_NO_XATTR");
  const other: CallerContext = { uid: ctx.uid + 1, gid: ctx.gid + 1 };
  await throwsCode(() => s.chmod(other, ino, 0o600), "E_NOT_PERMITTED");
  await throwsCode(() => s.utimens(other, ino, 5n, 6n), "E_NOT_PERMITTED");
  await throwsCode(() => s.chown(other, ino, other.uid, -1), "E_NOT_PERMITTED");
  s.chmod(ctx, ino, 0o640);
  const t = s.utimens(ctx, ino, 1_234_567_890_123_456_789n, "omit");
  assert.is(t.atimeNs, 1_234_567_890_123_456_789n);
  assert.is(s.getattr(ino)!.mode, 0o640);
  const st = s.statfs();
  assert.ok(st.blocksAvailable > 0 && st.blockSize > 0);
  await s.close();
});

test("writer - unlink while open, refcounts both ways", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir, { freezeIdleMs: 60_000 });
  const data = randomBytes(200 * KIB);
  const a = await writeFile(s, s.root, "a", data);
  const b = await writeFile(s, s.root, "b", data);
  await s.freezeAll();
  const scFiles = () =>
    readdirSync(join(dir, "sc"), { recursive: true }).filter(
      (f) => String(f).endsWith(".sc") && !String(f).startsWith("meta"), // not the metadata copy
    );
  assert.is(scFiles().length, 1, "identical files share one super-chunk");
  s.unlink(s.root, B("a"));
  assert.ok((await readAll(s, b)).equals(data), "other copy still reads");
  const fh = s.open(b, 2);
  s.unlink(s.root, B("b"));
  assert.ok((await s.read(b, 0, 10)).equals(data.subarray(0, 10)), "readable after unlink");
  s.write(fh, B("zz"), 0);
  const back = Buffer.alloc(3);
  await s.readHandle(fh, back, 0);
  assert.equal(back, Buffer.concat([B("zz"), data.subarray(2, 3)]));
  await s.release(fh);
  assert.is(s.getattr(b), undefined);
  assert.is(s.getattr(a), undefined);
  await s.freezeAll();
  assert.is(scFiles().length, 0, "dead super-chunk deleted");
  await s.close();
  checkRefcounts(dir);
});

test("writer - a packed store opens writable and dedups against its super-chunks", async () => {
  const d = mkdtempSync(join(tmpdir(), "sc-writer-"));
  dirs.push(d);
  const data = randomBytes(400 * KIB);
  mkdirSync(join(d, "src"));
  writeFileSync(join(d, "src", "old.bin"), data);
  // random bytes are dense, but a last sub-block under 4 KiB is not, and then packs into
  // a super-chunk of its own: one or two super-chunks, as the random cuts fall
  const packed = await packTree(join(d, "src"), join(d, "store"), { threads: 1, level: 3 });
  const s = await WritableStore.open(join(d, "store"), { freezeIdleMs: 60_000 });
  const old = s.lookupPath("old.bin")!;
  assert.ok((await readAll(s, old)).equals(data));
  const copy = await writeFile(s, s.root, "copy.bin", data);
  assert.ok((await readAll(s, copy)).equals(data));
  await s.close();
  assert.not.ok(existsSync(join(d, "store", "superchunk.db.zst")), "unpacked");
  const db = MetaDb.open(join(d, "store", "superchunk.db"));
  try {
    const all = db.listSuperChunks().length;
    assert.is(all, packed.superChunks, "no new super-chunk: all deduplicated");
    assert.is(db.getInode(copy)!.content, db.getInode(old)!.content, "whole-file dedup");
  } finally {
    db.close();
  }
  checkRefcounts(join(d, "store"));
});

test("writer - lock is exclusive", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir);
  await throwsCode(() => WritableStore.open(dir), "E_STORE_LOCKED");
  await s.close();
  assert.not.ok(existsSync(join(dir, "superchunk.lock")));
});

test("writer - a read-only reader serves data still in an open super-chunk", async () => {
  const dir = newStore();
  const s = await WritableStore.open(dir, { freezeIdleMs: 60_000 });
  try {
    const data = randomBytes(300 * KIB);
    await writeFile(s, s.root, "fresh", data);
    // committed, not frozen: the bytes live in open/<id>.raw (as after a kill -9)
    assert.ok(readdirSync(join(dir, "open")).length > 0, "an open super-chunk exists");
    const r = openStoreReader(dir, { cacheBytes: 8 * 1024 * 1024 });
    try {
      const ino = r.lookupPath("fresh")!;
      assert.ok((await r.read(ino, 0, data.length)).equals(data));
    } finally {
      await r.close();
    }
  } finally {
    await s.close();
  }
});

test.run();
