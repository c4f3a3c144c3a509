/**
 * writer/: the write path of a read-write store, independent of FUSE.
 *
 * Terms:
 * - *staging*: the unflushed writes of one open file (a sparse temporary file plus the
 *   set of written ranges), never durable;
 * - *commit*: the changed part of a file (from the first changed sub-block boundary;
 *   holes cost nothing: commit-region.ts) cut with the store's FastCDC and hashed (large
 *   runs on the commit worker: commit-pool.ts), deduplicated against the whole store, new
 *   sub-blocks appended to an *open super-chunk*, then one metadata transaction; runs on
 *   fsync and at the last close of a file; visible at once, durable at the next
 *   *group sync* (group-sync.ts: raw files, then the WAL; every 500 ms, and on fsync);
 * - *open super-chunk*: a raw append file `open/<id>.raw` whose committed length is in its
 *   `superchunks` row (codec "open"); *frozen* (compressed into a normal sc/ file) when
 *   full, after an idle grace with no unflushed writes, and when the store closes;
 * - *recovery*: what an open does after a crash (recovery.ts);
 * - *compaction*: frozen super-chunks regrouped by similarity and recompressed at the
 *   store's level when the store is idle and at close, by a compactor given to open
 *   (compact-scheduler.ts).
 * Crash order everywhere: data fsynced before the metadata naming it is made durable;
 * files deleted only once the metadata dropping them is durable. On-disk description:
 * spec/FORMAT.md, "Read-write stores".
 */

export { XATTR_CREATE, XATTR_REPLACE } from "./attr-ops.js";
export { type CallerContext, ROOT_CALLER, type TimeSpec } from "./caller.js";
export {
  COMPACT_IDLE_MS,
  type CompactAccess,
  type CompactOutcome,
  type Compactor,
} from "./compact-scheduler.js";
export { MAX_FILE_BYTES } from "./file-data.js";
export type { RecoveryReport } from "./recovery.js";
export { RENAME_EXCHANGE, RENAME_NOREPLACE } from "./rename-op.js";
export type { StoreStatfs } from "./store-info.js";
export { WritableStore, type WritableStoreOptions } from "./writable-store.js";
export type { ClosingStore } from "./writable-store-options.js";
