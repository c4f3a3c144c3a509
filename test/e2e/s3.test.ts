/**
 * Stores in an S3 object store, against a real Ceph RADOS Gateway started by the suite
 * (test/helpers/ceph.ts; skipped with a message when the ceph binaries are absent): pack
 * to S3, extract and mount from it, the writer's lease, the conditional pointer switch,
 * and a dead or frozen endpoint failing with a clear error instead of a hang.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import * as assert from "uvu/assert";
import { superChunkKey } from "../../src/blobstore/blob-store.js";
import { S3BlobStore } from "../../src/blobstore/s3-blob-store.js";
import { fsckCommand } from "../../src/cli/cmd-fsck.js";
import { packCommand } from "../../src/cli/cmd-pack.js";
import { statsCommand } from "../../src/cli/cmd-stats.js";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import type { PackJson } from "../../src/cli/json-payloads.js";
import type { FsckJson, StoreStatsJson } from "../../src/cli/json-stats.js";
import { extractTree } from "../../src/export/extract.js";
import { openStoreReaderAt } from "../../src/location/store-view.js";
import { packTo as packToS3 } from "../../src/pack/pack-to.js";
import { commitGeneration } from "../../src/s3store/s3-commit.js";
import { acquireS3Lease, LEASE_KEY, readS3Lease } from "../../src/s3store/s3-lease.js";
import {
  generationKey,
  POINTER_KEY,
  pointerBody,
  readPointer,
} from "../../src/s3store/s3-store.js";
import { pathStatsAt } from "../../src/stats/stats-source.js";
import { isMetaCopyKey } from "../../src/store/meta-copy.js";
import { captureIO, rejectsWith } from "../helpers/cli-capture.js";
import { isMounted, mountDir, serveStore } from "../helpers/mount.js";
import { compareMounted } from "../helpers/mount-compare.js";
import { freePort } from "../helpers/nginx.js";
import { suiteNeeding } from "../helpers/services.js";
import { compareTrees, makeSampleTree, seededBytes, tmpDir } from "../helpers/tree.js";

const { test, t, skip, ceph, needing } = suiteNeeding("s3", ["ceph"]);
const tf = needing("fuse");

const BUCKET = "superchunk-test";
const TREE = `s3://${BUCKET}/tree`;
let src = "";
let packed: PackJson | undefined;

/** Captured output of a command run, with the tests' run directory. */
function sink() {
  return captureIO({ runDir: true });
}

test.before(async () => {
  if (skip) return;
  src = path.join(tmpDir("s3-src"), "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
});

async function keysOf(blobs: S3BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of blobs.list(prefix)) keys.push(k);
  return keys.sort();
}

t("s3 - pack to S3 uploads the super-chunks, then one generation, then the pointer", async () => {
  const { io, out } = sink();
  const args = [src, TREE, "--json", "--superchunk-size", "256K", "--endpoint", ceph!.endpoint];
  assert.is(await packCommand.run(args, io), 0);
  packed = JSON.parse(out()) as PackJson;
  const blobs = S3BlobStore.open(TREE);
  try {
    const all = await keysOf(blobs, "sc/");
    const sc = all.filter((k) => !isMetaCopyKey(k)); // the rest is the metadata copy
    assert.is(sc.length, packed.superChunkCount);
    assert.equal(await keysOf(blobs, "meta/"), [generationKey(1), POINTER_KEY].sort());
    const pointer = await readPointer(blobs);
    assert.is(pointer?.generation, 1);
    assert.is(packed.generation, 1);
    assert.not.ok(await blobs.has(LEASE_KEY), "the lease is released");
    let bytes = 0;
    for (const k of [...all, generationKey(1), POINTER_KEY]) bytes += await blobs.size(k);
    assert.is(packed.uploadedBytes, bytes, "uploaded bytes = what the bucket holds");
    assert.is(packed.uploadedObjectCount, all.length + 2);
    assert.is(packed.store, TREE);
  } finally {
    await blobs.close();
  }
  console.log(
    `s3: pack to S3 ${packed.elapsedSeconds.toFixed(2)} s (upload+commit ${packed.uploadSeconds?.toFixed(2)} s), ${packed.uploadedObjectCount} objects, ${packed.uploadedBytes} bytes uploaded, ${packed.logicalBytes} logical`,
  );
});

t("s3 - extract from S3 equals the source", async () => {
  const out = `${tmpDir("s3-out")}/out`;
  await extractTree(TREE, out);
  assert.equal(compareTrees(src, out), []);
});

