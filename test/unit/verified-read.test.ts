/**
 * Verified reads: a super-chunk file that is not the one its row names (swapped, copied
 * over, renamed in an archive), and a sub-block row that is not an entry of its header, are
 * caught before a byte is served (E_SUPERCHUNK_CORRUPT), by extract, the reader, seal and
 * repack; open super-chunks are checked by SHA-256 on first read.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Sqlite from "better-sqlite3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { openSuperChunkKey, superChunkKey } from "../../src/blobstore/blob-store.js";
import { CodecPool } from "../../src/codec/codec-pool.js";
import { extractTree } from "../../src/export/extract.js";
import { sealStore } from "../../src/export/seal.js";
import { repackStore } from "../../src/maintain/repack.js";
import { packTree } from "../../src/pack/pack.js";
import { openStoreReader } from "../../src/reader/store-reader.js";
import { openStore } from "../../src/store/store-layout.js";
import { inflateSuperChunk } from "../../src/superchunk/superchunk-reader.js";
import { rejectsWith } from "../helpers/cli-capture.js";
import { refreshRowCrcs } from "../helpers/damaged-store.js";
import { cleanupTmp, makeSampleTree, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

/** The sample tree packed into small super-chunks, so a file spans several. */
async function packed() {
  const root = tmpDir("verify");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 2, superChunkBytes: 256 * 1024 });
  return { root, src, store };
}

const scFile = (store: string, id: number) => path.join(store, superChunkKey(id));

/** Rows of the store's super-chunks, by id. */
function superChunkRows(store: string) {
  const { meta } = openStore(store, { readonly: true });
  try {
    return meta.listSuperChunks().sort((a, b) => a.id - b.id);
  } finally {
    meta.close();
  }
}

/** The store's database, unpacked to superchunk.db and opened for raw edits. */
function editDb(store: string): Sqlite.Database {
  openStore(store, { readonly: false }).meta.close();
  return new Sqlite(path.join(store, "superchunk.db"));
}

function swapFiles(a: string, b: string): void {
  const tmp = `${a}.tmp`;
  fs.renameSync(a, tmp);
  fs.renameSync(b, a);
  fs.renameSync(tmp, b);
}

/** Every regular file below `dir`, relative, as bytes (names need not be UTF-8). */
function filesBelow(dir: string, rel = Buffer.alloc(0)): Buffer[] {
  const out: Buffer[] = [];
  const at = Buffer.concat([Buffer.from(`${dir}/`), rel]);
  for (const d of fs.readdirSync(at, { withFileTypes: true, encoding: "buffer" })) {
    const r = rel.length === 0 ? d.name : Buffer.concat([rel, Buffer.from("/"), d.name]);
    if (d.isDirectory()) out.push(...filesBelow(dir, r));
    else if (d.isFile()) out.push(r);
  }
  return out;
}

const under = (dir: string, rel: Buffer) => Buffer.concat([Buffer.from(`${dir}/`), rel]);

/**
 * Extracts `from` and expects E_SUPERCHUNK_CORRUPT; every file extract wrote holds its
 * source's bytes (the one being written when it failed may be short, never wrong).
 * Answers the error and how many files were written.
 */
async function extractFails(
  from: string,
  src: string,
  root: string,
  code: "E_SUPERCHUNK_CORRUPT" | "E_CORRUPT" = "E_SUPERCHUNK_CORRUPT",
) {
  const out = path.join(root, `out-${Math.random().toString(16).slice(2)}`);
  const err = await rejectsWith(extractTree(from, out), code);
  let short = 0;
  const written = fs.existsSync(out) ? filesBelow(out) : [];
  for (const rel of written) {
    const got = fs.readFileSync(under(out, rel));
    const want = fs.readFileSync(under(src, rel));
    if (got.length < want.length) short++;
    assert.ok(got.equals(want.subarray(0, got.length)), `${rel}: wrong bytes written`);
  }
  assert.ok(short <= 1, `${short} files cut short`);
  return { err, written: written.length };
}

test("verify - swapped super-chunk files: extract fails naming one, writes no wrong byte", async () => {
  const { root, src, store } = await packed();
  const rows = superChunkRows(store);
  assert.ok(rows.length >= 6, `${rows.length} super-chunks`);
  const [a, b] = [rows[1]!.id, rows[4]!.id];
  swapFiles(scFile(store, a), scFile(store, b));
  const { err } = await extractFails(store, src, root);
  const data = (err as { data?: { superChunkId?: number; path?: string } }).data!;
  assert.ok(data.superChunkId === a || data.superChunkId === b, String(err));
  assert.ok(data.path?.endsWith(superChunkKey(data.superChunkId!)), data.path);
  assert.match(err.message, /row/);
});

