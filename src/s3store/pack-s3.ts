/**
 * pack to an S3 store (`superchunk pack <src> s3://bucket/prefix`): under the
 * writer's lease, packs into a local temporary store, uploads its super-chunks, then
 * its packed database as generation 1, then switches the pointer, so a crash at any
 * point leaves either no store or a complete one (plus unreferenced objects, never
 * a half-committed state). Nothing is deleted from the bucket.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DirBlobStore } from "../blobstore/dir-blob-store.js";
import type { S3BlobStore } from "../blobstore/s3-blob-store.js";
import { type PackSummary, packTree } from "../pack/pack.js";
import type { PackHooks, PackOptions } from "../pack/pack-options.js";
import { PACKED_DB_SUFFIX } from "../store/packed-db.js";
import { DB_FILE } from "../store/store-layout.js";
import { commitGeneration } from "./s3-commit.js";
import { type NewS3StoreOptions, withNewS3Store } from "./s3-init.js";
import type { S3Lease } from "./s3-lease.js";

/** Options of packToS3 besides the pack options. */
export interface PackS3Options extends NewS3StoreOptions {
  /** uploads in flight at once; default 8 */
  uploadConcurrency?: number;
}

/** What packToS3 did: the pack summary plus the upload. */
export interface PackS3Summary extends PackSummary {
  location: string;
  endpoint: string;
  generation: number;
  /** objects uploaded: super-chunks, the generation, the pointer */
  uploadedObjects: number;
  /** bytes uploaded (object payloads) */
  uploadedBytes: number;
  /** wall time of the upload and commit, seconds (included in `seconds`) */
  uploadSeconds: number;
}

const DEFAULT_UPLOAD_CONCURRENCY = 8;

/**
 * Packs `source` into a new store at `location` (`s3://bucket/prefix`); the bucket is
 * created when missing. E_DEST_EXISTS when a store is committed there already,
 * E_STORE_LOCKED when another writer holds the lease.
 *
 * @example
 * await packToS3("linux-src", "s3://archives/linux", {}, {}, { endpoint: "http://127.0.0.1:7480" });
 */
export async function packToS3(
  source: string,
  location: string,
  opts: Partial<PackOptions> = {},
  hooks: PackHooks = {},
  s3: PackS3Options = {},
): Promise<PackS3Summary> {
  const started = process.hrtime.bigint();
  return withNewS3Store(location, `pack ${path.resolve(source)}`, s3, async (blobs, lease) => {
    const tmp = fs.mkdtempSync(path.join(s3.tmpDir ?? os.tmpdir(), "superchunk-s3-pack-"));
    try {
      const store = path.join(tmp, "store");
      const summary = await packTree(source, store, opts, hooks);
      const upStarted = process.hrtime.bigint();
      const up = await uploadSuperChunks(store, blobs, lease, s3.uploadConcurrency, hooks);
      const packedDb = fs.readFileSync(path.join(store, `${DB_FILE}${PACKED_DB_SUFFIX}`));
      const commit = await commitGeneration(blobs, packedDb, undefined, lease);
      const now = process.hrtime.bigint();
      return {
        ...summary,
        location: blobs.location,
        endpoint: blobs.settings.endpointName,
        generation: commit.generation,
        uploadedObjects: up.objects + 2,
        uploadedBytes: up.bytes + packedDb.length + commit.pointerBytes,
        uploadSeconds: Number(now - upStarted) / 1e9,
        seconds: Number(now - started) / 1e9,
      };
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}

/** Uploads every super-chunk file of the local store `dir`, `concurrency` at a time. */
async function uploadSuperChunks(
  dir: string,
  blobs: S3BlobStore,
  lease: S3Lease,
  concurrency = DEFAULT_UPLOAD_CONCURRENCY,
  hooks: PackHooks = {},
): Promise<{ objects: number; bytes: number }> {
  const local = new DirBlobStore(dir);
  const keys: string[] = [];
  for await (const key of local.list("sc/")) if (key.endsWith(".sc")) keys.push(key);
  const sizes = keys.map((k) => fs.statSync(path.join(dir, k)).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  let next = 0;
  let bytes = 0;
  let failed: { err: unknown } | undefined;
  const worker = async () => {
    while (next < keys.length && failed === undefined) {
      const i = next++;
      try {
        lease.check();
        await blobs.put(keys[i]!, await local.get(keys[i]!));
      } catch (err) {
        failed ??= { err };
        return;
      }
      bytes += sizes[i]!;
      hooks.onProgress?.({
        phase: "commit",
        filesDone: 0,
        filesTotal: 0,
        bytesDone: bytes,
        bytesTotal: total,
      });
    }
  };
  // every upload has ended before the first failure is thrown (and the local store removed)
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  if (failed !== undefined) throw failed.err;
  return { objects: keys.length, bytes };
}