t("s3 - stats of an S3 store match stats of the same tree packed to a directory", async () => {
  const dir = path.join(tmpDir("s3-stats"), "store");
  const zip = `${dir}.zip`;
  for (const dest of [dir, zip]) {
    assert.is(
      await packCommand.run([src, dest, "--quiet", "--superchunk-size", "256K"], sink().io),
      0,
    );
  }
  const stats = async (store: string) => {
    const { io, out } = sink();
    assert.is(await statsCommand.run([store, "--json", "--endpoint", ceph!.endpoint], io), 0);
    return JSON.parse(out()) as StoreStatsJson;
  };
  const figures = (s: StoreStatsJson) => ({
    fileCount: s.fileCount,
    dirCount: s.dirCount,
    logicalBytes: s.logicalBytes,
    uniqueBytes: s.uniqueBytes,
    superChunkBytes: s.superChunkBytes,
    superChunkCount: s.superChunkCount,
  });
  const [inS3, inDir, inZip] = [await stats(TREE), await stats(dir), await stats(zip)];
  assert.ok(inDir.fileCount > 0 && inDir.superChunkCount > 1, "the tree is not trivial");
  assert.equal(figures(inS3), figures(inDir));
  assert.equal(figures(inZip), figures(inDir));
  assert.is(inS3.superChunkCount, packed?.superChunkCount);
  assert.ok(inS3.metadataBytes > 0, "metadata = the generation object");
  const p = await pathStatsAt(TREE, "a/b/big.bin");
  assert.equal(p.usage, (await pathStatsAt(dir, "a/b/big.bin")).usage);
});

t(
  "s3 - fsck of an S3 store is clean; a deleted super-chunk is reported with its files",
  async () => {
    const loc = `s3://${BUCKET}/fsck`;
    assert.is(
      await packCommand.run([src, loc, "--quiet", "--superchunk-size", "256K"], sink().io),
      0,
    );
    const clean = sink();
    assert.is(await fsckCommand.run([loc, "--endpoint", ceph!.endpoint], clean.io), 0, clean.err());
    assert.match(clean.out(), /^clean/m);
    const fixed = sink();
    assert.is(await fsckCommand.run([loc, "--fix"], fixed.io), 0, fixed.err());
    const pointer = S3BlobStore.open(loc);
    try {
      assert.is((await readPointer(pointer))?.generation, 1, "nothing to fix: nothing published");
    } finally {
      await pointer.close();
    }
    const victim = (await pathStatsAt(loc, "a/b/big.bin")).superChunks[0]!.id;
    const blobs = S3BlobStore.open(loc);
    try {
      await blobs.delete(superChunkKey(victim));
    } finally {
      await blobs.close();
    }
    const broken = sink();
    assert.is(await fsckCommand.run([loc, "--json"], broken.io), 1, broken.err());
    const report = JSON.parse(broken.out()) as FsckJson;
    const missing = report.problems.filter((x) => x.code === "E_SUPERCHUNK_MISSING");
    assert.equal(
      missing.map((x) => x.superChunkId),
      [victim],
    );
    assert.ok(report.affectedFiles.includes("a/b/big.bin"), report.affectedFiles.join(", "));
    const text = sink();
    assert.is(await fsckCommand.run([loc], text.io), 1);
    assert.match(text.out(), superChunkKey(victim));
    assert.match(text.out(), "a/b/big.bin");
  },
);

tf("s3 - a read-only mount of an S3 store shows exactly the source tree", async () => {
  const mnt = mountDir("s3-mnt");
  const served = await serveStore(TREE, mnt, ["--read-only", "--cache-size", "16M"]);
  try {
    assert.equal(compareMounted(src, mnt), []);
  } finally {
    if (isMounted(mnt)) await umountCommand.run([mnt], sink().io);
  }
  assert.is(await served.exited, 0, served.stderr());
  assert.not.ok(isMounted(mnt));
  const m = /fetched (\d+) bytes in (\d+) requests/.exec(served.stderr());
  assert.ok(m, served.stderr());
  console.log(`s3: mount read-all fetched ${m![1]} bytes in ${m![2]} requests`);
  // a remote store fetches ahead by default, and what it fetched was read
  const ahead = /fetched ahead (\d+), used (\d+), unused (\d+)/.exec(served.stderr());
  assert.ok(ahead, served.stderr());
  assert.ok(Number(ahead![2]) > 0, served.stderr());
  console.log(`s3: fetched ahead ${ahead![1]}, used ${ahead![2]}, unused ${ahead![3]}`);
});

