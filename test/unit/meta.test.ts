import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Sqlite from "better-sqlite3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { type ErrorCode, isCode } from "../../src/errors.js";
import { hashKey } from "../../src/meta/hash-key.js";
import { MetaDb } from "../../src/meta/meta-db.js";
import { MetaKey, type NewInode } from "../../src/meta/records.js";
import { contentCrc } from "../../src/meta/row-crc.js";
import { META_DB_FILE, ROOT_INO } from "../../src/meta/schema.js";
import {
  FORMAT_VERSION,
  type InodeId,
  InodeKind,
  type SubBlockHash,
  type SubBlockId,
  type SuperChunkId,
} from "../../src/types.js";

// ---- helpers ------------------------------------------------------------------

const dirs: string[] = [];
const dbs: MetaDb[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "sc-meta-"));
  dirs.push(d);
  return d;
}

/** A new database in a fresh temp dir, closed and removed after each test. */
function freshDb(): MetaDb {
  const db = MetaDb.create(join(tempDir(), META_DB_FILE));
  dbs.push(db);
  return db;
}

test.after.each(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) {
    chmodSync(d, 0o755);
    rmSync(d, { recursive: true, force: true, maxRetries: 2 });
  }
});

/** Nanosecond times beyond 2^53, which a JS number cannot hold exactly. */
const T_ATIME = 1_734_567_890_123_456_789n;
const T_MTIME = 1_734_567_890_987_654_321n;
const T_CTIME = 9_000_000_000_000_000_007n;

function sha(s: string | Buffer): Buffer {
  return createHash("sha256").update(s).digest();
}

function inode(kind: InodeKind, extra: Partial<NewInode> = {}): NewInode {
  return {
    kind,
    mode: 0o644,
    uid: 1000,
    gid: 100,
    size: 0,
    atimeNs: T_ATIME,
    mtimeNs: T_MTIME,
    ctimeNs: T_CTIME,
    nlink: 1,
    ...extra,
  };
}

function dir(db: MetaDb, parent: InodeId | null, name?: string | Buffer): InodeId {
  const ino = db.insertInode(inode(InodeKind.dir, { mode: 0o755, nlink: 2 }));
  if (parent !== null && name !== undefined) db.addEntry(parent, Buffer.from(name), ino);
  return ino;
}

function root(db: MetaDb): InodeId {
  return db.insertInode(inode(InodeKind.dir, { ino: ROOT_INO, mode: 0o755, nlink: 2 }));
}

/** One super-chunk holding sub-blocks of the given lengths; returns their ids. */
function subBlocks(db: MetaDb, lengths: number[], tag = "s"): SubBlockId[] {
  const raw = lengths.reduce((a, b) => a + b, 0);
  const sc = db.insertSuperChunk({ codec: "zstd", rawBytes: raw, storedBytes: 10, subBlocks: 3 });
  let offset = 0;
  return lengths.map((length, i) => {
    const hash = sha(`${tag}${i}`) as SubBlockHash;
    const id = db.insertSubBlock({ hash, superChunk: sc, offset, length });
    offset += length;
    return id;
  });
}

/** A regular file with the given content bytes' hash and extents, linked under `parent`. */
function file(db: MetaDb, parent: InodeId, name: string, content: number, size: number): InodeId {
  db.addContentRef(content, 1);
  const ino = db.insertInode(inode(InodeKind.file, { size, content }));
  db.addEntry(parent, Buffer.from(name), ino);
  return ino;
}

