/**
 * The database is input, not authority: stores whose database was edited as a damaged disk
 * or a hostile author would are refused with one-line E_CORRUPT naming the store, before
 * any byte is written, and extract never writes outside its destination.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type Database from "better-sqlite3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ls } from "../../src/api/ls.js";
import { runCli } from "../../src/cli/main.js";
import { EngineError, type ErrorCode, isCode } from "../../src/errors.js";
import { MadeDirs } from "../../src/export/dest-paths.js";
import { extractTree } from "../../src/export/extract.js";
import { decodeExtents, encodeExtents } from "../../src/meta/extent-list.js";
import { entryCrc } from "../../src/meta/row-crc.js";
import { wrapSqliteError } from "../../src/meta/sqlite-error.js";
import { nameProblem } from "../../src/meta/validate-records.js";
import { openStoreReader, StoreReader } from "../../src/reader/store-reader.js";
import type { Extent, InodeId, SubBlockId } from "../../src/types.js";
import { captureIO } from "../helpers/cli-capture.js";
import {
  contentAt,
  editDb,
  inoAt,
  plainDb,
  refreshRowCrcs,
  type SmallStore,
  smallStoreCopies,
} from "../helpers/damaged-store.js";
import { cleanupTmp, compareTrees, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

/** A fresh copy of the small store (packed once per run). */
const copyOfStore = smallStoreCopies("dmg");

/** How many times StoreReader.read runs during `fn` (the work a size could drive). */
async function countReads(fn: () => Promise<unknown>): Promise<{ reads: number; err: unknown }> {
  const read = StoreReader.prototype.read;
  let reads = 0;
  StoreReader.prototype.read = function (this: StoreReader, ...a: Parameters<typeof read>) {
    reads++;
    return read.apply(this, a);
  };
  try {
    await fn();
    return { reads, err: undefined };
  } catch (err) {
    return { reads, err };
  } finally {
    StoreReader.prototype.read = read;
  }
}

