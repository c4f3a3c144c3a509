/**
 * What an open writable store is made of (StoreParts) and the options that choose those
 * parts: the shapes the writer's pieces share, with no code, so that the assembly
 * (store-parts.ts) and the users of the parts (file-data, freeze-scheduler, the
 * WritableStore itself) never import each other in a circle.
 */
import type { BlobStore } from "../blobstore/blob-store.js";
import type { ChunkerParams } from "../chunker/chunker-params.js";
import type { ContentReader } from "../reader/content-reader.js";
import type { StoreLock } from "../store/store-lock.js";
import type { AsyncMutex } from "./async-mutex.js";
import type { CommitPool } from "./commit-pool.js";
import type { FreezeDeps } from "./freeze.js";
import type { HandleTable } from "./open-files.js";
import type { RecoveryReport } from "./recovery.js";
import type { StagedReader } from "./staged-reader.js";

/** Options of the parts of a writable store (WritableStoreOptions adds the rest). */
export interface StorePartsOptions {
  /** bytes of inflated super-chunks kept in the working set; default 512 MiB */
  cacheBytes?: number;
  /** codec threads (compress on freeze, inflate on read); default 2 */
  threads?: number;
  /**
   * compression level of freezes; default freezeLevelFor(the store's codec and level): a
   * fast level, so freezes keep up with writes (zstd 19 codes new text at ~2.5 MB/s a
   * thread, zstd 9 at ~35 MB/s for 17 % more bytes); `repack --all` recompresses at the
   * store's own level
   */
  freezeLevel?: number;
  /**
   * what is frozen is recompressed later (a compactor regroups it at the store's level): the
   * default freeze level is then the codec's fastest (zstd 1), which keeps freezes off the
   * writers' way
   */
  recompressed?: boolean;
  /** what the store lock says the holder is doing; default "read-write" */
  purpose?: string;
  /**
   * where frozen super-chunks live; default the store directory's sc/ (an S3 store's
   * working copy passes its bucket, with deletes deferred until a generation is committed)
   */
  blobs?: BlobStore;
}

/** Everything an open writable store is made of. */
export interface StoreParts extends FreezeDeps {
  readonly dir: string;
  readonly lock: StoreLock;
  readonly params: ChunkerParams;
  /** committed bytes, through the reader's read path (working set, readahead) */
  readonly content: ContentReader;
  /** files as their handles see them: staged writes over `content` */
  readonly reader: StagedReader;
  readonly handles: HandleTable;
  readonly mutex: AsyncMutex;
  /** cuts and hashes commits' large windows off the serving thread */
  readonly commitPool: CommitPool;
  readonly recovery: RecoveryReport;
}
