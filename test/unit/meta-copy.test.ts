import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FileByteSource } from "../../src/blobstore/byte-source.js";
import { DirBlobStore } from "../../src/blobstore/dir-blob-store.js";
import { ZipBlobStore } from "../../src/blobstore/zip-blob-store.js";
import { extractTree } from "../../src/export/extract.js";
import { sealStore } from "../../src/export/seal.js";
import { openStoreSource } from "../../src/location/store-source.js";
import { fsckClean, fsckStore } from "../../src/maintain/fsck.js";
import { restoreStore } from "../../src/maintain/fsck-restore.js";
import { packTree } from "../../src/pack/pack.js";
import { decodeMetaCopy, metaCopyKey } from "../../src/store/meta-copy.js";
import { decodePackedDatabase, readPackedDatabase } from "../../src/store/packed-db.js";
import { initStore } from "../../src/store/store-init.js";
import { DB_FILE, openStore } from "../../src/store/store-layout.js";
import { KIB } from "../../src/types.js";
import type { CallerContext } from "../../src/writer/caller.js";
import { WritableStore } from "../../src/writer/writable-store.js";
import { cli, rejectsWith } from "../helpers/cli-capture.js";
import { cleanupTmp, compareTrees, makeSampleTree, seededBytes, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

const PACKED = `${DB_FILE}.zst`;

async function packedSample() {
  const root = tmpDir("metacopy");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 2, superChunkBytes: 512 * 1024 });
  return { root, src, store };
}

function copyFiles(store: string): string[] {
  return fs.readdirSync(path.join(store, "sc", "meta")).sort();
}

async function extractsSame(store: string, src: string, root: string, name: string) {
  const out = path.join(root, name);
  await extractTree(store, out);
  assert.equal(compareTrees(src, out), []);
}

test("meta-copy - pack writes copy 1, byte for byte the packed database's image", async () => {
  const { store } = await packedSample();
  assert.equal(copyFiles(store), ["0000000000000001-0000.sc"]);
  const copy = fs.readFileSync(path.join(store, metaCopyKey(1, 0)));
  const image = decodeMetaCopy([copy], "copy");
  assert.ok(image.equals(readPackedDatabase(path.join(store, PACKED))), "copy = database");
  const r = await fsckStore(store);
  assert.ok(fsckClean(r), "the copy is no orphan");
  assert.is(r.warnings, 0);
});

test("meta-copy - opening a packed store checks its copy by the copy's header alone", async () => {
  const { store } = await packedSample();
  const get = DirBlobStore.prototype.get;
  let whole = 0;
  let ranged = 0;
  DirBlobStore.prototype.get = function (this: DirBlobStore, key, range) {
    if (key.startsWith("sc/meta/")) {
      if (range === undefined) whole++;
      else ranged++;
    }
    return get.call(this, key, range);
  };
  try {
    const src = await openStoreSource(store, { readonly: true });
    await src.close();
  } finally {
    DirBlobStore.prototype.get = get;
  }
  // the database is byte for byte its copy: one read of the copy's header, no inflate
  assert.equal({ whole, ranged }, { whole: 0, ranged: 1 });
});

test("meta-copy - deleted database: clear error, then fsck --rebuild restores the tree", async () => {
  const { root, src, store } = await packedSample();
  fs.rmSync(path.join(store, PACKED));
  const err = await rejectsWith(extractTree(store, path.join(root, "no")), "E_NOT_A_STORE");
  assert.match(err.message, "fsck --rebuild");
  const out = await restoreStore(store);
  assert.is(out.database, "missing");
  assert.is(out.generation, 1);
  assert.ok(fsckClean(out.report));
  assert.ok(out.files > 5, `${out.files} files`);
  assert.equal(copyFiles(store), ["0000000000000002-0000.sc"], "the restore commits copy 2");
  assert.ok(fs.existsSync(path.join(store, PACKED)), "packed again");
  await extractsSame(store, src, root, "out");
});

test("meta-copy - database overwritten with garbage: fsck --rebuild through the CLI", async () => {
  const { root, src, store } = await packedSample();
  fs.writeFileSync(path.join(store, PACKED), seededBytes(3000, 7));
  const before = await cli("fsck", store);
  assert.is(before.code, 1, "a damaged database is a problem fsck found");
  assert.match(before.out + before.err, "fsck --rebuild");
  const r = await cli("fsck", "--rebuild", store);
  assert.is(r.code, 0, r.err + r.out);
  assert.match(r.out, "database damaged");
  assert.match(r.out, "restored from metadata copy 1");
  assert.ok(
    fs.readdirSync(store).some((n) => n.startsWith(`${PACKED}.damaged-`)),
    "moved aside",
  );
  await extractsSame(store, src, root, "out");
  const help = await cli("fsck", "--help");
  assert.match(help.out, "--rebuild ");
});