/** Every file below `dir`, relative, sorted. */
function listed(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** An error a user may meet: one line, the given code, naming the store. */
function assertOneLine(err: unknown, code: ErrorCode, store: string): void {
  assert.ok(
    err instanceof EngineError,
    `an EngineError, not ${(err as Error)?.stack ?? String(err)}`,
  );
  assert.is(err.code, code, err.message);
  assert.not.match(err.message, /\n/, "one line");
  assert.ok(err.message.includes(store), `names the store: ${err.message}`);
}

/**
 * Damages a copy of the store with `edit`, as a hostile author would (every row's check value
 * made its own again, so the checks behind them are reached), then extracts it: E_CORRUPT
 * naming the store, with no file written and no byte read. Answers the store.
 */
async function refusedStore(edit: (db: Database.Database) => void): Promise<SmallStore> {
  const s = await copyOfStore();
  editDb(s.store, (db) => {
    edit(db);
    refreshRowCrcs(db);
  });
  const out = path.join(s.root, "out");
  const { reads, err } = await countReads(() => extractTree(s.store, out));
  assertOneLine(err, "E_CORRUPT", s.store);
  assert.is(reads, 0, "refused before reading any file");
  assert.equal(
    listed(out).filter((f) => fs.lstatSync(path.join(out, f)).isFile()),
    [],
    "no file written",
  );
  return s;
}

const setInode =
  (rel: string, sql: string, ...args: unknown[]) =>
  (db: Database.Database) => {
    db.prepare(`UPDATE inodes SET ${sql} WHERE ino = ?`).run(...args, inoAt(db, rel));
  };
const addEntry =
  (dir: string, name: Buffer, target: string | number) => (db: Database.Database) => {
    const ino = typeof target === "number" ? target : inoAt(db, target);
    // a hostile author: the row carries its right check value
    const parent = inoAt(db, dir);
    const sql = "INSERT INTO entries(parent, name, ino, crc) VALUES (?, ?, ?, ?)";
    db.prepare(sql).run(parent, name, ino, entryCrc(parent, name, ino));
  };

test("damaged-db - the pristine copy extracts identical (the helper damages nothing)", async () => {
  const s = await copyOfStore();
  editDb(s.store, () => {});
  const out = path.join(s.root, "out");
  await extractTree(s.store, out);
  assert.equal(compareTrees(s.src, out), []);
});

test("damaged-db - escape: symlink a -> outside and an entry 'a/evil.sh' touch nothing outside", async () => {
  const s = await copyOfStore();
  const outside = tmpDir("outside");
  fs.writeFileSync(path.join(outside, "evil.sh"), "original\n");
  const before = fs.statSync(path.join(outside, "evil.sh"));
  editDb(s.store, (db) => {
    const link = inoAt(db, "link");
    db.prepare("UPDATE inodes SET target = ?, size = ? WHERE ino = ?").run(
      Buffer.from(outside),
      outside.length,
      link,
    );
    const a = Buffer.from("a");
    const sql = "UPDATE entries SET name = ?, crc = ? WHERE parent = 1 AND name = ?";
    db.prepare(sql).run(a, entryCrc(1, a, link), Buffer.from("link"));
    addEntry("", Buffer.from("a/evil.sh"), "a.txt")(db);
  });
  const out = path.join(s.root, "out");
  const err = await extractTree(s.store, out).catch((e) => e);
  assertOneLine(err, "E_CORRUPT", s.store);
  assert.match(err.message, /a\/evil\.sh/);
  assert.equal(fs.readdirSync(outside), ["evil.sh"]);
  const after = fs.statSync(path.join(outside, "evil.sh"));
  assert.is(fs.readFileSync(path.join(outside, "evil.sh"), "utf8"), "original\n");
  assert.is(after.ino, before.ino, "not re-created");
  assert.is(after.mtimeMs, before.mtimeMs, "not rewritten");
});

test("damaged-db - extract makes paths only inside directories it made (symlinks refused)", () => {
  const dest = tmpDir("dest");
  const outside = tmpDir("outside");
  fs.symlinkSync(outside, path.join(dest, "a"));
  const dirs = new MadeDirs(Buffer.from(dest));
  const err = (() => {
    try {
      dirs.checkParent(Buffer.from("a/evil.sh"));
    } catch (e) {
      return e;
    }
  })();
  assert.ok(isCode(err, "E_PATH_ESCAPE"), String(err));
  // even once recorded as made, a symlink in its place is refused
  dirs.made(Buffer.from("a"));
  assert.throws(() => dirs.checkParent(Buffer.from("a/evil.sh")), /not a directory this extract/);
  fs.unlinkSync(path.join(dest, "a"));
  fs.mkdirSync(path.join(dest, "a"));
  dirs.checkParent(Buffer.from("a/evil.sh"));
  assert.equal(fs.readdirSync(outside), []);
});

test("damaged-db - a symlink found in the destination is replaced, never followed", async () => {
  const s = await copyOfStore();
  const out = path.join(s.root, "out");
  const outside = tmpDir("outside");
  fs.mkdirSync(out);
  fs.symlinkSync(outside, path.join(out, "b"));
  fs.symlinkSync(path.join(outside, "a.txt"), path.join(out, "a.txt"));
  await extractTree(s.store, out);
  assert.equal(fs.readdirSync(outside), []);
  assert.equal(compareTrees(s.src, out), []);
});

test("damaged-db - a size of 2^50 fails fast with E_CORRUPT (no read runs)", async () => {
  await refusedStore(setInode("a.txt", "size = ?", 2 ** 50));
  await refusedStore(setInode("a.txt", "size = ?, content = NULL", 2 ** 50));
});

test("damaged-db - a size larger or smaller than the content is E_CORRUPT", async () => {
  const s = await refusedStore((db) => {
    db.prepare("UPDATE inodes SET size = size + 1 WHERE ino = ?").run(inoAt(db, "a.txt"));
  });
  const r = openStoreReader(s.store);
  try {
    const ino = r.lookupPath("b/c.bin")!;
    assert.is((await r.read(ino, 0, 10)).length, 10, "other files still read");
    const bad = r.lookupPath("a.txt")!;
    assert.throws(() => r.getattr(bad), /size 18001 differs from its content's 18000 bytes/);
    const err = await r.read(bad, 0, 10).catch((e) => e);
    assertOneLine(err, "E_CORRUPT", s.store);
  } finally {
    await r.close();
  }
  await refusedStore((db) => {
    db.prepare("UPDATE inodes SET size = size - 1 WHERE ino = ?").run(inoAt(db, "a.txt"));
  });
});

test("damaged-db - content NULL with a non-zero size is E_CORRUPT", async () => {
  await refusedStore(setInode("b/c.bin", "content = NULL"));
});

test("damaged-db - bad entry names are E_CORRUPT: '/', empty, '..', '.', NUL, 256 bytes", async () => {
  const names = ["x/y", "", "..", ".", "a\0b", "n".repeat(256)].map((n) => Buffer.from(n));
  for (const name of names) {
    assert.ok(nameProblem(name), JSON.stringify(name.toString()));
    const s = await refusedStore(addEntry("b", name, "a.txt"));
    const r = openStoreReader(s.store);
    try {
      assert.throws(() => r.readdir(r.lookupPath("b")!), /E_CORRUPT|directory/);
    } finally {
      await r.close();
    }
  }
  assert.is(nameProblem(Buffer.from("n".repeat(255))), undefined);
  assert.is(nameProblem(Buffer.from("...")), undefined);
});

test("damaged-db - an entry pointing at a missing inode is E_CORRUPT", async () => {
  const s = await refusedStore(addEntry("b", Buffer.from("ghost"), 9999));
  const r = openStoreReader(s.store);
  try {
    const err = (() => {
      try {
        r.lookup(r.lookupPath("b")!, Buffer.from("ghost"));
      } catch (e) {
        return e;
      }
    })();
    assertOneLine(err, "E_CORRUPT", s.store);
    assert.match((err as Error).message, /missing inode 9999/);
  } finally {
    await r.close();
  }
});

test("damaged-db - a kind changed is E_CORRUPT: file to fifo or symlink, directory to file", async () => {
  await refusedStore(setInode("a.txt", "kind = 4"));
  await refusedStore(setInode("a.txt", "kind = 3"));
  await refusedStore(setInode("b", "kind = 1, size = 0"));
  await refusedStore(setInode("d", "kind = 1, size = 0, content = 1"));
  // an empty directory made an empty file: nothing of it reads wrong, but its link count
  // (2, a directory's) and its parent's (one subdirectory fewer) are not a file's
  await refusedStore(setInode("d", "kind = 1, size = 0"));
  await refusedStore(setInode("link", "kind = 2"));
  await refusedStore(setInode("fifo", "content = 1"));
});

test("damaged-db - a directory made a file by a hostile author: its parent's listing is E_CORRUPT", async () => {
  const s = await copyOfStore();
  editDb(s.store, (db) => {
    setInode("d", "kind = 1, size = 0")(db);
    refreshRowCrcs(db); // every row's own check passes: the link counts give it away
  });
  const r = openStoreReader(s.store);
  try {
    const err = (() => {
      try {
        r.readdir(1 as InodeId);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assertOneLine(err, "E_CORRUPT", s.store);
    assert.match((err as Error).message, /directory 1: nlink \d+, its entries give \d+/);
    const b = r.lookupPath("b")!;
    assert.equal(
      r.readdir(b).map((e) => e.name.toString()),
      ["c.bin"],
      "other directories still list",
    );
  } finally {
    await r.close();
  }
});

test("damaged-db - an empty symlink target is E_CORRUPT", async () => {
  await refusedStore(setInode("link", "target = ?", Buffer.alloc(0)));
  await refusedStore(setInode("link", "target = NULL"));
});

test("damaged-db - a cycle is E_CORRUPT for extract; a path walk through it ends", async () => {
  const s = await refusedStore(addEntry("b", Buffer.from("up"), 1));
  const r = openStoreReader(s.store);
  try {
    const b = r.lookupPath("b")! as InodeId;
    assert.throws(() => r.lookup(b, Buffer.from("up")), /cycle/);
    assert.throws(() => r.lookup(b, Buffer.from("up")), /E_CORRUPT|store/);
  } finally {
    await r.close();
  }
  // the library's recursive ls walks the same tree: refused, not walked forever
  const listed = await ls(s.store, "", { recursive: true }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(isCode(listed, "E_CORRUPT"), String(listed));
  await refusedStore(addEntry("b", Buffer.from("self"), "b"));
  await refusedStore(addEntry("d", Buffer.from("again"), "b"));
});

test("damaged-db - an extent outside its super-chunk is E_CORRUPT", async () => {
  const s = await copyOfStore();
  editDb(s.store, (db) => {
    db.prepare("UPDATE sub_blocks SET offset = offset + 4000000 WHERE id = 1").run();
  });
  const err = await extractTree(s.store, path.join(s.root, "out")).catch((e) => e);
  assertOneLine(err, "E_CORRUPT", s.store);
  assert.match(err.message, /lies outside super-chunk/);
});

test("damaged-db - a malformed database file is one-line E_CORRUPT naming the store", async () => {
  const s = await copyOfStore();
  const file = plainDb(s.store);
  const good = fs.readFileSync(file);
  const pageBytes = good.readUInt16BE(16);
  const codes = new Map<string, number>();
  for (let page = 1; page < good.length / pageBytes; page++) {
    const bad = Buffer.from(good);
    for (let i = page * pageBytes; i < (page + 1) * pageBytes; i += 4)
      bad.writeUInt32BE(0xdeadbeef, i);
    fs.writeFileSync(file, bad);
    const out = path.join(s.root, `out-${page}`);
    const { err } = await countReads(() => extractTree(s.store, out));
    if (err === undefined) {
      // the page held nothing the tree needs (free, or an index extract does not use)
      assert.equal(compareTrees(s.src, out), [], `page ${page}`);
      codes.set("ok", (codes.get("ok") ?? 0) + 1);
      continue;
    }
    assertOneLine(err, "E_CORRUPT", s.store);
    const kind = (err as Error).message.includes("malformed") ? "malformed" : "other";
    codes.set(kind, (codes.get(kind) ?? 0) + 1);
  }
  fs.writeFileSync(file, good);
  console.log(`  malformed-database outcomes by page: ${JSON.stringify([...codes])}`);
  assert.ok((codes.get("malformed") ?? 0) > 0, `some pages are read: ${[...codes]}`);
});

test("damaged-db - a schema changed under the store (a column renamed, the meta table gone) is E_CORRUPT, a finding of fsck", async () => {
  const renamed = await copyOfStore();
  // the column's name in the stored schema's text, changed byte for byte in the image
  editDb(renamed.store, () => undefined); // unpacked
  const file = plainDb(renamed.store);
  const image = fs.readFileSync(file);
  const at = image.indexOf("live_bytes");
  assert.ok(at > 0);
  image.write("lite_bytes", at);
  fs.writeFileSync(file, image);
  const gone = await copyOfStore();
  editDb(gone.store, (db) => db.exec("DROP TABLE meta"));
  for (const s of [renamed, gone]) {
    const { err } = await countReads(() => extractTree(s.store, path.join(s.root, "out")));
    assertOneLine(err, "E_CORRUPT", s.store);
    const fsck = captureIO();
    assert.is(await runCli(["fsck", s.store], fsck.io), 1, fsck.err());
    assert.match(fsck.out(), /problems remain/);
  }
});

test("damaged-db - SQLITE_NOTADB after open is E_CORRUPT; at open it is E_NOT_A_STORE", () => {
  const notADb = Object.assign(new Error("file is not a database"), { code: "SQLITE_NOTADB" });
  assert.is(
    wrapSqliteError(notADb, "/s/superchunk.db", "damaged metadata database").code,
    "E_CORRUPT",
  );
  assert.is(
    wrapSqliteError(notADb, "/s/superchunk.db", "open metadata database").code,
    "E_NOT_A_STORE",
  );
});

test("damaged-db - a file whose extents were swapped fails extract and is not left behind", async () => {
  const s = await copyOfStore();
  editDb(s.store, (db) => {
    const id = contentAt(db, "b/c.bin");
    const blob = db.prepare("SELECT extents FROM contents WHERE id = ?").pluck().get(id);
    const codes = decodeExtents(blob as Buffer, id);
    assert.ok(codes.length >= 2 && codes[0]! > 0 && codes[1]! > 0 && codes[0] !== codes[1]);
    const extents: Extent[] = codes.map((c) =>
      c > 0 ? { subBlock: c as SubBlockId, length: 0 } : { subBlock: null, length: -c },
    );
    [extents[0], extents[1]] = [extents[1]!, extents[0]!];
    db.prepare("UPDATE contents SET extents = ? WHERE id = ?").run(encodeExtents(extents), id);
    // a hostile edit: the row's check value follows, so only the whole-file hash can tell
    refreshRowCrcs(db);
  });
  const out = path.join(s.root, "out");
  const err = await extractTree(s.store, out).catch((e) => e);
  assertOneLine(err, "E_CORRUPT", s.store);
  assert.match(err.message, /do not hash to their content's key/);
  assert.not.ok(fs.existsSync(path.join(out, "b", "c.bin")), "the file with wrong bytes is gone");
});

test.run();
