/**
 * How the pieces of an open writable store (store-parts-types.ts) are put together: the
 * lock, the metadata database (unpacked if the store was packed), the store's settings
 * from the `meta` table, the codec pool, the open super-chunks, the reader's read path
 * over them (ContentReader) with the staged overlay, and the dedup check. Recovery runs
 * before anything is served.
 */
import type { BlobStore } from "../blobstore/blob-store.js";
import type { CodecName } from "../codec/codec.js";
import { CodecPool } from "../codec/codec-pool.js";
import { NotFoundError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import { ContentReader } from "../reader/content-reader.js";
import { looksLikeStore, openStore } from "../store/store-layout.js";
import { acquireStoreLock } from "../store/store-lock.js";
import { readStoreSettings } from "../store/store-settings.js";
import { WORKINGSET_DEFAULT_BYTES } from "../workingset/working-set.js";
import { AsyncMutex } from "./async-mutex.js";
import { CommitPool } from "./commit-pool.js";
import { DedupCheck } from "./dedup-check.js";
import { HandleTable } from "./open-files.js";
import { OpenSuperChunks } from "./open-superchunks.js";
import { recoverStore } from "./recovery.js";
import { StagedReader } from "./staged-reader.js";
import type { StoreParts, StorePartsOptions } from "./store-parts-types.js";

/** Opens, locks and recovers a store for writing. */
export async function openParts(dir: string, opts: StorePartsOptions): Promise<StoreParts> {
  if (!looksLikeStore(dir)) {
    throw new NotFoundError("E_NOT_A_STORE", `${dir}: not a superchunk store`, { path: dir });
  }
  const lock = acquireStoreLock(dir, opts.purpose ?? "read-write");
  let meta: MetaDb | undefined;
  let pool: CodecPool | undefined;
  let open: OpenSuperChunks | undefined;
  try {
    const store = openStore(dir, { readonly: false });
    meta = store.meta;
    pool = new CodecPool({ threads: opts.threads ?? 2 });
    // the first reads (and freezes) should not wait for inflate threads to boot
    pool.warm();
    const { codec, level, superChunkBytes, chunk: params } = readStoreSettings(meta);
    open = new OpenSuperChunks(dir, meta, superChunkBytes);
    const blobs = opts.blobs ?? store.blobs;
    const content = contentReaderOf(meta, blobs, pool, open, opts);
    const dedup = new DedupCheck(open, (id) => content.loadHeader(id));
    const freezeLevel = opts.freezeLevel ?? freezeLevelFor(codec, level, opts.recompressed);
    const base = { meta, open, blobs, dedup, pool, codec, level: freezeLevel };
    const recovery = await recoverStore(dir, base);
    const reader = new StagedReader(content);
    const mutex = new AsyncMutex();
    const handles = new HandleTable();
    const commitPool = new CommitPool();
    return { ...base, dir, lock, params, content, reader, handles, mutex, commitPool, recovery };
  } catch (err) {
    open?.close();
    await pool?.close();
    meta?.close();
    lock.release();
    throw err;
  }
}

/**
 * The read path over the writer's store: open super-chunks read raw from the writer's own
 * append files (they freeze while it runs), frozen ones inflated into the working set with
 * their stored CRC checked; never fetched ahead (the writer puts and deletes objects in
 * that store while it reads).
 */
function contentReaderOf(
  meta: MetaDb,
  blobs: BlobStore,
  pool: CodecPool,
  open: OpenSuperChunks,
  opts: StorePartsOptions,
): ContentReader {
  const cacheBytes = opts.cacheBytes ?? WORKINGSET_DEFAULT_BYTES;
  const tuning = { verifyRawCrc: false, readOpen: false, fetchAheadBytes: 0 };
  return new ContentReader(meta, blobs, pool, { cacheBytes, ...tuning, direct: open });
}

/** Highest level a freeze uses by default, per codec (others: the store's level). */
const FREEZE_LEVEL_CAP: Partial<Record<CodecName, number>> = { zstd: 9, xz: 1 };

/** Level of freezes whose output a compaction recompresses, per codec (others: as capped). */
const RECOMPRESSED_FREEZE_LEVEL: Partial<Record<CodecName, number>> = { zstd: 1, xz: 0 };

/**
 * The default level of freezes: the store's level, capped for slow codecs; the fastest one
 * when a compaction recompresses what is frozen.
 */
export function freezeLevelFor(codec: CodecName, level: number, recompressed = false): number {
  const fast = recompressed ? RECOMPRESSED_FREEZE_LEVEL[codec] : undefined;
  if (fast !== undefined) return Math.min(level, fast);
  const cap = FREEZE_LEVEL_CAP[codec];
  return cap === undefined ? level : Math.min(level, cap);
}
