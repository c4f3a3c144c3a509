/**
 * Committing a generation of an S3 store: upload the packed database as a new,
 * never-used generation number (If-None-Match: *), then switch the pointer to it
 * with a conditional PUT (If-Match on the ETag the writer started from, or
 * If-None-Match: * for the first generation). Super-chunks must be uploaded before;
 * nothing is deleted here. A crash before the switch leaves an uncommitted
 * generation object that no reader opens.
 */
import type { S3BlobStore } from "../blobstore/s3-blob-store.js";
import { UsageError } from "../errors.js";
import type { S3Lease } from "./s3-lease.js";
import {
  generationKey,
  highestGeneration,
  POINTER_KEY,
  pointerBody,
  type S3Pointer,
} from "./s3-store.js";

/** What a commit made current. */
export interface S3Commit {
  readonly generation: number;
  /** the new pointer object's ETag */
  readonly etag: string;
  /** bytes of the generation object */
  readonly databaseBytes: number;
  /** bytes of the pointer object */
  readonly pointerBytes: number;
}

/**
 * Uploads `packedDb` (a packed database, see packed-db.ts) as the next generation after
 * `base` (the pointer the writer read when it started; undefined for a new store) and
 * switches the pointer to it. E_STORE_LOCKED when the lease was lost, or when the pointer
 * no longer matches `base` (another writer committed meanwhile): nothing is then switched.
 */
export async function commitGeneration(
  blobs: S3BlobStore,
  packedDb: Uint8Array,
  base: S3Pointer | undefined,
  lease: S3Lease,
): Promise<S3Commit> {
  lease.check();
  const generation = Math.max(base?.generation ?? 0, await highestGeneration(blobs)) + 1;
  const key = generationKey(generation);
  if ((await blobs.putIf(key, packedDb, { ifNoneMatch: "*" })) === undefined) {
    throw conflict(blobs, `generation ${generation} was written by someone else`);
  }
  lease.check();
  const cond = base === undefined ? ({ ifNoneMatch: "*" } as const) : { ifMatch: base.etag };
  const pointer = pointerBody(generation);
  const etag = await blobs.putIf(POINTER_KEY, pointer, cond);
  if (etag === undefined) {
    throw conflict(blobs, `${POINTER_KEY} changed since generation ${base?.generation ?? 0}`);
  }
  return { generation, etag, databaseBytes: packedDb.length, pointerBytes: pointer.length };
}

function conflict(blobs: S3BlobStore, why: string): UsageError {
  return new UsageError(
    "E_STORE_LOCKED",
    `${blobs.location}: another writer committed meanwhile (${why}); nothing was switched`,
    { path: blobs.location },
  );
}
