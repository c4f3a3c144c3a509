/**
 * S3 stores under real faults, against a throwaway Ceph RADOS Gateway (test/helpers/ceph.ts;
 * skipped with a message when the ceph binaries are absent): radosgw killed in the middle
 * of a pack and of a read (a clear error naming the endpoint within a bound derived from
 * the timeout settings, nothing committed, and a clean retry once it is back), a stale
 * writer's lease on this host, and fsck of a damaged super-chunk object.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as assert from "uvu/assert";
import { superChunkKey } from "../../src/blobstore/blob-store.js";
import { S3BlobStore } from "../../src/blobstore/s3-blob-store.js";
import type { S3Options } from "../../src/blobstore/s3-client.js";
import { fsckCommand } from "../../src/cli/cmd-fsck.js";
import type { FsckJson } from "../../src/cli/json-stats.js";
import { isCode } from "../../src/errors.js";
import { extractTree } from "../../src/export/extract.js";
import { openStoreReaderAt } from "../../src/location/store-view.js";
import { packTo as packToS3 } from "../../src/pack/pack-to.js";
import {
  acquireS3Lease,
  LEASE_KEY,
  readS3Lease,
  type S3LeaseInfo,
} from "../../src/s3store/s3-lease.js";
import { readPointer } from "../../src/s3store/s3-store.js";
import { pathStatsAt } from "../../src/stats/stats-source.js";
import { captureIO } from "../helpers/cli-capture.js";
import { suiteNeeding } from "../helpers/services.js";
import { compareTrees, makeSampleTree, tmpDir } from "../helpers/tree.js";

const { test, t, skip, ceph } = suiteNeeding("s3-faults", ["ceph"]);

const BUCKET = "superchunk-faults";
/** Small timeouts and few attempts, so a dead gateway fails fast. */
const S3: S3Options = { connectTimeoutMs: 1000, timeoutMs: 2000, maxAttempts: 2 };
/** The SDK's longest backoff between two attempts. */
const MAX_BACKOFF_MS = 20_000;
/** Longest one request may take under S3 before failing: every attempt times out. */
const REQUEST_BOUND_MS =
  S3.maxAttempts! * (S3.connectTimeoutMs! + 4 * S3.timeoutMs!) +
  (S3.maxAttempts! - 1) * MAX_BACKOFF_MS;
let src = "";

test.before(async () => {
  if (skip) return;
  src = path.join(tmpDir("s3f-src"), "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
});

/** The error `p` rejects with; fails the test when it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  assert.unreachable("expected an error");
  throw new Error("unreachable");
}

/** Asserts `err` is E_IO or E_TIMEOUT naming the gateway's endpoint. */
function assertEndpointError(err: Error): void {
  assert.ok(isCode(err, "E_IO") || isCode(err, "E_TIMEOUT"), `E_IO or E_TIMEOUT: ${String(err)}`);
  assert.match(err.message, ceph!.endpoint);
}

async function withBlobs<T>(loc: string, fn: (b: S3BlobStore) => Promise<T>): Promise<T> {
  const blobs = S3BlobStore.open(loc);
  try {
    return await fn(blobs);
  } finally {
    await blobs.close();
  }
}

async function keysOf(blobs: S3BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of blobs.list(prefix)) keys.push(k);
  return keys.sort();
}

/** Restarts the gateway, logs and answers the ms it took. */
async function restartGateway(): Promise<number> {
  const started = Date.now();
  await ceph!.startGateway();
  return Date.now() - started;
}

t("s3-faults - the gateway restarts on its port and keeps the data", async () => {
  const loc = `s3://${BUCKET}/restart`;
  await withBlobs(loc, async (b) => {
    await b.ensureBucket();
    await b.put("probe", Buffer.from("kept across a restart"));
  });
  await ceph!.stopGateway();
  const down = await rejection(withBlobs(loc, (b) => b.get("probe")));
  assertEndpointError(down);
  console.log(`s3-faults: gateway back in ${await restartGateway()} ms`);
  const back = await withBlobs(loc, (b) => b.get("probe"));
  assert.is(back.toString(), "kept across a restart");
});

