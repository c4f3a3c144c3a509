import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryBlobStore } from "../../src/blobstore/memory-blob-store.js";
import { isCode } from "../../src/errors.js";
import { packTree } from "../../src/pack/pack.js";
import { metaCopyKey } from "../../src/store/meta-copy.js";
import { packDatabaseFileByParts, readPackedDatabase } from "../../src/store/packed-db.js";
import { openStore } from "../../src/store/store-layout.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

async function smallStore() {
  const root = tmpDir("pdb");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, "a.txt"), "alpha\n".repeat(1000));
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 1 });
  return store;
}

test("packed-db - pack leaves only the packed database, readable in memory", async () => {
  const store = await smallStore();
  assert.not.ok(fs.existsSync(path.join(store, "superchunk.db")));
  assert.ok(fs.existsSync(path.join(store, "superchunk.db.zst")));
  const s = openStore(store, { readonly: true });
  assert.ok(s.meta.resolvePath("a.txt") !== undefined);
  s.meta.close();
  assert.not.ok(fs.existsSync(path.join(store, "superchunk.db")), "read-only open writes nothing");
});

test("packed-db - a writable open turns it back into a plain database", async () => {
  const store = await smallStore();
  const s = openStore(store, { readonly: false });
  assert.ok(s.meta.resolvePath("a.txt") !== undefined);
  s.meta.close();
  assert.ok(fs.existsSync(path.join(store, "superchunk.db")));
  assert.not.ok(fs.existsSync(path.join(store, "superchunk.db.zst")));
});

test("packed-db - a flipped byte or a truncation is E_CORRUPT", async () => {
  const store = await smallStore();
  const file = path.join(store, "superchunk.db.zst");
  const good = fs.readFileSync(file);
  for (const bad of [
    Buffer.concat([good.subarray(0, 40), Buffer.from([good[40]! ^ 1]), good.subarray(41)]),
    good.subarray(0, good.length - 5),
    good.subarray(0, 10),
  ]) {
    fs.writeFileSync(file, bad);
    try {
      readPackedDatabase(file);
      assert.unreachable();
    } catch (e) {
      assert.ok(isCode(e, "E_CORRUPT"), String(e));
    }
  }
});

test("packed-db - packed part by part: one frame per part, read back as one image", async () => {
  const dir = tmpDir("pdb-parts");
  const db = path.join(dir, "image.db");
  // 10 parts of 1000 bytes and a short one; some runs repeat, so frames are smaller than parts
  const image = Buffer.alloc(10_300);
  for (let i = 0; i < image.length; i++) image[i] = ((i * 7919) % 251) ^ (i >> 9);
  fs.writeFileSync(db, image);
  const blobs = new MemoryBlobStore();
  const seen: number[] = [];
  const bytes = await packDatabaseFileByParts(db, 1000, async (raw, frame, index) => {
    seen.push(index);
    assert.is(raw.length, index < 10 ? 1000 : 300);
    await blobs.put(metaCopyKey(1, index), Buffer.concat([frame]));
  });
  assert.equal(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.not.ok(fs.existsSync(db), "the plain file is gone");
  assert.is(fs.statSync(`${db}.zst`).size, bytes);
  assert.ok(readPackedDatabase(`${db}.zst`).equals(image), "the frames inflate as one stream");
});

test("packed-db - an empty image packs into one empty frame", async () => {
  const dir = tmpDir("pdb-copy");
  const db = path.join(dir, "image.db");
  fs.writeFileSync(db, Buffer.alloc(0));
  await packDatabaseFileByParts(db, 1000, async (raw, frame, index) => {
    assert.is(index, 0);
    assert.is(raw.length, 0);
    assert.ok(frame.length > 0, "an empty image is still one frame");
  });
  assert.is(readPackedDatabase(`${db}.zst`).length, 0);
});

test.run();