test("verify - a super-chunk copied over another is caught by extract, seal and repack", async () => {
  const { root, src, store } = await packed();
  const rows = superChunkRows(store);
  fs.copyFileSync(scFile(store, rows[0]!.id), scFile(store, rows[2]!.id));
  await extractFails(store, src, root);
  const err = await rejectsWith(
    sealStore(store, path.join(root, "copy.zip")),
    "E_SUPERCHUNK_CORRUPT",
  );
  assert.match(err.message, superChunkKey(rows[2]!.id));
  assert.not.ok(fs.existsSync(path.join(root, "copy.zip")));
  await rejectsWith(repackStore(store, { all: true, threads: 2 }), "E_SUPERCHUNK_CORRUPT");
});

test("verify - swapped files whose rows were edited to match are caught by the entry check", async () => {
  const { root, src, store } = await packed();
  const rows = superChunkRows(store);
  const [a, b] = [rows[1]!, rows[3]!];
  swapFiles(scFile(store, a.id), scFile(store, b.id));
  const db = editDb(store);
  const set = db.prepare(
    "UPDATE superchunks SET codec = ?, raw_bytes = ?, stored_bytes = ?, sub_blocks = ? WHERE id = ?",
  );
  set.run(b.codec, b.rawBytes, b.storedBytes, b.subBlocks, a.id);
  set.run(a.codec, a.rawBytes, a.storedBytes, a.subBlocks, b.id);
  db.close();
  // the rows agree with the files now: the extents give it away (an extent past its
  // super-chunk's raw size, refused as the database is read, or an entry they are not)
  const { err } = await extractFails(store, src, root, "E_CORRUPT");
  assert.match(err.message, /sub-block/);
  assert.not.match(err.message, /row/);
});

test("verify - an archive with two super-chunk names swapped in its central directory", async () => {
  const { root, src, store } = await packed();
  const rows = superChunkRows(store);
  const archive = path.join(root, "tree.zip");
  await sealStore(store, archive);
  const zip = fs.readFileSync(archive);
  const eocd = zip.lastIndexOf(Buffer.from("PK\x05\x06", "latin1"));
  const cd = zip.readUInt32LE(eocd + 16);
  const [na, nb] = [superChunkKey(rows[1]!.id), superChunkKey(rows[5]!.id)].map((k) =>
    Buffer.from(k),
  );
  assert.is(na!.length, nb!.length);
  const ia = zip.indexOf(na!, cd);
  const ib = zip.indexOf(nb!, cd);
  assert.ok(ia > cd && ib > cd && ia < eocd && ib < eocd);
  nb!.copy(zip, ia);
  na!.copy(zip, ib);
  fs.writeFileSync(archive, zip);
  await extractFails(archive, src, root);
});

/** A file of the sample tree and a sub-block of it, with the sub-block's row. */
function aSubBlockOf(store: string, file: string, nth = 2) {
  const r = openStoreReader(store);
  try {
    const ino = r.lookupPath(file)!;
    const content = r.meta.getInode(ino)!.content!;
    const ext = r.meta.resolveExtents(content).filter((e) => e.subBlock !== null)[nth]!;
    return { ino, content, ext };
  } finally {
    void r.close();
  }
}

test("verify - a sub-block row whose offset moved by one byte", async () => {
  const { store } = await packed();
  const { ext } = aSubBlockOf(store, "a/b/big.bin");
  const db = editDb(store);
  db.prepare("UPDATE sub_blocks SET offset = offset + 1 WHERE id = ?").run(ext.subBlock);
  db.close();
  const r = openStoreReader(store);
  try {
    const ino = r.lookupPath("a/b/big.bin")!;
    const err = await rejectsWith(r.read(ino, ext.fileOffset, 100), "E_SUPERCHUNK_CORRUPT");
    assert.match(err.message, /is not an entry of the header/);
    assert.match(err.message, superChunkKey(ext.superChunk!));
  } finally {
    await r.close();
  }
});

