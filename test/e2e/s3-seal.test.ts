/**
 * seal of a store that is not a store directory: an S3 store's committed generation
 * against a real Ceph RADOS Gateway (test/helpers/ceph.ts; skipped with a message when
 * the ceph binaries are absent), and an archive re-sealed (no gateway needed). The
 * archive must be what sealing a store directory writes (spec/FORMAT.md "Archive").
 */

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as assert from "uvu/assert";
import { parseSuperChunkKey, superChunkKey } from "../../src/blobstore/blob-store.js";
import { FileByteSource } from "../../src/blobstore/byte-source.js";
import { S3BlobStore } from "../../src/blobstore/s3-blob-store.js";
import { ZipBlobStore } from "../../src/blobstore/zip-blob-store.js";
import { packCommand } from "../../src/cli/cmd-pack.js";
import { sealCommand } from "../../src/cli/cmd-seal.js";
import type { SealJson } from "../../src/cli/json-payloads.js";
import { extractTree } from "../../src/export/extract.js";
import { sealStore } from "../../src/export/seal.js";
import { readPointer } from "../../src/s3store/s3-store.js";
import { storeStatsAt } from "../../src/stats/stats-source.js";
import type { StoreStats } from "../../src/stats/stats-store.js";
import { isMetaCopyKey } from "../../src/store/meta-copy.js";
import { captureIO, rejectsWith } from "../helpers/cli-capture.js";
import { suiteNeeding } from "../helpers/services.js";
import { compareTrees, makeSampleTree, tmpDir } from "../helpers/tree.js";

const { test, t, ceph } = suiteNeeding("s3-seal", ["ceph"]);

const BUCKET = "superchunk-seal";
const TREE = `s3://${BUCKET}/tree`;
let src = "";
let zip = "";

test.before(async () => {
  src = path.join(tmpDir("s3-seal-src"), "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
});

async function pack(dest: string): Promise<void> {
  const args = [src, dest, "--quiet", "--superchunk-size", "256K"];
  assert.is(await packCommand.run(args, captureIO().io), 0);
}

/** The archive's entry names in file order, and every entry's bytes by name. */
async function zipEntries(file: string): Promise<{ names: string[]; data: Map<string, Buffer> }> {
  const list = spawnSync("unzip", ["-Z1", file], { encoding: "utf8" });
  assert.is(list.status, 0, list.stderr);
  const names = list.stdout.split("\n").filter((n) => n !== "");
  const z = await ZipBlobStore.open(new FileByteSource(file));
  try {
    const data = new Map<string, Buffer>();
    for (const n of names) data.set(n, await z.get(n));
    return { names, data };
  } finally {
    await z.close();
  }
}

function unzipTest(file: string): void {
  const r = spawnSync("unzip", ["-t", file], { encoding: "utf8" });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /No errors detected/);
}

function figures(s: StoreStats) {
  const { files, dirs, logicalBytes, uniqueBytes, storedBytes, superChunkCount } = s;
  return { files, dirs, logicalBytes, uniqueBytes, storedBytes, superChunkCount };
}

t(
  "s3-seal - seal s3://… writes the committed generation: unzip -t passes, same entries",
  async () => {
    await pack(TREE);
    zip = path.join(tmpDir("s3-seal-out"), "tree.zip");
    const { io, out } = captureIO();
    const args = [TREE, zip, "--json", "--endpoint", ceph!.endpoint];
    assert.is(await sealCommand.run(args, io), 0);
    const s = JSON.parse(out()) as SealJson;
    unzipTest(zip);
    const { names, data } = await zipEntries(zip);
    assert.is(names.at(-1), "superchunk.db.zst", "database entry last");
    const scNames = names.slice(0, -1).filter((n) => !isMetaCopyKey(n)); // and the copy
    const ids = scNames.map((n) => parseSuperChunkKey(n)!);
    assert.equal(
      ids,
      [...ids].sort((a, b) => a - b),
      "super-chunks in id order",
    );
    assert.ok(ids.length > 1 && ids.length === s.superChunkCount, `super-chunks: ${ids.length}`);
    const blobs = S3BlobStore.open(TREE);
    try {
      const pointer = (await readPointer(blobs))!;
      assert.ok(data.get("superchunk.db.zst")!.equals(await blobs.get(pointer.database)));
      const inBucket: string[] = [];
      for await (const k of blobs.list("sc/")) if (!isMetaCopyKey(k)) inBucket.push(k);
      assert.equal(
        scNames,
        inBucket.sort((a, b) => parseSuperChunkKey(a)! - parseSuperChunkKey(b)!),
      );
      for (const n of scNames) assert.ok(data.get(n)!.equals(await blobs.get(n)), `${n} copied`);
    } finally {
      await blobs.close();
    }
    assert.is(s.archiveBytes, fs.statSync(zip).size);
    assert.ok(s.fetchedBytes! >= s.superChunkBytes + s.metadataBytes, "all of it fetched");
    assert.equal(fs.readdirSync(path.dirname(zip)), ["tree.zip"], "no staging or partial left");
  },
);