t(
  "s3-faults - gateway killed mid-pack: clear error, nothing committed, the retry succeeds",
  async () => {
    const loc = `s3://${BUCKET}/pack`;
    const tmp = tmpDir("s3f-packtmp");
    let stoppedAt = 0;
    let stopping: Promise<void> | undefined;
    const hooks = {
      onProgress: (p: { phase: string; bytesDone: number }) => {
        // the upload's progress (the local pack's own "commit" step reports 0 bytes)
        if (p.phase !== "commit" || p.bytesDone === 0 || stopping !== undefined) return;
        stoppedAt = Date.now();
        stopping = ceph!.stopGateway();
      },
    };
    const opts = { superChunkBytes: 256 * 1024 };
    const s3 = { ...S3, tmpDir: tmp, uploadConcurrency: 2 };
    const err = await rejection(packToS3(src, loc, opts, hooks, s3));
    const failedMs = Date.now() - stoppedAt;
    await stopping;
    assert.ok(stoppedAt > 0, "the gateway was stopped after the first super-chunk upload");
    assertEndpointError(err);
    const boundMs = 3 * REQUEST_BOUND_MS + 10_000; // the failed put, a renewal, the release
    assert.ok(failedMs < boundMs, `failed after ${failedMs} ms, bound ${boundMs} ms`);
    assert.equal(fs.readdirSync(tmp), [], "the temporary local store is removed");
    console.log(`s3-faults: pack failed ${failedMs} ms after the kill (${err.message})`);
    console.log(`s3-faults: gateway back in ${await restartGateway()} ms`);
    await withBlobs(loc, async (b) => {
      assert.is(await readPointer(b), undefined, "nothing committed");
      assert.equal(await keysOf(b, "meta/"), [], "no generation uploaded");
      const left = await readS3Lease(b);
      assert.match(left?.purpose ?? "", "pack ", "the failed pack could not delete its lease");
    });
    const again = await packToS3(src, loc, opts, {}, s3);
    assert.is("generation" in again ? again.generation : undefined, 1);
    await withBlobs(loc, async (b) => {
      assert.is((await readPointer(b))?.generation, 1);
      assert.not.ok(await b.has(LEASE_KEY), "the lease is released");
    });
    const out = path.join(tmpDir("s3f-out"), "out");
    await extractTree(loc, out);
    assert.equal(compareTrees(src, out), []);
  },
);

/** The regular files of the source tree below `dir`, relative, sorted, biggest last. */
function regularFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      // a name that is not UTF-8 does not survive the round trip through a string
      else if (e.isFile() && !r.includes("\uFFFD")) files.push(r);
    }
  };
  walk("");
  const size = (f: string) => fs.statSync(path.join(dir, f)).size;
  return files.sort((a, b) => size(a) - size(b) || a.localeCompare(b));
}

t(
  "s3-faults - gateway killed mid-read: clear error, a fresh read gives the exact bytes",
  async () => {
    const loc = `s3://${BUCKET}/read`;
    await packToS3(src, loc, { superChunkBytes: 256 * 1024 }, {}, S3);
    const files = regularFiles(src).filter((f) => fs.statSync(path.join(src, f)).size > 0);
    const readAll = async (r: Awaited<ReturnType<typeof openStoreReaderAt>>, f: string) => {
      const ino = r.lookupPath(f);
      assert.ok(ino !== undefined, f);
      return r.read(ino!, 0, fs.statSync(path.join(src, f)).size + 1);
    };
    const readerOpts = { s3: S3, cacheBytes: 1024 * 1024, threads: 1, readaheadChunks: 0 };
    const r = await openStoreReaderAt(loc, readerOpts);
    let stoppedAt = 0;
    try {
      assert.ok((await readAll(r, files[0]!)).equals(fs.readFileSync(path.join(src, files[0]!))));
      stoppedAt = Date.now();
      await ceph!.stopGateway();
      // the biggest file last: its super-chunks cannot all be in a 1 MiB cache
      const err = await rejection(
        (async () => {
          for (const f of files.slice(1)) await readAll(r, f);
        })(),
      );
      const failedMs = Date.now() - stoppedAt;
      assertEndpointError(err);
      const boundMs = files.length * REQUEST_BOUND_MS + 10_000;
      assert.ok(failedMs < boundMs, `failed after ${failedMs} ms, bound ${boundMs} ms`);
      console.log(`s3-faults: read failed ${failedMs} ms after the kill (${err.message})`);
      console.log(`s3-faults: gateway back in ${await restartGateway()} ms`);
      // the same reader recovers: a failed load is not cached
      for (const f of files) {
        assert.ok((await readAll(r, f)).equals(fs.readFileSync(path.join(src, f))), `again: ${f}`);
      }
    } finally {
      await ceph!.startGateway();
      await r.close();
    }
    const fresh = await openStoreReaderAt(loc, readerOpts);
    try {
      for (const f of files) {
        assert.ok((await readAll(fresh, f)).equals(fs.readFileSync(path.join(src, f))), f);
      }
    } finally {
      await fresh.close();
    }
  },
);