test("verify - a sub-block row shorter than its entry (content and size shortened to match)", async () => {
  const { store } = await packed();
  const { ino, content, ext } = aSubBlockOf(store, "a/small.bin", 0);
  const db = editDb(store);
  db.prepare("UPDATE sub_blocks SET length = length - 1 WHERE id = ?").run(ext.subBlock);
  db.prepare("UPDATE contents SET size = size - 1 WHERE id = ?").run(content);
  db.prepare("UPDATE inodes SET size = size - 1 WHERE ino = ?").run(ino);
  refreshRowCrcs(db);
  db.close();
  const r = openStoreReader(store);
  try {
    const err = await rejectsWith(r.read(ino, ext.fileOffset, 10), "E_SUPERCHUNK_CORRUPT");
    assert.match(err.message, /is not an entry of the header/);
  } finally {
    await r.close();
  }
});

test("verify - a sub-block row with another hash key", async () => {
  const { store } = await packed();
  const { ino, ext } = aSubBlockOf(store, "a/b/big.bin");
  const db = editDb(store);
  db.prepare("UPDATE sub_blocks SET hkey = hkey + 1 WHERE id = ?").run(ext.subBlock);
  db.close();
  const r = openStoreReader(store);
  try {
    const err = await rejectsWith(r.read(ino, ext.fileOffset, 1), "E_SUPERCHUNK_CORRUPT");
    assert.match(err.message, /another hash than header entry/);
  } finally {
    await r.close();
  }
});

test("verify - cached reads look entries up: one index build per load", async () => {
  const { src, store } = await packed();
  const r = openStoreReader(store, { cacheBytes: 64 * 1024 * 1024 });
  try {
    const ino = r.lookupPath("a/b/big.bin")!;
    const want = fs.readFileSync(path.join(src, "a/b/big.bin"));
    const readAll = async () => {
      for (let off = 0; off < want.length; off += 4096) {
        const got = await r.read(ino, off, 4096);
        assert.ok(got.equals(want.subarray(off, off + 4096)), `at ${off}`);
      }
    };
    await readAll();
    const first = r.checkStats().indexBuilds;
    const loads = r.workingSetStats().loads;
    assert.ok(first >= 5, `${first} index builds`);
    assert.ok(first <= loads, `${first} builds for ${loads} loads`);
    await readAll(); // ~1300 reads, every one checked, all from the cache
    assert.is(r.workingSetStats().loads, loads, "second pass is served from the cache");
    assert.is(r.checkStats().indexBuilds, first, "no index is built again");
  } finally {
    await r.close();
  }
});

/** Turns frozen super-chunk `id` into an open one: its raw payload in open/, no sc/ file. */
async function reopen(store: string, id: number): Promise<string> {
  const pool = new CodecPool({ threads: 1 });
  try {
    const { raw } = await inflateSuperChunk(fs.readFileSync(scFile(store, id)), pool);
    const db = editDb(store);
    db.prepare("UPDATE superchunks SET codec = 'open', stored_bytes = 0 WHERE id = ?").run(id);
    db.close();
    const file = path.join(store, openSuperChunkKey(id));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, raw);
    fs.rmSync(scFile(store, id));
    return file;
  } finally {
    await pool.close();
  }
}

test("verify - open super-chunks: each sub-block hashed on first read, damage caught", async () => {
  const { src, store } = await packed();
  const { ino, ext } = aSubBlockOf(store, "a/b/big.bin");
  const raw = await reopen(store, ext.superChunk!);
  const want = fs.readFileSync(path.join(src, "a/b/big.bin"));
  const r = openStoreReader(store);
  try {
    const n = 100;
    for (let pass = 0; pass < 2; pass++) {
      const got = await r.read(ino, ext.fileOffset, n);
      assert.ok(got.equals(want.subarray(ext.fileOffset, ext.fileOffset + n)));
    }
    assert.is(r.checkStats().subBlocksHashed, 1, "hashed once, on the first read");
  } finally {
    await r.close();
  }
  const bytes = fs.readFileSync(raw);
  bytes[ext.offset + 5]! ^= 0x40;
  fs.writeFileSync(raw, bytes);
  const r2 = openStoreReader(store);
  try {
    const err = await rejectsWith(r2.read(ino, ext.fileOffset, 10), "E_SUPERCHUNK_CORRUPT");
    assert.match(err.message, /SHA-256/);
    assert.match(err.message, openSuperChunkKey(ext.superChunk!));
  } finally {
    await r2.close();
  }
});

test("verify - an intact store still reads whole through every check", async () => {
  const { root, src, store } = await packed();
  const out = path.join(root, "out");
  await extractTree(store, out);
  const files = filesBelow(src);
  assert.ok(files.length >= 8);
  for (const rel of files) {
    assert.ok(fs.readFileSync(under(out, rel)).equals(fs.readFileSync(under(src, rel))));
  }
});

test.run();