test("meta-copy - a malformed SQLite image (plain database) is restored", async () => {
  const { root, src, store } = await packedSample();
  const raw = readPackedDatabase(path.join(store, PACKED));
  raw.fill(0x55, 2048, raw.length); // pages after the first: garbage
  fs.writeFileSync(path.join(store, DB_FILE), raw);
  fs.rmSync(path.join(store, PACKED));
  const out = await restoreStore(store);
  assert.is(out.database, "damaged");
  await extractsSame(store, src, root, "out");
});

const ctx: CallerContext = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

test("meta-copy - writes through the writer commit a copy at close; restore gives them back", async () => {
  const root = tmpDir("metacopy-rw");
  const store = path.join(root, "store");
  initStore(store, { codec: "zstd", level: 3, superChunkBytes: 256 * KIB });
  const data = seededBytes(300 * KIB, 11);
  const s = await WritableStore.open(store);
  const { fh } = s.create(ctx, s.root, Buffer.from("f.bin"), 0o600);
  s.write(fh, data, 0);
  await s.release(fh);
  const d = s.mkdir(ctx, s.root, Buffer.from("d"), 0o750);
  s.symlink(ctx, d.ino, Buffer.from("ln"), Buffer.from("../f.bin"));
  await s.close();
  assert.equal(copyFiles(store).length, 1);
  const image = decodeMetaCopy(
    [fs.readFileSync(path.join(store, "sc", "meta", copyFiles(store)[0]!))],
    "c",
  );
  fs.rmSync(path.join(store, DB_FILE));
  assert.ok(image.length > 0);
  const out = await restoreStore(store);
  assert.ok(fsckClean(out.report), JSON.stringify(out.report.problems));
  const x = path.join(root, "x");
  await extractTree(store, x);
  assert.ok(fs.readFileSync(path.join(x, "f.bin")).equals(data));
  assert.is(fs.statSync(path.join(x, "f.bin")).mode & 0o7777, 0o600);
  assert.is(fs.statSync(path.join(x, "d")).mode & 0o7777, 0o750);
  assert.is(fs.readlinkSync(path.join(x, "d", "ln")), "../f.bin");
});

test("meta-copy - an archive carries the copy of its own database", async () => {
  const { root, store } = await packedSample();
  const zip = path.join(root, "a.zip");
  await sealStore(store, zip);
  const z = await ZipBlobStore.open(new FileByteSource(zip));
  try {
    const copy = Buffer.from(await z.get(metaCopyKey(1, 0)));
    const db = decodePackedDatabase(Buffer.from(await z.get(PACKED)), "db");
    assert.ok(decodeMetaCopy([copy], "copy").equals(db));
  } finally {
    await z.close();
  }
  const r = await fsckStore(zip);
  assert.ok(fsckClean(r) && r.warnings === 0, "the copy is no orphan in an archive");
});

test("meta-copy - old stores open, cannot be restored without a copy, and gain one on a commit", async () => {
  const root = tmpDir("metacopy-v1");
  const store = path.join(root, "store");
  fs.cpSync(path.join("spec", "compat", "v1", "store"), store, { recursive: true });
  const { meta } = openStore(store, { readonly: true });
  meta.close();
  const saved = fs.readFileSync(path.join(store, PACKED));
  fs.rmSync(path.join(store, PACKED));
  const err = await rejectsWith(restoreStore(store), "E_NO_METADATA_COPY");
  assert.match(err.message, "cannot be restored");
  fs.writeFileSync(path.join(store, PACKED), saved);
  const s = await WritableStore.open(store);
  const { fh } = s.create(ctx, s.root, Buffer.from("new.txt"), 0o644);
  s.write(fh, Buffer.from("new"), 0);
  await s.release(fh);
  await s.close();
  assert.equal(copyFiles(store).length, 1, "a commit adds the copy");
  fs.rmSync(path.join(store, DB_FILE), { force: true });
  fs.rmSync(path.join(store, PACKED), { force: true });
  const out = await restoreStore(store);
  assert.ok(fsckClean(out.report));
});

test("meta-copy - a killed pack never leaves a store whose copy disagrees with its database", async () => {
  const root = tmpDir("metacopy-kill");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  const main = path.resolve("dist", "src", "cli", "main.js");
  let complete = 0;
  for (const ms of [50, 200, 400, 700, 1000, 1500, 2500, -1]) {
    const store = path.join(root, `s${ms}`);
    const child = spawn(process.execPath, [main, "pack", src, store], { stdio: "ignore" });
    const timer = ms < 0 ? undefined : setTimeout(() => child.kill("SIGKILL"), ms); // -1: no kill
    await new Promise((resolve) => child.on("exit", resolve));
    clearTimeout(timer);
    if (!fs.existsSync(path.join(store, PACKED))) continue; // nothing at the destination
    complete++;
    const copy = fs.readFileSync(path.join(store, metaCopyKey(1, 0)));
    const image = decodeMetaCopy([copy], "copy");
    assert.ok(image.equals(readPackedDatabase(path.join(store, PACKED))), `copy = db at ${ms}`);
  }
  assert.ok(complete >= 1, "the pack never killed finished");
});

test.run();