t("s3-faults - fsck names a damaged super-chunk object and its files", async () => {
  const loc = `s3://${BUCKET}/damaged`;
  await packToS3(src, loc, { superChunkBytes: 256 * 1024 }, {}, S3);
  const victim = (await pathStatsAt(loc, "a/b/big.bin")).superChunks[0]!.id;
  await withBlobs(loc, async (b) => {
    const key = superChunkKey(victim);
    const bytes = Buffer.from(await b.get(key));
    const headerBytes = bytes.readUInt32LE(12);
    const at = headerBytes + Math.floor((bytes.length - headerBytes) / 2);
    bytes[at] = bytes[at]! ^ 0x5a;
    await b.put(key, bytes);
  });
  const broken = captureIO();
  assert.is(await fsckCommand.run([loc, "--json"], broken.io), 1, broken.err());
  const report = JSON.parse(broken.out()) as FsckJson;
  const named = report.problems.filter((x) => x.superChunkId === victim);
  assert.ok(
    named.some((x) => x.code === "E_SUPERCHUNK_CORRUPT"),
    JSON.stringify(report.problems),
  );
  assert.equal([...new Set(report.problems.map((x) => x.superChunkId))], [victim]);
  for (const f of ["a/b/big.bin", "a/b/c/copy-of-big.bin"]) {
    assert.ok(report.affectedFiles.includes(f), report.affectedFiles.join(", "));
  }
  const text = captureIO();
  assert.is(await fsckCommand.run([loc], text.io), 1);
  assert.match(text.out(), `super-chunk ${victim}: stored payload CRC mismatch`);
  assert.match(text.out(), "E_SUPERCHUNK_CORRUPT");
  assert.match(text.out(), "a/b/big.bin");
  console.log(`s3-faults: fsck of the damaged object: ${named.map((x) => x.code).join(", ")}`);
});

/** A lease object as another writer would have left it, valid for another minute. */
function foreignLease(host: string, pid: number): S3LeaseInfo {
  return {
    holder: `other-${pid}`,
    host,
    pid,
    purpose: "pack elsewhere",
    since: new Date().toISOString(),
    expires: new Date(Date.now() + 60_000).toISOString(),
  };
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn("true");
  await new Promise((r) => child.once("exit", r));
  return child.pid!;
}

t(
  "s3-faults - a lease of a dead pid on this host is taken over; live or remote is refused",
  async () => {
    const loc = `s3://${BUCKET}/lease`;
    const sleeper = spawn("sleep", ["60"]);
    try {
      await withBlobs(loc, async (b) => {
        await b.ensureBucket();
        const refused = async (info: S3LeaseInfo) => {
          await b.put(LEASE_KEY, Buffer.from(JSON.stringify(info)));
          const err = await rejection(acquireS3Lease(b, "next writer"));
          assert.ok(isCode(err, "E_STORE_LOCKED"), String(err));
          assert.match(err.message, `pid ${info.pid} on ${info.host}`);
          assert.is((await readS3Lease(b))?.holder, info.holder, "left as it was");
        };
        await refused(foreignLease(os.hostname(), sleeper.pid!));
        await refused(foreignLease("some-other-host", await deadPid()));
        await b.put(
          LEASE_KEY,
          Buffer.from(JSON.stringify(foreignLease(os.hostname(), await deadPid()))),
        );
        const lease = await acquireS3Lease(b, "after a dead writer");
        try {
          assert.is((await readS3Lease(b))?.holder, lease.info.holder);
          // this process's own live lease is not stale
          const err = await rejection(acquireS3Lease(b, "same process"));
          assert.ok(isCode(err, "E_STORE_LOCKED"), String(err));
        } finally {
          await lease.release();
        }
        assert.not.ok(await b.has(LEASE_KEY));
      });
    } finally {
      sleeper.kill("SIGKILL");
    }
  },
);

test.run();
