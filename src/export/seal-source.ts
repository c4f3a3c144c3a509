/**
 * What seal reads from a store that is not a local directory: an S3 store's committed
 * generation (`s3://bucket/prefix`) or an archive (path or http(s) URL). The super-chunks
 * are fetched through the store's BlobStore, a few at a time, into a staging directory
 * beside the output (the zip writer takes files), each checked against the length the
 * database records. The database entry is the packed database exactly as the store keeps
 * it (the generation object the pointer names, the archive's entry), not re-encoded.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { superChunkKey } from "../blobstore/blob-store.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { CorruptError, FormatError, wrapFsError } from "../errors.js";
import type { SuperChunkRecord } from "../meta/records.js";
import {
  ARCHIVE_DB_KEY,
  openStoreSource,
  STATE_COMPLETE,
  STATE_KEY,
  type StoreKind,
  type StoreSource,
} from "../store/store-layout.js";
import type { ZipInput } from "../zip/zip-writer.js";

/** Super-chunks fetched at once by default. */
export const SEAL_FETCH_CONCURRENCY = 4;

/** A store opened for sealing, with its packed database as the store keeps it. */
export interface SealSource {
  readonly src: StoreSource;
  /** the bytes of the archive's superchunk.db.zst entry */
  readonly packedDatabase: Buffer;
}

/**
 * Opens the store at `location` (kind "s3", "archive" or "url") read-only, with its packed
 * database. An S3 store is read at the generation its pointer names when it opens; later
 * commits are not seen. E_NOT_A_STORE, E_STORE_INCOMPLETE, E_CORRUPT as openStoreSource.
 */
export async function openSealSource(
  location: string,
  kind: Exclude<StoreKind, "dir">,
  s3?: S3Options,
): Promise<SealSource> {
  if (kind === "s3") return openS3SealSource(location, s3);
  const src = await openStoreSource(location, { readonly: true });
  try {
    return { src, packedDatabase: await src.blobs.get(ARCHIVE_DB_KEY) };
  } catch (err) {
    await closeSource(src);
    throw err;
  }
}

async function openS3SealSource(location: string, s3?: S3Options): Promise<SealSource> {
  // loaded on demand, as openStoreSource does: only S3 stores need the AWS SDK
  const { openS3Store } = await import("../s3store/s3-store.js");
  const { blobs, meta, pointer } = await openS3Store(location, s3);
  const src: StoreSource = { location: blobs.location, kind: "s3", meta, blobs };
  try {
    const state = meta.getMeta(STATE_KEY);
    if (state !== STATE_COMPLETE) {
      throw new FormatError("E_STORE_INCOMPLETE", `${src.location}: store is incomplete`, {
        path: src.location,
        state,
      });
    }
    // generation objects are immutable: these are the bytes the database was loaded from
    return { src, packedDatabase: await blobs.get(pointer.database) };
  } catch (err) {
    await closeSource(src);
    throw err;
  }
}

/** Closes the database and the blob store of `src`. */
export async function closeSource(src: StoreSource): Promise<void> {
  src.meta.close();
  await src.blobs.close();
}

/** The staged super-chunks: zip inputs in id order and their total length. */
export interface StagedSuperChunks {
  readonly inputs: ZipInput[];
  readonly superChunkBytes: number;
}

/**
 * Fetches every super-chunk the database of `src` lists into `stageDir` (which must
 * exist), `concurrency` at a time. E_SUPERCHUNK_MISSING for one the store lacks,
 * E_SUPERCHUNK_CORRUPT for one whose length differs from the database's.
 */
export async function stageSuperChunks(
  src: StoreSource,
  stageDir: string,
  concurrency = SEAL_FETCH_CONCURRENCY,
): Promise<StagedSuperChunks> {
  const scs = src.meta.listSuperChunks().sort((a, b) => a.id - b.id);
  const inputs = scs.map((sc) => ({
    key: superChunkKey(sc.id),
    file: path.join(stageDir, `${sc.id}.sc`),
  }));
  let next = 0;
  let failed = false;
  const worker = async () => {
    for (let i = next++; i < scs.length && !failed; i = next++) {
      await stageOne(src, scs[i]!, inputs[i]!).catch((err: unknown) => {
        failed = true;
        throw err;
      });
    }
  };
  // every worker has stopped before this returns or throws, so the caller may remove stageDir
  const settled = await Promise.allSettled(
    Array.from({ length: Math.max(1, concurrency) }, worker),
  );
  const failure = settled.find((s) => s.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  return { inputs, superChunkBytes: scs.reduce((n, sc) => n + sc.storedBytes, 0) };
}

async function stageOne(
  src: StoreSource,
  sc: SuperChunkRecord,
  input: { key: string; file: string },
): Promise<void> {
  const data = await src.blobs.get(input.key);
  if (data.length !== sc.storedBytes) {
    const where = `${src.location}/${input.key}`;
    throw new CorruptError(
      "E_SUPERCHUNK_CORRUPT",
      `${where}: ${data.length} bytes, the database says ${sc.storedBytes}`,
      { superChunkId: sc.id, path: where, want: sc.storedBytes, got: data.length },
    );
  }
  try {
    await fs.promises.writeFile(input.file, data, { flag: "wx" });
  } catch (err) {
    throw wrapFsError(err, input.file, "stage super-chunk");
  }
}
