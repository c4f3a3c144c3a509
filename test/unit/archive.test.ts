/**
 * Archives (spec/FORMAT.md "Archive"): seal, pack to .zip, the zip layout as unzip sees it,
 * opening by content, ranged reads from a local archive, damage detection.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseSuperChunkKey } from "../../src/blobstore/blob-store.js";
import { FileByteSource } from "../../src/blobstore/byte-source.js";
import { DirBlobStore } from "../../src/blobstore/dir-blob-store.js";
import { ZipBlobStore } from "../../src/blobstore/zip-blob-store.js";
import { packCommand } from "../../src/cli/cmd-pack.js";
import { sealCommand } from "../../src/cli/cmd-seal.js";
import { extractTree } from "../../src/export/extract.js";
import { sealStore } from "../../src/export/seal.js";
import { storeKindOf } from "../../src/location/store-kind.js";
import { openStoreSource } from "../../src/location/store-source.js";
import { openStoreReaderAt } from "../../src/location/store-view.js";
import { fsckStore } from "../../src/maintain/fsck.js";
import { writeZipArchive } from "../../src/zip/zip-writer.js";
import { type SealedFixture, sealedFixture } from "../helpers/archive-fixture.js";
import { captureIO, rejectsWith } from "../helpers/cli-capture.js";
import { cleanupTmp, compareTrees, makeSampleTree, tmpDir } from "../helpers/tree.js";

let fx: SealedFixture;
test.before(async () => {
  fx = await sealedFixture();
});
test.after(cleanupTmp);

test("archive - seal writes a zip unzip lists and tests; every super-chunk stored", async () => {
  const list = spawnSync("unzip", ["-Z", "-v", fx.archive], { encoding: "utf8" });
  assert.is(list.status, 0, list.stderr);
  const names = spawnSync("unzip", ["-Z1", fx.archive], { encoding: "utf8" }).stdout.split("\n");
  const scs = names.filter((n) => parseSuperChunkKey(n) !== undefined);
  const onDisk = fs.readdirSync(path.join(fx.store, "sc"), { recursive: true });
  const data = onDisk.filter((n) => String(n).endsWith(".sc") && !String(n).startsWith("meta"));
  assert.is(scs.length, data.length);
  assert.ok(
    names.some((n) => n.startsWith("sc/meta/")),
    "the metadata copy is sealed",
  );
  assert.ok(scs.length >= 8, `super-chunks: ${scs.length}`);
  assert.is(names.filter((n) => n !== "").at(-1), "superchunk.db.zst", "database entry last");
  const t = spawnSync("unzip", ["-t", fx.archive], { encoding: "utf8" });
  assert.is(t.status, 0, t.stdout + t.stderr);
  assert.ok(/No errors detected/.test(t.stdout), t.stdout);
  const zip = await ZipBlobStore.open(new FileByteSource(fx.archive));
  try {
    for (const e of zip.directory.entries.values()) assert.is(e.method, 0, `${e.name} stored`);
  } finally {
    await zip.close();
  }
  assert.equal(fs.readdirSync(path.dirname(fx.archive)), ["tree.zip"], "no temporary files left");
});

test("archive - extract from the archive equals the source tree", async () => {
  const out = path.join(tmpDir("arch-out"), "out");
  await extractTree(fx.archive, out);
  assert.equal(compareTrees(fx.src, out), []);
});

test("archive - ranged gets read straight from the entry's data; put/delete are E_READ_ONLY", async () => {
  const zip = await ZipBlobStore.open(new FileByteSource(fx.archive));
  const dir = new DirBlobStore(fx.store);
  try {
    const keys: string[] = [];
    for await (const k of zip.list("sc/")) keys.push(k);
    const key = keys.sort()[3]!;
    const whole = await dir.get(key);
    assert.ok((await zip.get(key)).equals(whole));
    const before = zip.transferStats().bytesFetched;
    const part = await zip.get(key, { offset: 1000, length: 5000 });
    assert.ok(part.equals(whole.subarray(1000, 6000)));
    const tailPart = await zip.get(key, { offset: whole.length - 10, length: 100 });
    assert.ok(tailPart.equals(whole.subarray(whole.length - 10)), "a range past the end is cut");
    assert.ok(zip.transferStats().bytesFetched - before < 5000 + 10 + 200, "only the ranges read");
    await rejectsWith(zip.put(key, Buffer.from("x")), "E_READ_ONLY");
    await rejectsWith(zip.delete(key), "E_READ_ONLY");
    await rejectsWith(zip.get("sc/zz/nope.sc"), "E_SUPERCHUNK_MISSING");
  } finally {
    await zip.close();
  }
});

test("archive - opened by content: any name works; a zip without a database is E_NOT_A_STORE", async () => {
  const dir = tmpDir("arch-kind");
  const renamed = path.join(dir, "tree.bin");
  fs.copyFileSync(fx.archive, renamed);
  assert.is(storeKindOf(renamed), "archive");
  assert.is(storeKindOf(fx.store), "dir");
  assert.is(storeKindOf("https://example.invalid/x.zip"), "url");
  const r = await openStoreReaderAt(renamed);
  try {
    const ino = r.lookupPath("hello.txt")!;
    assert.is((await r.read(ino, 0, 100)).toString(), "hello, superchunk\n");
  } finally {
    await r.close();
  }
  const plain = path.join(dir, "plain.zip");
  await writeZipArchive(plain, [{ key: "readme.txt", data: Buffer.from("hi") }]);
  const err = await rejectsWith(openStoreSource(plain, { readonly: true }), "E_NOT_A_STORE");
  assert.ok(String((err as Error).message).includes(plain), "names the path");
  const junk = path.join(dir, "junk.zip");
  fs.writeFileSync(junk, "not a zip at all");
  await rejectsWith(openStoreSource(junk, { readonly: true }), "E_NOT_A_STORE");
  await rejectsWith(openStoreSource(renamed, { readonly: false }), "E_READ_ONLY");
});

test("archive - zip64 records (forced) read back the same; unzip agrees", async () => {
  const out = path.join(tmpDir("arch-z64"), "z64.zip");
  await sealStore(fx.store, out, { forceZip64: true });
  const t = spawnSync("unzip", ["-t", out], { encoding: "utf8" });
  assert.is(t.status, 0, t.stdout + t.stderr);
  const zip = await ZipBlobStore.open(new FileByteSource(out));
  const ref = await ZipBlobStore.open(new FileByteSource(fx.archive));
  try {
    assert.is(zip.directory.entries.size, ref.directory.entries.size);
    for (const [k, e] of ref.directory.entries)
      assert.is(zip.directory.entries.get(k)?.uncompressedSize, e.uncompressedSize, k);
  } finally {
    await zip.close();
    await ref.close();
  }
  const dest = path.join(tmpDir("arch-z64-out"), "out");
  await extractTree(out, dest);
  assert.equal(compareTrees(fx.src, dest), []);
});

test("archive - seal refuses an existing output (E_DEST_EXISTS) unless --force", async () => {
  const dir = tmpDir("arch-force");
  const out = path.join(dir, "x.zip");
  fs.writeFileSync(out, "precious");
  await rejectsWith(sealCommand.run([fx.store, out], captureIO().io), "E_DEST_EXISTS");
  assert.is(fs.readFileSync(out, "utf8"), "precious");
  const { io, text: said } = captureIO();
  assert.is(await sealCommand.run([fx.store, out, "--force"], io), 0);
  assert.ok(/sealed .*x\.zip/.test(said()), said());
  assert.ok(fs.readFileSync(out).equals(fs.readFileSync(out)) && fs.statSync(out).size > 1e6);
  assert.equal(fs.readdirSync(dir), ["x.zip"]);
  await rejectsWith(sealStore(path.join(dir, "nothing"), path.join(dir, "y.zip")), "E_NOT_A_STORE");
});

test("archive - pack to a .zip destination writes an archive and no store", async () => {
  const src = tmpDir("arch-pack-src");
  makeSampleTree(src);
  const dir = tmpDir("arch-pack");
  const out = path.join(dir, "direct.zip");
  const { io } = captureIO();
  assert.is(await packCommand.run([src, out, "--threads", "2", "--quiet"], io), 0);
  assert.equal(fs.readdirSync(dir), ["direct.zip"], "temporary store removed");
  assert.is(spawnSync("unzip", ["-tq", out]).status, 0);
  const dest = path.join(tmpDir("arch-pack-out"), "out");
  await extractTree(out, dest);
  assert.equal(compareTrees(src, dest), []);
  await rejectsWith(packCommand.run([src, out, "--quiet"], io), "E_DEST_EXISTS");
});

test("archive - a damaged super-chunk entry is E_ZIP_CORRUPT (fsck stops, the archive closed); a cut archive does not open", async () => {
  const dir = tmpDir("arch-bad");
  const bad = path.join(dir, "bad.zip");
  fs.copyFileSync(fx.archive, bad);
  const zip = await ZipBlobStore.open(new FileByteSource(bad));
  const keys = [...zip.directory.entries.keys()].filter((k) => k.startsWith("sc/")).sort();
  const e = zip.directory.entries.get(keys[0]!)!;
  await zip.close();
  const fd = fs.openSync(bad, "r+");
  const at = e.localHeaderOffset + 30 + e.name.length + Math.floor(e.compressedSize / 2);
  fs.writeSync(fd, Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0, 4, at);
  fs.closeSync(fd);
  const z2 = await ZipBlobStore.open(new FileByteSource(bad));
  try {
    await rejectsWith(z2.get(keys[0]!), "E_ZIP_CORRUPT");
  } finally {
    await z2.close();
  }
  // fsck stops at the damaged entry; no verify still running reopens the archive after
  await rejectsWith(fsckStore(bad, { threads: 2 }), "E_ZIP_CORRUPT");
  // a verify still under way when fsck failed closes its descriptor once it ends: poll
  for (let i = 0; i < 200 && openFdsOn(bad).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(openFdsOn(bad), [], "fsck left the archive open");
  const cut = path.join(dir, "cut.zip");
  fs.writeFileSync(cut, fs.readFileSync(fx.archive).subarray(0, 200_000));
  await rejectsWith(openStoreSource(cut, { readonly: true }), "E_ZIP_CORRUPT");
});

/** This process's descriptors open on `file`. */
function openFdsOn(file: string): string[] {
  const fds = fs.readdirSync("/proc/self/fd");
  return fds.filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false; // closed since listed (the listing's own descriptor)
    }
  });
}

test.run();
