import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { superChunkKey } from "../../src/blobstore/blob-store.js";
import { fsckCommand } from "../../src/cli/cmd-fsck.js";
import { fsckClean, fsckStore } from "../../src/maintain/fsck.js";
import type { FsckCheck, FsckReport } from "../../src/maintain/fsck-report.js";
import { decodeExtents, encodeExtents } from "../../src/meta/extent-list.js";
import { openDatabase, type Sqlite } from "../../src/meta/open-db.js";
import { entryCrc } from "../../src/meta/row-crc.js";
import { packTree } from "../../src/pack/pack.js";
import { ARCHIVE_DB_KEY, DB_FILE, openStore } from "../../src/store/store-layout.js";
import type { Extent, SubBlockId } from "../../src/types.js";
import { captureIO } from "../helpers/cli-capture.js";
import { refreshRowCrcs } from "../helpers/damaged-store.js";
import { cleanupTmp, makeSampleTree, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

let pristine: string | undefined;

/** A fresh copy of one packed sample store. */
async function store(): Promise<string> {
  if (pristine === undefined) {
    const root = tmpDir("fsck-tree");
    const src = path.join(root, "src");
    fs.mkdirSync(src);
    makeSampleTree(src);
    pristine = path.join(root, "pristine");
    await packTree(src, pristine, { threads: 2, superChunkBytes: 512 * 1024 });
  }
  const copy = path.join(tmpDir("fsck-tree-copy"), "store");
  fs.cpSync(pristine, copy, { recursive: true });
  return copy;
}

/** A store whose database (unpacked) was edited by `edit`. */
async function edited(edit: (db: Sqlite) => void): Promise<string> {
  const dir = await store();
  openStore(dir, { readonly: false }).meta.close(); // unpacks superchunk.db
  const db = openDatabase(path.join(dir, DB_FILE), false);
  try {
    edit(db);
  } finally {
    db.close();
  }
  return dir;
}

const ino = (db: Sqlite, name: string): number =>
  db.prepare("SELECT ino FROM entries WHERE name = ?").pluck().get(Buffer.from(name)) as number;

/** Renames an entry, its check value with it (a hostile author's edit, not damage). */
function rename(db: Sqlite, from: string, to: Buffer): void {
  db.prepare("UPDATE entries SET name = ? WHERE name = ?").run(to, Buffer.from(from));
  refreshRowCrcs(db);
}

/** The problems of `r` that break `check`. */
function broken(r: FsckReport, check: FsckCheck) {
  return r.problems.filter((p) => p.check === check && p.severity === "error");
}

function names(r: FsckReport, check: FsckCheck): string[] {
  return broken(r, check).flatMap((p) => (p.affected ?? []).flatMap((f) => f.paths));
}

test("fsck tree - the sample store is clean, contents hashed", async () => {
  const r = await fsckStore(await store());
  assert.ok(fsckClean(r), JSON.stringify(r.problems.slice(0, 3)));
  assert.is(r.problems.length, 0);
});

for (const [label, name, why] of [
  ["empty", Buffer.alloc(0), /is empty/],
  ["with '/'", Buffer.from("a/evil.sh"), /contains '\/'/],
  ["'..'", Buffer.from(".."), /is '\.\.'/],
  ["with NUL", Buffer.from("hel\0lo"), /contains NUL/],
] as const) {
  test(`fsck tree - a name ${label} is an error naming the entry`, async () => {
    const dir = await edited((db) => rename(db, "hello.txt", name));
    const r = await fsckStore(dir);
    assert.not.ok(fsckClean(r));
    const p = broken(r, "entry-name");
    assert.is(p.length, 1, JSON.stringify(r.problems));
    assert.match(p[0]!.message, why);
    assert.is(p[0]!.code, "E_CORRUPT");
  });
}

test("fsck tree - an entry pointing at a missing inode", async () => {
  const dir = await edited((db) => {
    db.prepare("UPDATE entries SET ino = 99999 WHERE name = ?").run(Buffer.from("text.txt"));
    refreshRowCrcs(db);
  });
  const r = await fsckStore(dir);
  assert.equal(names(r, "entry-inode"), ["text.txt"]);
  assert.is(broken(r, "unreachable").length, 1, "the old inode is named by nothing");
});

test("fsck tree - a file changed into a fifo, a file into a symlink, a directory into a file", async () => {
  const dir = await edited((db) => {
    db.prepare("UPDATE inodes SET kind = 4 WHERE ino = ?").run(ino(db, "text.txt"));
    db.prepare("UPDATE inodes SET kind = 3 WHERE ino = ?").run(ino(db, "hello.txt"));
    db.prepare("UPDATE inodes SET kind = 1 WHERE ino = ?").run(ino(db, "c"));
  });
  const r = await fsckStore(dir);
  assert.ok(names(r, "inode-content").includes("text.txt"), JSON.stringify(r.problems));
  assert.ok(names(r, "inode-target").includes("hello.txt"));
  assert.ok(names(r, "entry-parent").includes("a/b/c/copy-of-big.bin"));
  assert.ok(broken(r, "nlink").length > 0, "the old directory's links");
});

test("fsck tree - an empty symlink target", async () => {
  const dir = await edited((db) => {
    db.prepare("UPDATE inodes SET target = x'', size = 0 WHERE ino = ?").run(
      ino(db, "link-to-hello"),
    );
  });
  const r = await fsckStore(dir);
  assert.equal(names(r, "symlink-target"), ["link-to-hello"]);
});

test("fsck tree - a directory's entries deleted: unreachable inodes, wrong link counts", async () => {
  const dir = await edited((db) => {
    db.prepare("DELETE FROM entries WHERE parent = ?").run(ino(db, "b"));
  });
  const r = await fsckStore(dir);
  // big.bin, big-v2.bin and the directory c (whose own entry is left, now unreached)
  assert.ok(broken(r, "unreachable").length >= 3, JSON.stringify(r.problems));
  assert.ok(names(r, "nlink").includes("a/b"), "b has no subdirectory left");
  assert.not.ok(fsckClean(r));
});

test("fsck tree - a directory named twice is a cycle, and is not walked forever", async () => {
  const dir = await edited((db) => {
    const c = ino(db, "c");
    const up = Buffer.from("up");
    const sql = "INSERT INTO entries (parent, name, ino, crc) VALUES (?, ?, 1, ?)";
    db.prepare(sql).run(c, up, entryCrc(c, up, 1));
  });
  const r = await fsckStore(dir);
  assert.equal(names(r, "cycle"), ["a/b/c/up"]);
  assert.ok(broken(r, "dir-links").length > 0);
});

test("fsck content - two extents of a content swapped: its files are named", async () => {
  let paths: string[] = [];
  const dir = await edited((db) => {
    const id = db
      .prepare("SELECT content FROM inodes WHERE ino = ?")
      .pluck()
      .get(ino(db, "big.bin"));
    const blob = db.prepare("SELECT extents FROM contents WHERE id = ?").pluck().get(id) as Buffer;
    const codes = decodeExtents(blob, id as number);
    assert.ok(codes.length >= 3 && codes[0]! > 0 && codes[1]! > 0 && codes[0] !== codes[1]);
    const len = db.prepare("SELECT length FROM sub_blocks WHERE id = ?").pluck();
    const extents: Extent[] = codes.map((c) =>
      c < 0
        ? { subBlock: null, length: -c }
        : { subBlock: c as SubBlockId, length: len.get(c) as number },
    );
    [extents[0], extents[1]] = [extents[1]!, extents[0]!];
    const swapped = encodeExtents(extents);
    db.prepare("UPDATE contents SET extents = ? WHERE id = ?").run(swapped, id);
    refreshRowCrcs(db); // a hostile edit: the row's check value follows
    paths = ["a/b/big.bin", "a/b/c/copy-of-big.bin"];
  });
  const r = await fsckStore(dir);
  const p = broken(r, "content-hash");
  assert.is(p.length, 1, JSON.stringify(r.problems));
  assert.equal(names(r, "content-hash").sort(), paths);
  assert.ok(r.affectedFiles.includes("a/b/big.bin"));
  assert.not.ok(fsckClean(r));
});

test("fsck - garbage appended to a super-chunk names the files it holds", async () => {
  const dir = await store();
  const { meta } = openStore(dir, { readonly: true });
  const sc = meta.listSuperChunks()[0]!;
  const users = new Set(
    meta.listSubBlocks(sc.id).flatMap((s) => meta.inodesUsingSubBlock(s.id) as number[]),
  );
  meta.close();
  fs.appendFileSync(path.join(dir, superChunkKey(sc.id)), Buffer.from("garbage"));
  const r = await fsckStore(dir);
  const p = r.problems.find(
    (x) => x.kind === "superchunk-corrupt" && /header says/.test(x.message),
  );
  assert.ok(p, JSON.stringify(r.problems));
  assert.equal(new Set(p.affected!.map((f) => f.ino)), users);
  assert.ok(users.size > 0 && r.affectedFiles.length > 0);
  const io = captureIO({ env: {} });
  assert.is(await fsckCommand.run([dir], io.io), 1);
  assert.match(io.out(), /affects /);
});

test("fsck - one byte of a name changed in the packed database: caught by its CRC", async () => {
  const dir = await store();
  const file = path.join(dir, ARCHIVE_DB_KEY);
  const b = fs.readFileSync(file);
  b[b.length - 100] = b[b.length - 100]! ^ 0x01; // inside the zstd payload
  fs.writeFileSync(file, b);
  const io = captureIO({ env: {} });
  assert.is(await fsckCommand.run([dir], io.io), 1);
  assert.match(io.text(), /superchunk\.db\.zst.*\[E_CORRUPT\]/);
});

test.run();