t("s3-seal - extract from the sealed archive equals the source", async () => {
  const out = path.join(tmpDir("s3-seal-x"), "out");
  await extractTree(zip, out);
  assert.equal(compareTrees(src, out), []);
});

t("s3-seal - stats of the archive match stats of the S3 store", async () => {
  const [ofZip, ofS3] = [await storeStatsAt(zip), await storeStatsAt(TREE)];
  assert.ok(ofZip.files > 0 && ofZip.superChunkCount > 1, "the tree is not trivial");
  assert.equal(figures(ofZip), figures(ofS3));
  assert.is(ofZip.metadataBytes, ofS3.metadataBytes, "the same packed database");
});

t(
  "s3-seal - no store at the prefix is E_NOT_A_STORE; an existing output E_DEST_EXISTS",
  async () => {
    const dir = tmpDir("s3-seal-none");
    await rejectsWith(
      sealStore(`s3://${BUCKET}/nothing-here`, path.join(dir, "x.zip")),
      "E_NOT_A_STORE",
    );
    await rejectsWith(sealStore(TREE, zip), "E_DEST_EXISTS");
    assert.equal(fs.readdirSync(dir), [], "nothing written");
  },
);

t("s3-seal - a short or missing super-chunk fails the seal and leaves nothing", async () => {
  const loc = `s3://${BUCKET}/damaged`;
  await pack(loc);
  const dir = tmpDir("s3-seal-bad");
  const out = path.join(dir, "bad.zip");
  const blobs = S3BlobStore.open(loc);
  try {
    const key = superChunkKey(2);
    const whole = await blobs.get(key);
    await blobs.put(key, whole.subarray(0, whole.length - 1));
    const err = await rejectsWith(sealStore(loc, out), "E_SUPERCHUNK_CORRUPT");
    assert.ok(err.message.includes(key), err.message);
    assert.equal(fs.readdirSync(dir), [], "no output, staging or partial left");
    await blobs.delete(key);
    await rejectsWith(sealStore(loc, out, { fetchConcurrency: 1 }), "E_SUPERCHUNK_MISSING");
    assert.equal(fs.readdirSync(dir), [], "no output, staging or partial left");
  } finally {
    await blobs.close();
  }
});

test("s3-seal - an archive re-sealed has the same entries, the database copied as it is", async () => {
  const dir = tmpDir("s3-seal-zip");
  const first = path.join(dir, "first.zip");
  await pack(first);
  const again = path.join(dir, "again.zip");
  const s = await sealStore(first, again);
  unzipTest(again);
  const [a, b] = [await zipEntries(first), await zipEntries(again)];
  assert.equal(b.names, a.names);
  for (const n of a.names) assert.ok(b.data.get(n)!.equals(a.data.get(n)!), `${n} equal`);
  // every entry but the database and the metadata copy is a super-chunk
  assert.is(s.superChunks, a.names.filter((n) => parseSuperChunkKey(n) !== undefined).length);
  assert.ok(s.fetchedBytes! > 0, "counted what was read from the archive");
  assert.equal(fs.readdirSync(dir).sort(), ["again.zip", "first.zip"]);
});

test.run();
