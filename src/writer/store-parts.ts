/**
 * The pieces of an open writable store and how they are put together: the lock, the
 * metadata database (unpacked if the store was packed), the store's settings from the
 * `meta` table, the codec pool, the open super-chunks, the block source (working set)
 * and the content reader. Recovery runs before anything is served.
 */
import type { BlobStore } from "../blobstore/blob-store.js";
import type { ChunkerParams } from "../chunker/chunker-params.js";
import type { CodecName } from "../codec/codec.js";
import { CodecPool } from "../codec/codec-pool.js";
import { NotFoundError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import { looksLikeStore, openStore } from "../store/store-layout.js";
import { acquireStoreLock, type StoreLock } from "../store/store-lock.js";
import { readStoreSettings } from "../store/store-settings.js";
import { WORKINGSET_DEFAULT_BYTES } from "../workingset/working-set.js";
import { AsyncMutex } from "./async-mutex.js";
import { BlockSource } from "./block-source.js";
import { ContentReader } from "./content-reader.js";
import type { FreezeDeps } from "./freeze.js";
import { HandleTable } from "./open-files.js";
import { OpenSuperChunks } from "./open-superchunks.js";
import { type RecoveryReport, recoverStore } from "./recovery.js";
import type { WritableStore } from "./writable-store.js";

/** Options of WritableStore.open. */
export interface WritableStoreOptions {
  /** bytes of inflated super-chunks kept in the working set; default 512 MiB */
  cacheBytes?: number;
  /** codec threads (compress on freeze, inflate on read); default 2 */
  threads?: number;
  /**
   * milliseconds the current open super-chunk waits, once no open file has unflushed
   * writes, before it is frozen; default 2000. Commits that come within the grace period
   * keep filling it (so `cp -a` of many small files makes few super-chunks).
   */
  freezeIdleMs?: number;
  /**
   * compression level of freezes; default freezeLevelFor(the store's codec and level): a
   * fast level, so freezes keep up with writes (zstd 19 codes new text at ~2.5 MB/s a
   * thread, zstd 9 at ~35 MB/s for 17 % more bytes); `repack --all` recompresses at the
   * store's own level
   */
  freezeLevel?: number;
  /** what the store lock says the holder is doing; default "read-write" */
  purpose?: string;
  /**
   * where frozen super-chunks live; default the store directory's sc/ (an S3 store's
   * working copy passes its bucket, with deletes deferred until a generation is committed)
   */
  blobs?: BlobStore;
  /**
   * called by close() once every file is committed and every super-chunk frozen, before
   * the database closes (a working copy publishes its last generation there)
   */
  onClosing?: (store: WritableStore) => Promise<void>;
  /** errors of background freezes (they are retried by the next freeze or open) */
  onBackgroundError?: (err: unknown) => void;
}

/** Everything an open writable store is made of. */
export interface StoreParts extends FreezeDeps {
  readonly dir: string;
  readonly lock: StoreLock;
  readonly params: ChunkerParams;
  readonly reader: ContentReader;
  readonly handles: HandleTable;
  readonly mutex: AsyncMutex;
  readonly recovery: RecoveryReport;
}

/** Opens, locks and recovers a store for writing. */
export async function openParts(dir: string, opts: WritableStoreOptions): Promise<StoreParts> {
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
    const { codec, level, superChunkBytes, chunk: params } = readStoreSettings(meta);
    open = new OpenSuperChunks(dir, meta, superChunkBytes);
    const blobs = opts.blobs ?? store.blobs;
    const blocks = new BlockSource(
      blobs,
      pool,
      open,
      opts.cacheBytes ?? WORKINGSET_DEFAULT_BYTES,
      meta,
    );
    const freezeLevel = opts.freezeLevel ?? freezeLevelFor(codec, level);
    const base = { meta, open, blobs, blocks, pool, codec, level: freezeLevel };
    const recovery = await recoverStore(dir, base);
    const reader = new ContentReader(meta, blocks);
    const mutex = new AsyncMutex();
    return { ...base, dir, lock, params, reader, handles: new HandleTable(), mutex, recovery };
  } catch (err) {
    open?.close();
    await pool?.close();
    meta?.close();
    lock.release();
    throw err;
  }
}

/** Highest level a freeze uses by default, per codec (others: the store's level). */
const FREEZE_LEVEL_CAP: Partial<Record<CodecName, number>> = { zstd: 9, xz: 1 };

/** The default level of freezes: the store's level, capped for slow codecs. */
export function freezeLevelFor(codec: CodecName, level: number): number {
  const cap = FREEZE_LEVEL_CAP[codec];
  return cap === undefined ? level : Math.min(level, cap);
}
