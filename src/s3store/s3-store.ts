/**
 * A store in an S3 bucket (spec/FORMAT.md, "Object store layout"): one object per
 * super-chunk under the same keys as in a store directory, the database as
 * immutable numbered generations `meta/<16 hex>.db.zst` (packed, see packed-db.ts),
 * and the pointer `meta/current` naming the committed one. A writer uploads its
 * super-chunks, then a new generation, then switches the pointer with a conditional
 * PUT; a reader opens whatever generation the pointer names, which is always complete.
 */

import { S3BlobStore } from "../blobstore/s3-blob-store.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { CorruptError, isCode, NotFoundError, UsageError } from "../errors.js";
import { MetaDb } from "../meta/meta-db.js";
import { decodePackedDatabase, PACKED_DB_SUFFIX } from "../store/packed-db.js";

/** The pointer object naming the committed generation. */
export const POINTER_KEY = "meta/current";
const POINTER_FORMAT = 1;
const GENERATION_RE = /^meta\/([0-9a-f]{16})\.db\.zst$/;

/** The committed generation, as the pointer names it. */
export interface S3Pointer {
  readonly generation: number;
  /** key of the generation's packed database */
  readonly database: string;
  /** ISO time of the commit */
  readonly committed: string;
  /** the pointer object's ETag (what a conditional switch must match) */
  readonly etag: string;
}

/** The key of generation `gen`'s packed database: meta/<gen as 16 hex digits>.db.zst */
export function generationKey(gen: number): string {
  return `meta/${gen.toString(16).padStart(16, "0")}.db${PACKED_DB_SUFFIX}`;
}

/** The pointer's JSON body for `gen`. */
export function pointerBody(gen: number, committed = new Date()): Buffer {
  const body = {
    format: POINTER_FORMAT,
    generation: gen,
    database: generationKey(gen),
    committed: committed.toISOString(),
  };
  return Buffer.from(`${JSON.stringify(body)}\n`);
}

/** The committed generation, or undefined when the store has no pointer (none committed yet). */
export async function readPointer(blobs: S3BlobStore): Promise<S3Pointer | undefined> {
  const obj = await blobs.getTagged(POINTER_KEY);
  if (obj === undefined) return undefined;
  const where = { path: `${blobs.location}/${POINTER_KEY}` };
  let v: { format?: unknown; generation?: unknown; database?: unknown; committed?: unknown };
  try {
    v = JSON.parse(obj.data.toString("utf8"));
  } catch (err) {
    throw new CorruptError("E_CORRUPT", `${where.path}: pointer is not JSON`, where, err);
  }
  if (typeof v.format === "number" && v.format > POINTER_FORMAT) {
    throw new UsageError("E_USAGE", `${where.path}: pointer format ${v.format} is newer`, where);
  }
  const gen = v.generation;
  if (typeof gen !== "number" || !Number.isSafeInteger(gen) || gen < 1) {
    throw new CorruptError("E_CORRUPT", `${where.path}: pointer names no generation`, where);
  }
  if (v.database !== generationKey(gen)) {
    throw new CorruptError("E_CORRUPT", `${where.path}: pointer's database key is wrong`, where);
  }
  return {
    generation: gen,
    database: generationKey(gen),
    committed: typeof v.committed === "string" ? v.committed : "",
    etag: obj.etag,
  };
}

/** The highest generation number with an object under meta/ (committed or not), or 0. */
export async function highestGeneration(blobs: S3BlobStore): Promise<number> {
  let max = 0;
  for await (const key of blobs.list("meta/")) {
    const m = GENERATION_RE.exec(key);
    if (m?.[1] !== undefined) max = Math.max(max, Number.parseInt(m[1], 16));
  }
  return max;
}

/** An S3 store opened read-only at its committed generation. */
export interface OpenS3Store {
  readonly blobs: S3BlobStore;
  readonly meta: MetaDb;
  readonly pointer: S3Pointer;
}

/**
 * Opens the generation the pointer of `location` names, its database inflated into
 * memory. E_NOT_A_STORE when there is no pointer (or no bucket), E_CORRUPT when the
 * pointer names a generation that is missing or damaged; E_IO / E_TIMEOUT name the
 * endpoint when it cannot be reached.
 */
export async function openS3Store(location: string, opts: S3Options = {}): Promise<OpenS3Store> {
  const blobs = S3BlobStore.open(location, opts);
  try {
    const pointer = await readPointer(blobs);
    if (pointer === undefined) {
      throw new NotFoundError(
        "E_NOT_A_STORE",
        `${blobs.location}: no superchunk store there (no ${POINTER_KEY} at ${blobs.settings.endpointName})`,
        { path: blobs.location, endpoint: blobs.settings.endpointName },
      );
    }
    const meta = await loadGeneration(blobs, pointer);
    return { blobs, meta, pointer };
  } catch (err) {
    await blobs.close();
    throw err;
  }
}

/**
 * The database of the generation `pointer` names, inflated into memory; E_CORRUPT when that
 * generation is missing or damaged.
 */
export async function loadGeneration(blobs: S3BlobStore, pointer: S3Pointer): Promise<MetaDb> {
  const label = `${blobs.location}/${pointer.database}`;
  let packed: Buffer;
  try {
    packed = await blobs.get(pointer.database);
  } catch (err) {
    if (!isCode(err, "E_SUPERCHUNK_MISSING")) throw err;
    throw new CorruptError(
      "E_CORRUPT",
      `${label}: the pointer names generation ${pointer.generation}, which is missing`,
      { path: label, generation: pointer.generation },
      err,
    );
  }
  return MetaDb.fromBuffer(decodePackedDatabase(packed, label), label);
}