t("s3 - blob store: ranged and whole reads, sizes, listing, missing keys", async () => {
  const blobs = S3BlobStore.open(`s3://${BUCKET}/contract`);
  try {
    const data = seededBytes(300_000, 9);
    await blobs.put("sc/01/00000001.sc", data);
    assert.ok(
      (await blobs.get("sc/01/00000001.sc", { offset: 1000, length: 5000 })).equals(
        data.subarray(1000, 6000),
      ),
    );
    assert.is((await blobs.get("sc/01/00000001.sc", { offset: 299_990, length: 100 })).length, 10);
    assert.is((await blobs.get("sc/01/00000001.sc", { offset: 400_000, length: 10 })).length, 0);
    const into = await blobs.getInto("sc/01/00000001.sc", async (n) => Buffer.alloc(n));
    assert.ok(into.equals(data));
    assert.is(await blobs.size("sc/01/00000001.sc"), data.length);
    assert.equal(await keysOf(blobs, "sc/"), ["sc/01/00000001.sc"]);
    assert.not.ok(await blobs.has("sc/02/00000002.sc"));
    await rejectsWith(blobs.get("sc/02/00000002.sc"), "E_SUPERCHUNK_MISSING");
    await blobs.delete("sc/01/00000001.sc");
    await blobs.delete("sc/01/00000001.sc");
    assert.not.ok(await blobs.has("sc/01/00000001.sc"));
    await rejectsWith(openStoreReaderAt(`s3://${BUCKET}/nothing-here`), "E_NOT_A_STORE");
  } finally {
    await blobs.close();
  }
});

t("s3 - packing over an existing S3 store is refused", async () => {
  const err = await rejectsWith(packToS3(src, TREE), "E_DEST_EXISTS");
  assert.match(err.message, TREE);
});

t("s3 - a second writer is refused with E_STORE_LOCKED naming the holder", async () => {
  const loc = `s3://${BUCKET}/locked`;
  const blobs = S3BlobStore.open(loc);
  try {
    await blobs.ensureBucket();
    const lease = await acquireS3Lease(blobs, "test holder");
    try {
      const err = await rejectsWith(packToS3(src, loc), "E_STORE_LOCKED");
      assert.match(err.message, "test holder");
      assert.match(err.message, `pid ${process.pid}`);
      await rejectsWith(acquireS3Lease(blobs, "another"), "E_STORE_LOCKED");
      assert.is(await readPointer(blobs), undefined, "nothing committed");
      assert.is((await readS3Lease(blobs))?.holder, lease.info.holder);
    } finally {
      await lease.release();
    }
    assert.is(await readS3Lease(blobs), undefined);
    // an expired lease is taken over
    const old = {
      ...lease.info,
      holder: "stale",
      expires: new Date(Date.now() - 1000).toISOString(),
    };
    await blobs.put(LEASE_KEY, Buffer.from(JSON.stringify(old)));
    const next = await acquireS3Lease(blobs, "after expiry");
    assert.is((await readS3Lease(blobs))?.purpose, "after expiry");
    await next.release();
  } finally {
    await blobs.close();
  }
});

t("s3 - the pointer switch is conditional: a stale If-Match is refused", async () => {
  const blobs = S3BlobStore.open(`s3://${BUCKET}/cond`);
  const lease = await acquireS3Lease(blobs, "cond test");
  try {
    const first = await commitGeneration(blobs, Buffer.from("gen one"), undefined, lease);
    assert.is(first.generation, 1);
    const p1 = (await readPointer(blobs))!;
    await rejectsWith(
      commitGeneration(blobs, Buffer.from("again"), undefined, lease),
      "E_STORE_LOCKED",
    );
    const second = await commitGeneration(blobs, Buffer.from("gen two"), p1, lease);
    assert.is(
      second.generation,
      3,
      "generation 2 was uploaded by the refused commit, never reused",
    );
    await rejectsWith(commitGeneration(blobs, Buffer.from("stale"), p1, lease), "E_STORE_LOCKED");
    assert.is((await readPointer(blobs))?.generation, 3);
    assert.is(await blobs.putIf(POINTER_KEY, pointerBody(9), { ifMatch: p1.etag }), undefined);
    assert.is(await blobs.putIf(POINTER_KEY, pointerBody(9), { ifNoneMatch: "*" }), undefined);
    assert.is((await readPointer(blobs))?.generation, 3);
  } finally {
    await lease.release();
    await blobs.close();
  }
});

t("s3 - an endpoint that is down gives E_IO naming it, quickly", async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const s3 = { endpoint: dead, maxAttempts: 2 };
  const err = await rejectsWith(openStoreReaderAt(TREE, { s3 }), "E_IO");
  assert.match(err.message, dead);
});

t("s3 - a frozen endpoint gives E_TIMEOUT naming it, not a hang", async () => {
  const r = await openStoreReaderAt(TREE, { s3: { timeoutMs: 1000, maxAttempts: 2 } });
  try {
    const ino = r.lookupPath("a/b/big.bin")!;
    await ceph!.pauseGateway();
    const err = await rejectsWith(r.read(ino, 0, 4096), "E_TIMEOUT");
    assert.match(err.message, ceph!.endpoint);
  } finally {
    ceph!.resumeGateway();
    await r.close();
  }
});

test.run();