function expectCode(fn: () => unknown, code: ErrorCode): void {
  try {
    fn();
  } catch (err) {
    assert.ok(isCode(err, code), `expected ${code}, got ${String(err)}`);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

// ---- lifecycle ------------------------------------------------------------------

test("meta - create, close, reopen keeps meta; create refuses an existing file", () => {
  const path = join(tempDir(), META_DB_FILE);
  const db = MetaDb.create(path);
  assert.is(db.getMeta(MetaKey.formatVersion), String(FORMAT_VERSION));
  assert.is(db.getMeta(MetaKey.state), "building");
  assert.ok(BigInt(db.getMeta(MetaKey.createdNs) ?? "0") > 1_600_000_000_000_000_000n);
  db.setMeta("some_key", "zstd");
  db.setMeta("some_key", "xz");
  db.close();
  db.close();
  assert.not.ok(db.isOpen);
  expectCode(() => MetaDb.create(path), "E_DEST_EXISTS");
  expectCode(() => MetaDb.create(join(path, "..", "no-such-dir", META_DB_FILE)), "E_NOT_FOUND");
  const again = MetaDb.open(path);
  assert.is(again.getMeta("some_key"), "xz");
  assert.is(again.getMeta("nope"), undefined);
  again.close();
  assert.equal(existsSync(`${path}-wal`), false, "last close checkpoints the WAL away");
});

test("meta - open of a missing path or a foreign file is E_NOT_A_STORE", () => {
  const d = tempDir();
  expectCode(() => MetaDb.open(join(d, "missing.db")), "E_NOT_A_STORE");
  expectCode(() => MetaDb.open(d), "E_NOT_A_STORE");
  const junk = join(d, "junk.db");
  writeFileSync(junk, Buffer.alloc(8192, 7));
  expectCode(() => MetaDb.open(junk), "E_NOT_A_STORE");
  expectCode(() => MetaDb.open(junk, { readonly: true }), "E_NOT_A_STORE");
  const empty = join(d, "empty.db"); // a 0-byte file is a valid, empty SQLite database
  writeFileSync(empty, "");
  expectCode(() => MetaDb.open(empty), "E_NOT_A_STORE");
  expectCode(() => MetaDb.fromBuffer(Buffer.alloc(0)), "E_NOT_A_STORE");
});

test("meta - an SQLite file of another program is E_NOT_A_STORE", () => {
  // fixtures made with the driver directly: a foreign schema, and a meta table without a version
  const d = tempDir();
  const foreign = join(d, "foreign.db");
  const noVersion = join(d, "noversion.db");
  const f = new Sqlite(foreign);
  f.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
  f.close();
  const n = new Sqlite(noVersion);
  n.exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('a', 'b')");
  n.close();
  for (const path of [foreign, noVersion]) {
    expectCode(() => MetaDb.open(path), "E_NOT_A_STORE");
    expectCode(() => MetaDb.open(path, { readonly: true }), "E_NOT_A_STORE");
    expectCode(() => MetaDb.fromBuffer(readFileSync(path)), "E_NOT_A_STORE");
  }
});

test("meta - a newer format_version is E_FORMAT_VERSION", () => {
  const path = join(tempDir(), META_DB_FILE);
  const db = MetaDb.create(path);
  db.setMeta(MetaKey.formatVersion, String(FORMAT_VERSION + 1));
  const image = db.serialize();
  db.close();
  expectCode(() => MetaDb.open(path), "E_FORMAT_VERSION");
  expectCode(() => MetaDb.open(path, { readonly: true }), "E_FORMAT_VERSION");
  expectCode(() => MetaDb.fromBuffer(image), "E_FORMAT_VERSION");
});

// ---- inodes and entries -----------------------------------------------------------

test("meta - every inode kind round trips every field, ns times exactly", () => {
  const path = join(tempDir(), META_DB_FILE);
  const db = MetaDb.create(path);
  const target = Buffer.from([0x2e, 0x2e, 0x2f, 0xff, 0xfe, 0x80]); // "../" + invalid UTF-8
  const empty = db.insertContent(sha(""), 0, []);
  const recs: NewInode[] = [
    inode(InodeKind.dir, { ino: ROOT_INO, mode: 0o40755, nlink: 3 }),
    inode(InodeKind.dir, { mode: 0o1777, nlink: 2, size: 4096 }),
    inode(InodeKind.file, { content: empty, mode: 0o104755, uid: 4_000_000_000 }),
    inode(InodeKind.symlink, { target, size: target.length, mode: 0o777 }),
    inode(InodeKind.fifo, { mode: 0o600, atimeNs: -1_500_000_001n }),
    inode(InodeKind.chardev, { rdev: 0x0501 }),
    inode(InodeKind.blockdev, { rdev: 2 ** 40 + 3, gid: 0 }),
    inode(InodeKind.socket, { mtimeNs: 2n ** 62n + 1n }),
  ];
  const inos = db.transaction(() => recs.map((r) => db.insertInode(r)));
  assert.is(inos[0], ROOT_INO);
  db.close();
  const ro = MetaDb.open(path, { readonly: true });
  recs.forEach((r, i) => {
    const got = ro.getInode(inos[i]!);
    assert.ok(got, `inode ${i}`);
    assert.equal(got, {
      ino: inos[i],
      kind: r.kind,
      mode: r.mode & 0o7777,
      uid: r.uid,
      gid: r.gid,
      size: r.size,
      atimeNs: r.atimeNs,
      mtimeNs: r.mtimeNs,
      ctimeNs: r.ctimeNs,
      nlink: r.nlink,
      rdev: r.rdev ?? 0,
      target: r.target ?? null,
      content: r.content ?? null,
    });
    assert.is(typeof got.size, "number");
    assert.is(typeof got.atimeNs, "bigint");
  });
  assert.is(ro.getInode(ROOT_INO)?.ctimeNs, 9_000_000_000_000_000_007n);
  assert.is(ro.getInode(999 as InodeId), undefined);
  assert.equal(ro.countInodes(), { files: 1, dirs: 2, symlinks: 1, other: 4 });
  ro.close();
});

test("meta - inode invariants: content iff file, target iff symlink, integer columns", () => {
  const db = freshDb();
  expectCode(() => db.insertInode(inode(InodeKind.file, { size: 1 })), "E_INTERNAL");
  const empty = db.insertInode(inode(InodeKind.file, { size: 0 })); // an empty file needs no content
  assert.is(db.getInode(empty)?.content, null);
  expectCode(() => db.insertInode(inode(InodeKind.dir, { content: 1 })), "E_INTERNAL");
  expectCode(() => db.insertInode(inode(InodeKind.symlink)), "E_INTERNAL");
  expectCode(() => db.insertInode(inode(9 as InodeKind)), "E_INTERNAL");
  assert.throws(() => db.insertInode(inode(InodeKind.fifo, { size: 1.5 })));
  assert.equal(db.countInodes(), { files: 1, dirs: 0, symlinks: 0, other: 0 });
});

test("meta - updateInode changes only the patched fields", () => {
  const db = freshDb();
  const r = root(db);
  assert.ok(db.updateInode(r, { mtimeNs: 5n, mode: 0o700 }));
  const got = db.getInode(r)!;
  assert.is(got.mtimeNs, 5n);
  assert.is(got.mode, 0o700);
  assert.is(got.atimeNs, T_ATIME);
  assert.not.ok(db.updateInode(77 as InodeId, { size: 1 }));
});

test("meta - non-UTF-8 names round trip and list in byte order", () => {
  const db = freshDb();
  const r = root(db);
  const names = [
    Buffer.from([0xff, 0x01]),
    Buffer.from("b"),
    Buffer.from([0xc3, 0x28]), // invalid UTF-8 sequence
    Buffer.from("B"),
    Buffer.from("a\u00e9"), // valid UTF-8, sorts by bytes not by code point rules
    Buffer.from([0x80]),
  ];
  const inos = names.map((n) => {
    const ino = db.insertInode(inode(InodeKind.fifo));
    db.addEntry(r, n, ino);
    return ino;
  });
  names.forEach((n, i) => {
    assert.is(db.lookup(r, Buffer.from(n)), inos[i]);
  });
  const listed = db.listDir(r);
  const sorted = [...names].sort(Buffer.compare);
  assert.equal(
    listed.map((e) => e.name.toString("hex")),
    sorted.map((n) => n.toString("hex")),
  );
  assert.ok(listed.every((e) => Buffer.isBuffer(e.name)));
  assert.is(db.lookup(r, Buffer.from("c")), undefined);
  expectCode(() => db.addEntry(r, Buffer.from("b"), inos[0]!), "E_DEST_EXISTS");
  for (const bad of ["", "a/b", ".", "..", "x\0y"]) {
    const code = bad === "" || bad.includes("\0") ? "E_USAGE" : "E_PATH_ESCAPE";
    expectCode(() => db.addEntry(r, Buffer.from(bad), inos[0]!), code);
  }
  assert.ok(db.addEntry(r, Buffer.from("..."), inos[0]!) === undefined);
});

test("meta - hard links: two entries, one inode, nlink 2", () => {
  const db = freshDb();
  const r = root(db);
  const sub = dir(db, r, "sub");
  const c = db.insertContent(sha(""), 0, []);
  const ino = file(db, r, "one", c, 0);
  db.addEntry(sub, Buffer.from("two"), ino);
  dir(db, sub, "deeper");
  assert.is(db.resolvePath("one"), ino);
  assert.is(db.resolvePath("sub/two"), ino);
  assert.is(db.getInode(ino)?.nlink, 1);
  assert.is(db.recomputeNlinks(), 3, "the linked file, the root and sub were wrong");
  assert.is(db.getInode(ino)?.nlink, 2);
  assert.is(db.getInode(r)?.nlink, 3, "root: 2 + one subdirectory");
  assert.is(db.getInode(sub)?.nlink, 3);
  assert.is(db.recomputeNlinks(), 0);
  assert.is(db.getContent(c)?.refcount, 1, "one inode uses the content");
});

test("meta - resolvePath from the root, strings or bytes", () => {
  const db = freshDb();
  assert.is(db.resolvePath("/"), undefined, "no root yet");
  const r = root(db);
  const a = dir(db, r, "a");
  const weird = Buffer.from([0xfe, 0x41]);
  const b = dir(db, a, weird);
  assert.is(db.resolvePath("/"), r);
  assert.is(db.resolvePath(""), r);
  assert.is(db.resolvePath("a"), a);
  assert.is(db.resolvePath("/a//./"), a);
  assert.is(db.resolvePath(Buffer.concat([Buffer.from("a/"), weird])), b);
  assert.is(db.resolvePath("a/missing"), undefined);
  assert.is(db.resolvePath("a/.."), undefined, "'..' is a plain name and never stored");
});

test("meta - walk visits parents before children, siblings by name bytes", () => {
  const db = freshDb();
  const r = root(db);
  const b = dir(db, r, "b");
  const a = dir(db, r, "a");
  const fifo = db.insertInode(inode(InodeKind.fifo));
  db.addEntry(a, Buffer.from("z"), fifo);
  db.addEntry(b, Buffer.from("y"), fifo);
  const ab = dir(db, a, Buffer.from([0x80]));
  db.addEntry(ab, Buffer.from("x"), fifo);
  dir(db, r, "c");
  const seen = [...db.walk()];
  assert.equal(
    seen.map((e) => e.path.toString("latin1")),
    ["a", "a/z", "a/\x80", "a/\x80/x", "b", "b/y", "c"],
  );
  assert.equal(
    seen.map((e) => e.parent),
    [r, a, a, ab, r, b, r],
  );
  // a directory entry pointing back at an ancestor is corruption, not an endless walk
  db.addEntry(ab, Buffer.from("loop"), a);
  expectCode(() => [...db.walk()], "E_CORRUPT");
});

// ---- contents, extents, sub-blocks ------------------------------------------------

test("meta - whole-file dedup: one content, refcount 2", () => {
  const db = freshDb();
  const r = root(db);
  const [s0, s1] = subBlocks(db, [100, 50]);
  const hash = sha("file bytes");
  assert.equal(db.findContentCandidates(hash), []);
  const c = db.insertContent(hash, 150, [
    { subBlock: s0!, length: 100 },
    { subBlock: s1!, length: 50 },
  ]);
  assert.is(db.getContent(c)?.refcount, 0, "starts at 0");
  file(db, r, "x", c, 150);
  const again = db.findContentCandidates(Buffer.from(hash));
  assert.equal(
    again.map((x) => x.id),
    [c],
  );
  file(db, r, "y", again[0]!.id, 150);
  assert.equal(db.getContent(c), { id: c, hkey: hashKey(hash), size: 150, refcount: 2 });
  assert.is(db.getInode(db.resolvePath("y")!)?.content, c);
  expectCode(() => db.addContentRef(c, -3), "E_INTERNAL");
  assert.is(db.getContent(c)?.refcount, 2, "a refused change is rolled back");
  expectCode(() => db.addContentRef(12345, 1), "E_INTERNAL");
  assert.is(db.getSubBlock(s0!)?.refcount, 1, "sub-blocks count extents, not inodes");
});

test("meta - extents with holes; resolveExtents and findExtent offsets", () => {
  const db = freshDb();
  const [s0, s1] = subBlocks(db, [1000, 300]);
  const sc = db.getSubBlock(s0!)!.superChunk;
  const k0 = db.getSubBlock(s0!)!.hkey;
  const k1 = db.getSubBlock(s1!)!.hkey;
  const extents = [
    { subBlock: null, length: 4096 },
    { subBlock: s0!, length: 1000 },
    { subBlock: null, length: 2 ** 33 }, // a hole beyond 2^32
    { subBlock: s1!, length: 300 },
  ];
  const size = 4096 + 1000 + 2 ** 33 + 300;
  const c = db.insertContent(sha("sparse"), size, extents);
  assert.equal(db.getExtents(c), extents);
  const resolved = db.resolveExtents(c);
  assert.equal(resolved, [
    { fileOffset: 0, length: 4096, subBlock: null, superChunk: null, offset: 0, hkey: null },
    { fileOffset: 4096, length: 1000, subBlock: s0, superChunk: sc, offset: 0, hkey: k0 },
    { fileOffset: 5096, length: 2 ** 33, subBlock: null, superChunk: null, offset: 0, hkey: null },
    {
      fileOffset: 5096 + 2 ** 33,
      length: 300,
      subBlock: s1,
      superChunk: sc,
      offset: 1000,
      hkey: k1,
    },
  ]);
  assert.equal(db.findExtent(c, 0), resolved[0]);
  assert.equal(db.findExtent(c, 4096), resolved[1]);
  assert.equal(db.findExtent(c, 5095), resolved[1]);
  assert.equal(db.findExtent(c, size - 1), resolved[3]);
  assert.is(db.findExtent(c, size), undefined);
  assert.equal(db.resolveExtents(db.insertContent(sha(""), 0, [])), []);
});

test("meta - insertContent counts every extent in sub-block refcounts, atomically", () => {
  const db = freshDb();
  const [s0, s1, s2] = subBlocks(db, [10, 20, 30]);
  const sc = db.getSubBlock(s0!)!.superChunk;
  assert.is(db.getSuperChunk(sc)?.liveBytes, 0);
  db.insertContent(sha("a"), 30, [
    { subBlock: s0!, length: 10 },
    { subBlock: s1!, length: 20 },
  ]);
  db.insertContent(sha("b"), 20, [
    { subBlock: s0!, length: 10 },
    { subBlock: s0!, length: 10 },
  ]);
  assert.equal(
    [s0, s1, s2].map((s) => db.getSubBlock(s!)?.refcount),
    [3, 1, 0],
  );
  assert.is(db.getSuperChunk(sc)?.liveBytes, 30, "s2 is dead");
  // a missing sub-block, or a length that is not the sub-block's, leaves no trace
  const bad = sha("bad");
  expectCode(
    () =>
      db.insertContent(bad, 20, [
        { subBlock: s2!, length: 10 },
        { subBlock: s1!, length: 10 },
      ]),
    "E_INTERNAL",
  );
  expectCode(
    () => db.insertContent(bad, 5, [{ subBlock: 999 as SubBlockId, length: 5 }]),
    "E_INTERNAL",
  );
  expectCode(() => db.insertContent(bad, 11, [{ subBlock: s0!, length: 10 }]), "E_INTERNAL");
  assert.equal(db.findContentCandidates(bad), []);
  assert.is(db.getSubBlock(s2!)?.refcount, 0);
  assert.equal(db.recomputeRefcounts(), { contents: 0, subBlocks: 0, superChunks: 0 });
});

test("meta - sub-block index and super-chunk table", () => {
  const db = freshDb();
  const sc = db.insertSuperChunk({
    codec: "xz",
    rawBytes: 5 * 2 ** 30,
    storedBytes: 3e9,
    subBlocks: 2,
  });
  const chosen = db.insertSuperChunk({
    id: 40 as SuperChunkId,
    codec: "zstd",
    rawBytes: 1,
    storedBytes: 1,
    subBlocks: 1,
  });
  assert.is(chosen, 40);
  const next = db.insertSuperChunk({ codec: "lz4", rawBytes: 1, storedBytes: 1, subBlocks: 0 });
  assert.is(next, 41);
  const hash = sha("blk") as SubBlockHash;
  const id = db.insertSubBlock({ hash, superChunk: sc, offset: 2 ** 32, length: 7 });
  const id2 = db.insertSubBlock({
    hash: sha("blk2") as SubBlockHash,
    superChunk: sc,
    offset: 0,
    length: 9,
  });
  assert.equal(
    db.findSubBlockCandidates(Buffer.from(hash)).map((s) => s.id),
    [id],
  );
  assert.equal(db.findSubBlockCandidates(sha("none")), []);
  assert.equal(db.getSubBlock(id), {
    id,
    hkey: hash.readBigInt64BE(0),
    superChunk: sc,
    offset: 2 ** 32,
    length: 7,
    refcount: 0,
  });
  assert.equal(
    db.listSubBlocks(sc).map((s) => s.id),
    [id2, id],
  );
  expectCode(
    () =>
      db.insertSubBlock({
        hash: sha("short").subarray(1) as SubBlockHash,
        superChunk: sc,
        offset: 0,
        length: 7,
      }),
    "E_INTERNAL",
  );
  assert.equal(db.getSuperChunk(sc), {
    id: sc,
    codec: "xz",
    rawBytes: 5 * 2 ** 30,
    storedBytes: 3e9,
    liveBytes: 0,
    subBlocks: 2,
  });
  assert.equal(
    db.listSuperChunks().map((s) => s.id),
    [sc, 40, 41],
  );
  assert.is(db.getSuperChunk(999 as SuperChunkId), undefined);
});

test("meta - inodesUsingSubBlock, stats and recomputeRefcounts", () => {
  const db = freshDb();
  const r = root(db);
  const [s0, s1] = subBlocks(db, [100, 200]);
  const c1 = db.insertContent(sha("1"), 100, [{ subBlock: s0!, length: 100 }]);
  const c2 = db.insertContent(sha("2"), 300, [
    { subBlock: s0!, length: 100 },
    { subBlock: s1!, length: 200 },
  ]);
  const f1 = file(db, r, "f1", c1, 100);
  const f2 = file(db, r, "f2", c2, 300);
  const f3 = file(db, r, "f3", c2, 300);
  assert.equal(db.inodesUsingSubBlock(s0!), [f1, f2, f3]);
  assert.equal(db.inodesUsingSubBlock(s1!), [f2, f3]);
  const st = db.stats();
  assert.equal(
    { ...st, dbBytes: 0 },
    {
      logicalBytes: 700,
      uniqueBytes: 300,
      storedBytes: 10,
      superChunks: 1,
      subBlocks: 2,
      dbBytes: 0,
    },
  );
  assert.ok(st.dbBytes > 0);
  db.addContentRef(c2, 5); // a wrong count, as a crash-free bug could leave
  assert.equal(db.recomputeRefcounts(), { contents: 1, subBlocks: 0, superChunks: 0 });
  assert.is(db.getContent(c2)?.refcount, 2);
});

/** A 32-byte hash made of an 8-byte key prefix and a distinct tail. */
function keyed(prefix: string, tail: number): Buffer {
  const h = Buffer.alloc(32, tail);
  Buffer.from(prefix, "hex").copy(h);
  return h;
}

test("meta - hashKey is the first 8 bytes as a signed big-endian int64", () => {
  assert.is(hashKey(keyed("0000000000000001", 9)), 1n);
  assert.is(hashKey(keyed("ffffffffffffffff", 9)), -1n);
  assert.is(hashKey(keyed("8000000000000000", 0)), -(2n ** 63n));
  expectCode(() => hashKey(Buffer.alloc(31)), "E_INTERNAL");
});

test("meta - candidate lookup returns every row sharing the key, and only those", () => {
  const db = freshDb();
  const sc = db.insertSuperChunk({ codec: "zstd", rawBytes: 30, storedBytes: 9, subBlocks: 3 });
  const prefix = "f00dfeedcafe0001"; // high bit set: a negative key
  const [a, b, other] = [keyed(prefix, 1), keyed(prefix, 2), keyed("f00dfeedcafe0002", 1)];
  const ids = [a, b, other].map((hash, i) =>
    db.insertSubBlock({ hash: hash as SubBlockHash, superChunk: sc, offset: 10 * i, length: 10 }),
  );
  const found = db.findSubBlockCandidates(a);
  assert.equal(
    found.map((s) => [s.id, s.offset, s.hkey]),
    [
      [ids[0], 0, hashKey(a)],
      [ids[1], 10, hashKey(a)],
    ],
  );
  assert.ok(found[0]!.hkey < 0n);
  assert.equal(
    db.findSubBlockCandidates(b).map((s) => s.id),
    ids.slice(0, 2),
    "the key, not the hash, selects",
  );
  assert.equal(
    db.findSubBlockCandidates(other).map((s) => s.id),
    [ids[2]],
  );
  const c1 = db.insertContent(a, 10, [{ subBlock: ids[0]!, length: 10 }]);
  const c2 = db.insertContent(b, 10, [{ subBlock: ids[1]!, length: 10 }]);
  assert.equal(
    db.findContentCandidates(keyed(prefix, 7)).map((c) => [c.id, c.hkey, c.size]),
    [
      [c1, hashKey(a), 10],
      [c2, hashKey(a), 10],
    ],
  );
  assert.equal(db.findContentCandidates(other), []);
});

test("meta - extent lists: long ids, backward steps, repeats and huge holes round trip", () => {
  const db = freshDb();
  const ids = subBlocks(db, [5, 6, 7, 8]);
  const far = db.insertSubBlock({
    hash: sha("far") as SubBlockHash,
    // a super-chunk whose raw bytes hold it (readers check extents against raw_bytes)
    superChunk: db.insertSuperChunk({ codec: "zstd", rawBytes: 35, storedBytes: 9, subBlocks: 1 }),
    offset: 26,
    length: 9,
  });
  const extents = [
    { subBlock: ids[3]!, length: 8 },
    { subBlock: ids[0]!, length: 5 },
    { subBlock: null, length: 1 },
    { subBlock: ids[0]!, length: 5 },
    { subBlock: null, length: 2 ** 45 + 3 },
    { subBlock: far, length: 9 },
    { subBlock: ids[2]!, length: 7 },
  ];
  const size = extents.reduce((n, e) => n + e.length, 0);
  const c = db.insertContent(sha("mix"), size, extents);
  assert.equal(db.getExtents(c), extents);
  assert.is(db.getSubBlock(ids[0]!)?.refcount, 2);
  assert.is(db.resolveExtents(c)[5]?.fileOffset, 8 + 5 + 1 + 5 + 2 ** 45 + 3);
  assert.equal(db.findExtent(c, 13), db.resolveExtents(c)[2]);
});

test("meta - a damaged extent list or a missing sub-block is E_CORRUPT", () => {
  const path = join(tempDir(), META_DB_FILE);
  const db = MetaDb.create(path);
  const [s0] = subBlocks(db, [10]);
  const c = db.insertContent(sha("x"), 10, [{ subBlock: s0!, length: 10 }]);
  db.close();
  const raw = new Sqlite(path);
  const hkey = raw.prepare("SELECT hkey FROM contents WHERE id = ?").pluck().safeIntegers();
  const damage = (blob: Buffer, size = 10) =>
    raw
      .prepare("UPDATE contents SET extents = ?, size = ?, crc = ? WHERE id = ?")
      .run(blob, size, contentCrc(hkey.get(c) as bigint, size, blob), c);
  const open = () => {
    const m = MetaDb.open(path, { readonly: true });
    dbs.push(m);
    return m;
  };
  damage(Buffer.from([0x80])); // a varint that never ends
  expectCode(() => open().resolveExtents(c), "E_CORRUPT");
  damage(Buffer.from([0x06])); // a step back to id 0
  expectCode(() => open().getExtents(c), "E_CORRUPT");
  damage(Buffer.from([0x08])); // id 2: no such sub-block
  expectCode(() => open().resolveExtents(c), "E_CORRUPT");
  damage(Buffer.from([0x04]), 11); // id 1, but the content claims 11 bytes
  expectCode(() => open().findExtent(c, 0), "E_CORRUPT");
  damage(Buffer.from([0x04]));
  assert.is(open().resolveExtents(c)[0]?.length, 10, "the original list reads again");
  raw.close();
});

test("meta - recomputeRefcounts and recomputeNlinks repair counts by scanning", () => {
  const path = join(tempDir(), META_DB_FILE);
  const db = MetaDb.create(path);
  dbs.push(db);
  const r = root(db);
  const [s0, s1, s2] = subBlocks(db, [10, 20, 30]);
  const c = db.insertContent(sha("c"), 40, [
    { subBlock: s0!, length: 10 },
    { subBlock: null, length: 10 },
    { subBlock: s1!, length: 20 },
  ]);
  file(db, r, "f", c, 40);
  const raw = new Sqlite(path);
  raw.exec(`UPDATE sub_blocks SET refcount = 5 WHERE id <> 2; UPDATE inodes SET nlink = 9;
    UPDATE superchunks SET live_bytes = 1`);
  raw.close();
  assert.equal(db.recomputeRefcounts(), { contents: 0, subBlocks: 2, superChunks: 1 });
  assert.equal(
    [s0, s1, s2].map((s) => db.getSubBlock(s!)?.refcount),
    [1, 1, 0],
  );
  assert.is(db.getSuperChunk(db.getSubBlock(s0!)!.superChunk)?.liveBytes, 30);
  assert.is(db.recomputeNlinks(), 2);
  assert.equal([db.getInode(r)?.nlink, db.getInode(db.resolvePath("f")!)?.nlink], [2, 1]);
});

test("meta - compact drops free pages, folds the WAL in, stays in WAL mode", () => {
  const path = join(tempDir(), META_DB_FILE);
  const db = MetaDb.create(path);
  dbs.push(db);
  const r = root(db);
  db.setMeta("filler", "x".repeat(300_000));
  db.setMeta("filler", "");
  assert.ok(statSync(`${path}-wal`).size > 0);
  expectCode(() => db.transaction(() => db.compact()), "E_USAGE");
  const before = db.stats().dbBytes;
  db.compact();
  assert.ok(db.stats().dbBytes < before - 250_000, `${db.stats().dbBytes} vs ${before}`);
  assert.is(statSync(`${path}-wal`).size, 0, "WAL truncated");
  assert.is(statSync(path).size, db.stats().dbBytes, "the file holds every page");
  dir(db, r, "after");
  assert.is(db.resolvePath("after"), 2, "still writable");
  const raw = new Sqlite(path, { readonly: true });
  assert.is(raw.pragma("journal_mode", { simple: true }), "wal");
  assert.is(raw.pragma("page_size", { simple: true }), 1024);
  assert.is(raw.pragma("freelist_count", { simple: true }), 0);
  raw.close();
  db.close();
  const ro = MetaDb.open(path, { readonly: true });
  dbs.push(ro);
  expectCode(() => ro.compact(), "E_USAGE");
});

test("meta - xattrs set, replace, list by name bytes, remove", () => {
  const db = freshDb();
  const r = root(db);
  const n1 = Buffer.from("user.b");
  const n2 = Buffer.from([0x75, 0xff]);
  db.setXattr(r, n1, Buffer.from("one"));
  db.setXattr(r, n1, Buffer.from([0, 1, 2]));
  db.setXattr(r, n2, Buffer.alloc(0));
  assert.equal(db.getXattr(r, n1), Buffer.from([0, 1, 2]));
  assert.equal(db.getXattr(r, n2)?.length, 0);
  assert.is(db.getXattr(r, Buffer.from("user.none")), undefined);
  assert.equal(
    db.listXattrs(r).map((x) => x.name.toString("hex")),
    [n1, n2].map((n) => n.toString("hex")),
  );
  assert.ok(db.removeXattr(r, n1));
  assert.not.ok(db.removeXattr(r, n1));
  assert.is(db.listXattrs(r).length, 1);
  assert.equal(db.listXattrs(2 as InodeId), []);
});

// ---- read-only paths ----------------------------------------------------------------

test("meta - fromBuffer opens a WAL file image and a serialized image, read-only", () => {
  const path = join(tempDir(), META_DB_FILE);
  const db = MetaDb.create(path);
  const r = root(db);
  dir(db, r, Buffer.from([0xee]));
  const live = db.serialize(); // includes commits still in the WAL
  db.close();
  const file = readFileSync(path);
  assert.equal([file[18], file[19]], [2, 2], "the file says WAL");
  for (const image of [file, live]) {
    const before = Buffer.from(image);
    const m = MetaDb.fromBuffer(image);
    assert.ok(image.equals(before), "the caller's buffer is left as it was");
    assert.ok(m.readonly);
    assert.is(m.resolvePath(Buffer.from([0xee])), 2);
    assert.is(m.getInode(r)?.mtimeNs, T_MTIME);
    assert.throws(() => m.setMeta("x", "y"));
    m.close();
  }
});

test("meta - read-only open refuses writes and leaves the data alone", () => {
  const path = join(tempDir(), META_DB_FILE);
  MetaDb.create(path).close();
  const ro = MetaDb.open(path, { readonly: true });
  assert.throws(() => ro.setMeta(MetaKey.state, "complete"));
  expectCode(() => ro.transaction(() => ro.setMeta(MetaKey.state, "complete")), "E_UNREADABLE");
  assert.is(ro.getMeta(MetaKey.state), "building");
  ro.close();
});

/** What a read-only open saw: the state and the ino of "a", or the error code. */
type Seen = { state?: string; a?: number; code?: string; wal?: string };

const CHILD_SCRIPT = `
const { MetaDb } = await import(process.argv[1]);
try {
  const db = MetaDb.open(process.argv[2], { readonly: true });
  console.log(JSON.stringify({ state: db.getMeta("state"), a: db.resolvePath("a") }));
  db.close();
} catch (err) {
  console.log(JSON.stringify({ code: err.code, wal: err.data?.wal }));
}
`;

/** Opens `path` read-only as a user who cannot write its directory. */
function readOnlyOpen(path: string): Seen {
  if (process.getuid?.() === 0) {
    // root ignores directory permissions: read as "nobody" in a child process
    const mod = new URL("../../src/meta/meta-db.js", import.meta.url).href;
    const args = ["--input-type=module", "-e", CHILD_SCRIPT, mod, path];
    const res = spawnSync(process.execPath, args, { uid: 65534, gid: 65534, encoding: "utf8" });
    assert.is(res.status, 0, res.stderr);
    return JSON.parse(res.stdout);
  }
  try {
    const ro = MetaDb.open(path, { readonly: true });
    const out = { state: ro.getMeta("state"), a: ro.resolvePath("a") };
    ro.close();
    return out;
  } catch (err) {
    const e = err as { code?: string; data?: { wal?: string } };
    return { code: e.code, wal: e.data?.wal };
  }
}

/** A store directory that others can read, with a db whose root holds directory "a". */
function readableStore(): { store: string; path: string; db: MetaDb; a: InodeId } {
  const top = tempDir();
  chmodSync(top, 0o755);
  const store = join(top, "store");
  mkdirSync(store);
  const path = join(store, META_DB_FILE);
  const db = MetaDb.create(path);
  dbs.push(db);
  const a = dir(db, root(db), "a");
  db.setMeta(MetaKey.state, "complete");
  return { store, path, db, a };
}

test("meta - read-only open works in a read-only directory", () => {
  const { store, path, db, a } = readableStore();
  db.close();
  chmodSync(path, 0o444);
  chmodSync(store, 0o555);
  try {
    assert.equal(readOnlyOpen(path), { state: "complete", a });
    assert.not.ok(existsSync(`${path}-shm`), "nothing was created in the directory");
  } finally {
    chmodSync(store, 0o755);
  }
});

test("meta - read-only open in a read-only directory refuses to skip a WAL with commits", () => {
  const { store, path, db } = readableStore();
  // a copy of the files as a crashed writer leaves them: commits in -wal, no -shm
  const copy = join(store, "crashed");
  mkdirSync(copy);
  const copyPath = join(copy, META_DB_FILE);
  copyFileSync(path, copyPath);
  copyFileSync(`${path}-wal`, `${copyPath}-wal`);
  db.close();
  assert.ok(statSync(`${copyPath}-wal`).size > 0);
  chmodSync(copy, 0o555);
  try {
    assert.equal(readOnlyOpen(copyPath), { code: "E_UNREADABLE", wal: `${copyPath}-wal` });
  } finally {
    chmodSync(copy, 0o755);
  }
});

test.run();
