/**
 * Each `entries` row carries a check value of its name, directory and inode, each
 * `contents` row one of its key, size and extent list (crc), so a database changed under
 * the store (a byte of a name, an entry pointed elsewhere, extents swapped, a key) is E_CORRUPT on
 * every read path instead of a different tree or file served as if right. Stores written
 * before the columns read unchecked and gain them at their first writable open.
 */
import * as path from "node:path";
import { crc32 } from "node:zlib";
import type Database from "better-sqlite3";
import Sqlite from "better-sqlite3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isCode } from "../../src/errors.js";
import { extractTree } from "../../src/export/extract.js";
import { fsckClean, fsckStore } from "../../src/maintain/fsck.js";
import { decodeExtents, encodeExtents } from "../../src/meta/extent-list.js";
import { MetaDb } from "../../src/meta/meta-db.js";
import { contentCrc, entryCrc, INODE_CRC_ARGS, inodeCrc } from "../../src/meta/row-crc.js";
import { openStoreReader } from "../../src/reader/store-reader.js";
import { type InodeId, InodeKind, type SubBlockId } from "../../src/types.js";
import { contentAt, editDb, inoAt, plainDb, smallStoreCopies } from "../helpers/damaged-store.js";
import { cleanupTmp, compareTrees, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

/** A fresh copy of the small store (packed once per run). */
const copyOfStore = smallStoreCopies("crc");
const B = (s: string) => Buffer.from(s);

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

/** fsck's tree problems of check `check`, by message. */
async function fsckSays(store: string, check: string): Promise<string[]> {
  const r = await fsckStore(store);
  return r.problems.filter((p) => p.check === check).map((p) => p.message);
}

/** The one change damage made: a byte of the name "a.txt" (the row's crc left as it was). */
const nameByte = (db: Database.Database) => {
  db.prepare("UPDATE entries SET name = ? WHERE parent = 1 AND name = ?").run(
    Buffer.from("a.tyt"),
    Buffer.from("a.txt"),
  );
};

test("row-crc - a byte of a name changed: extract, readdir and lookup are E_CORRUPT, fsck names it", async () => {
  const s = await copyOfStore();
  editDb(s.store, nameByte);
  const err = await rejection(extractTree(s.store, path.join(s.root, "out")));
  assert.ok(isCode(err, "E_CORRUPT"), String(err));
  assert.match((err as Error).message, /a\.tyt/);
  const r = openStoreReader(s.store);
  try {
    assert.throws(() => r.readdir(1 as InodeId), /check value does not match/);
    assert.throws(() => r.lookupPath("a.tyt"), /check value does not match/);
    assert.is(r.lookupPath("a.txt"), undefined, "the old name is gone, not served");
    const c = r.lookupPath("b/c.bin");
    assert.ok(c !== undefined, "other entries still resolve");
  } finally {
    await r.close();
  }
  assert.equal(await fsckSays(s.store, "entry-crc"), [
    'entry "a.tyt": its check value does not match its name, directory and inode',
  ]);
});

test("row-crc - an entry pointed at another file's inode is E_CORRUPT, not that file's bytes", async () => {
  const s = await copyOfStore();
  editDb(s.store, (db) => {
    db.prepare("UPDATE entries SET ino = ? WHERE parent = 1 AND name = ?").run(
      inoAt(db, "b/c.bin"),
      Buffer.from("a.txt"),
    );
  });
  const r = openStoreReader(s.store);
  try {
    const err = (() => {
      try {
        return r.lookupPath("a.txt");
      } catch (e) {
        return e;
      }
    })();
    assert.ok(isCode(err, "E_CORRUPT"), String(err));
  } finally {
    await r.close();
  }
  const err = await rejection(extractTree(s.store, path.join(s.root, "out")));
  assert.ok(isCode(err, "E_CORRUPT"), String(err));
  assert.equal((await fsckSays(s.store, "entry-crc")).length, 1);
});

test("row-crc - a store written before the column reads unchecked, and gains it when opened for writing", async () => {
  const s = await copyOfStore();
  editDb(s.store, (db) => {
    db.exec("ALTER TABLE entries DROP COLUMN crc");
    db.exec("ALTER TABLE contents DROP COLUMN crc");
    db.exec("ALTER TABLE inodes DROP COLUMN crc");
  });
  const out = path.join(s.root, "out");
  await extractTree(s.store, out);
  assert.equal(compareTrees(s.src, out), [], "read unchecked");
  assert.ok(fsckClean(await fsckStore(s.store)), "fsck clean without the column");
  MetaDb.open(plainDb(s.store)).close(); // a writable open
  editDb(s.store, (db) => {
    const rows = db.prepare("SELECT parent, name, ino, crc FROM entries").all() as {
      parent: number;
      name: Buffer;
      ino: number;
      crc: number;
    }[];
    assert.ok(rows.length >= 6);
    for (const e of rows) assert.is(e.crc, entryCrc(e.parent, e.name, e.ino), String(e.name));
    const contents = db
      .prepare("SELECT hkey, size, extents, crc FROM contents")
      .safeIntegers()
      .all() as { hkey: bigint; size: bigint; extents: Buffer; crc: bigint }[];
    assert.ok(contents.length >= 2);
    for (const c of contents) {
      assert.is(Number(c.crc), contentCrc(c.hkey, Number(c.size), c.extents));
    }
    assertInodeCrcs(db);
  });
  assert.ok(fsckClean(await fsckStore(s.store)), "fsck clean with the column filled");
  editDb(s.store, nameByte);
  assert.equal((await fsckSays(s.store, "entry-crc")).length, 1, "and checked from then on");
});

/** Every inode row of `db` holds the check value of its columns, computed here. */
function assertInodeCrcs(db: Database.Database): void {
  const sql = `SELECT ${INODE_CRC_ARGS}, crc FROM inodes`;
  const rows = db.prepare(sql).raw().safeIntegers().all() as unknown[][];
  assert.ok(rows.length >= 2);
  for (const r of rows) assert.is(Number(r[13]), inodeCrc(r), `inode ${r[0]}`);
}

test("row-crc - an inode's time, mode or owner changed: every read of it is E_CORRUPT, fsck names it", async () => {
  const changes = ["mtime_ns = mtime_ns + 1", "mode = (mode | 2) - (mode & 2)", "uid = uid + 1"];
  for (const change of changes) {
    const s = await copyOfStore();
    editDb(s.store, (db) => {
      db.prepare(`UPDATE inodes SET ${change} WHERE ino = ?`).run(inoAt(db, "a.txt"));
    });
    const err = await rejection(extractTree(s.store, path.join(s.root, "out")));
    assert.ok(isCode(err, "E_CORRUPT"), `${change}: ${String(err)}`);
    assert.match((err as Error).message, /check value does not match its attributes/);
    const r = openStoreReader(s.store);
    try {
      const ino = r.lookupPath("a.txt")!;
      assert.throws(() => r.getattr(ino), /check value does not match its attributes/);
      const b = r.lookupPath("b/c.bin")!;
      assert.is((await r.read(b, 0, 10)).length, 10, "other files still read");
    } finally {
      await r.close();
    }
    const says = await fsckSays(s.store, "inode-crc");
    assert.is(says.length, 1, change);
    assert.match(says[0]!, /check value does not match its attributes/);
  }
});

test("row-crc - rows a writer adds and renames carry their right check values", () => {
  const dir = tmpDir("crc-db");
  const db = MetaDb.create(path.join(dir, "superchunk.db"));
  try {
    const name = Buffer.from("x");
    const to = Buffer.from("y");
    db.transaction(() => {
      db.addEntry(1 as InodeId, name, 7 as InodeId);
      db.writes.moveEntry(1 as InodeId, name, 3 as InodeId, to);
    });
    assert.is(db.lookup(3 as InodeId, to), 7);
    assert.equal(db.listDir(3 as InodeId), [{ name: to, ino: 7 }]);
  } finally {
    db.close();
  }
  // inodes a writer inserts, updates and whose link counts it recomputes
  const wdb = MetaDb.create(path.join(dir, "w.db"));
  try {
    const t = 1_700_000_000_123_456_789n;
    const base = { mode: 0o644, uid: 1, gid: 2, atimeNs: t, mtimeNs: t, ctimeNs: t, nlink: 1 };
    const root = { ...base, kind: InodeKind.dir, size: 0, mode: 0o755, nlink: 2 };
    wdb.transaction(() => {
      const r = wdb.insertInode({ ...root, ino: 1 as InodeId });
      const f = wdb.insertInode({ ...base, kind: InodeKind.symlink, size: 3, target: B("abc") });
      wdb.addEntry(r, B("l"), f);
      wdb.updateInode(f, { mtimeNs: t + 5n, uid: 7 });
      wdb.insertInode({ ...root, nlink: 9 });
    });
    wdb.transaction(() => wdb.recomputeNlinks());
  } finally {
    wdb.close();
  }
  const wraw = new Sqlite(path.join(dir, "w.db"));
  try {
    assertInodeCrcs(wraw);
  } finally {
    wraw.close();
  }
  const raw = MetaDb.open(path.join(dir, "superchunk.db"), { readonly: true });
  raw.close();
  // spec/FORMAT.md's definition, computed here independently
  for (const [parent, ino] of [
    [1, 2],
    [2 ** 40 + 5, 2 ** 33],
    [-5, 7],
    [0, 2 ** 53 - 1],
  ]) {
    const head = Buffer.alloc(16);
    head.writeBigInt64LE(BigInt(parent!), 0);
    head.writeBigInt64LE(BigInt(ino!), 8);
    const want = crc32(Buffer.from("name"), crc32(head)) & 0x7fffff;
    assert.is(entryCrc(parent!, Buffer.from("name"), ino!), want, `${parent} ${ino}`);
  }
  for (const [hkey, size] of [
    [0n, 0],
    [-(2n ** 63n), 2 ** 50],
    [2n ** 63n - 1n, 7],
  ] as const) {
    const head = Buffer.alloc(16);
    head.writeBigInt64LE(hkey, 0);
    head.writeBigInt64LE(BigInt(size), 8);
    const list = Buffer.from([1, 2, 3]);
    const want = crc32(list, crc32(head)) & 0x7fffff;
    assert.is(contentCrc(hkey, size, list), want, `${hkey} ${size}`);
  }
  assert.is.not(contentCrc(5n, 9, Buffer.from([1])), contentCrc(4n, 9, Buffer.from([1])));
  {
    // an inode: ino, kind, mode, uid, gid, size, the three times, nlink, rdev, content or
    // -1, the target's length or -1 (8 bytes each), then the target's bytes
    const head = Buffer.alloc(13 * 8);
    const ints = [9n, 3n, 0o777n, 0n, 0n, 3n, -1n, 2n ** 62n, 5n, 1n, 0n, -1n, 3n];
    for (const [i, v] of ints.entries()) head.writeBigInt64LE(v, i * 8);
    const want = crc32(Buffer.from("abc"), crc32(head)) & 0x7fffff;
    const cols = [9, 3, 0o777, 0, 0, 3, -1n, 2n ** 62n, 5n, 1, 0, Buffer.from("abc"), null];
    assert.is(inodeCrc(cols), want);
    assert.is.not(inodeCrc([...cols.slice(0, 11), null, null]), want, "no target differs");
  }
  assert.is.not(entryCrc(3, Buffer.from("y"), 7), entryCrc(3, Buffer.from("z"), 7));
  assert.is.not(entryCrc(3, Buffer.from("y"), 7), entryCrc(4, Buffer.from("y"), 7));
  assert.is.not(entryCrc(3, Buffer.from("y"), 7), entryCrc(3, Buffer.from("y"), 8));
});

test("row-crc - extents swapped in a content's row: E_CORRUPT before a byte is served, fsck says so", async () => {
  const s = await copyOfStore();
  editDb(s.store, (db) => {
    const id = contentAt(db, "b/c.bin");
    const blob = db.prepare("SELECT extents FROM contents WHERE id = ?").pluck().get(id);
    const codes = decodeExtents(blob as Buffer, id);
    assert.ok(codes.length >= 2 && codes[0] !== codes[1]);
    [codes[0], codes[1]] = [codes[1]!, codes[0]!];
    const list = encodeExtents(
      codes.map((c) =>
        c > 0 ? { subBlock: c as SubBlockId, length: 0 } : { subBlock: null, length: -c },
      ),
    );
    db.prepare("UPDATE contents SET extents = ? WHERE id = ?").run(list, id);
  });
  const r = openStoreReader(s.store);
  try {
    const ino = r.lookupPath("b/c.bin")!;
    const err = await rejection(r.read(ino, 0, 10));
    assert.ok(isCode(err, "E_CORRUPT"), String(err));
    assert.match(
      (err as Error).message,
      /check value does not match its key, size and extent list/,
    );
    const a = r.lookupPath("a.txt")!;
    assert.is((await r.read(a, 0, 6)).toString(), "alpha\n", "other files still read");
  } finally {
    await r.close();
  }
  const report = await fsckStore(s.store);
  assert.ok(
    report.problems.some((p) =>
      /check value does not match its key, size and extent list/.test(p.message),
    ),
    JSON.stringify(report.problems),
  );
});

test("row-crc - a content's key changed: E_CORRUPT, not a file extract would refuse; fsck says so", async () => {
  // the key is what a verified extract compares the file's hash with: changed, extract would
  // refuse right bytes while fsck found nothing; the row's check value covers it
  const s = await copyOfStore();
  editDb(s.store, (db) => {
    const id = contentAt(db, "b/c.bin");
    db.prepare("UPDATE contents SET hkey = (hkey | 16) - (hkey & 16) WHERE id = ?").run(id);
  });
  const r = openStoreReader(s.store);
  try {
    const err = await rejection(r.read(r.lookupPath("b/c.bin")!, 0, 10));
    assert.ok(isCode(err, "E_CORRUPT"), String(err));
    assert.match((err as Error).message, /check value does not match its key, size/);
  } finally {
    await r.close();
  }
  const report = await fsckStore(s.store);
  assert.ok(
    report.problems.some((p) => /check value does not match its key/.test(p.message)),
    JSON.stringify(report.problems),
  );
});

test.run();
