/**
 * Creating an S3 store from a local one (`superchunk pack <src> s3://bucket/prefix`): under
 * the writer's lease, the caller builds a complete store in a local temporary directory;
 * its super-chunks are uploaded, then its packed database as generation 1, then the
 * pointer is switched, so a crash at any point leaves either no store or a complete one
 * (plus unreferenced objects, never a half-committed state). Nothing is deleted from the
 * bucket.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DirBlobStore } from "../blobstore/dir-blob-store.js";
import type { S3BlobStore } from "../blobstore/s3-blob-store.js";
import { PACKED_DB_SUFFIX } from "../store/packed-db.js";
import { DB_FILE } from "../store/store-layout.js";
import { commitGeneration } from "./s3-commit.js";
import { type NewS3StoreOptions, withNewS3Store } from "./s3-init.js";
import type { S3Lease } from "./s3-lease.js";

/** Options of buildS3Store besides the S3 settings of a new store. */
export interface S3UploadOptions extends NewS3StoreOptions {
  /** uploads in flight at once; default 8 */
  uploadConcurrency?: number;
}

/** What an upload did. */
export interface S3UploadFigures {
  location: string;
  endpoint: string;
  generation: number;
  /** objects uploaded: super-chunks, the generation, the pointer */
  uploadedObjects: number;
  /** bytes uploaded (object payloads) */
  uploadedBytes: number;
  /** wall time of the upload and commit, seconds */
  uploadSeconds: number;
}

/** Progress of an upload: bytes of super-chunks uploaded of the total. */
export type S3UploadProgress = (p: {
  phase: "commit";
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}) => void;

const DEFAULT_UPLOAD_CONCURRENCY = 8;

/**
 * Creates a store at `location` (`s3://bucket/prefix`; the bucket is created when missing)
 * from the complete store `fill` builds in the local directory it is given (which does not
 * exist yet), and answers what `fill` answered with the upload's figures. E_DEST_EXISTS
 * when a store is committed there already, E_STORE_LOCKED when another writer holds the
 * lease.
 *
 * @example
 * await buildS3Store("s3://archives/linux", "pack linux", {}, (dir) => packTree("linux", dir));
 */
export async function buildS3Store<T>(
  location: string,
  purpose: string,
  s3: S3UploadOptions,
  fill: (dir: string) => Promise<T>,
  onProgress?: S3UploadProgress,
): Promise<{ result: T; upload: S3UploadFigures }> {
  return withNewS3Store(location, purpose, s3, async (blobs, lease) => {
    const tmp = fs.mkdtempSync(path.join(s3.tmpDir ?? os.tmpdir(), "superchunk-s3-pack-"));
    try {
      const store = path.join(tmp, "store");
      const result = await fill(store);
      const started = process.hrtime.bigint();
      const up = await uploadSuperChunks(store, blobs, lease, s3.uploadConcurrency, onProgress);
      const packedDb = fs.readFileSync(path.join(store, `${DB_FILE}${PACKED_DB_SUFFIX}`));
      const commit = await commitGeneration(blobs, packedDb, undefined, lease);
      const upload = {
        location: blobs.location,
        endpoint: blobs.settings.endpointName,
        generation: commit.generation,
        uploadedObjects: up.objects + 2,
        uploadedBytes: up.bytes + packedDb.length + commit.pointerBytes,
        uploadSeconds: Number(process.hrtime.bigint() - started) / 1e9,
      };
      return { result, upload };
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
  onProgress?: S3UploadProgress,
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
      onProgress?.({
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
