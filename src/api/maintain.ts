/**
 * `fsck(store, options)` and `repack(store, options)`: verify (and repair) a store, and
 * rewrite its super-chunks, through maintain/, the same calls `superchunk fsck` and
 * `superchunk repack` make.
 */
import type { CodecName } from "../codec/codec.js";
import type { S3MaintainOptions } from "../location/maintain-at.js";
import { resolveStoreLocation } from "../location/store-kind.js";
import { fsckClean, fsckStore } from "../maintain/fsck.js";
import type { FsckProgress, FsckReport } from "../maintain/fsck-report.js";
import {
  type RepackOptions as EngineRepack,
  type RepackSummary,
  repackStore,
} from "../maintain/repack.js";
import { needString, optionalFunction, optionalSignal, optionsObject } from "./args.js";

export type { FsckProblem, FsckProgress, FsckReport } from "../maintain/fsck-report.js";
export type { RepackSummary } from "../maintain/repack.js";

/** Options of {@link fsck}. Without a repair option nothing is written and no lock is taken. */
export interface FsckOptions {
  /** fix refcounts and remove orphan super-chunk files */
  fix?: boolean;
  /** rebuild the sub-block index and refcounts from the super-chunk headers and the tree */
  rebuildIndex?: boolean;
  /** restore damaged sub-blocks from another copy of the files below this directory */
  repairFrom?: string;
  /** codec threads; default 2 */
  threads?: number;
  onProgress?: (p: FsckProgress) => void;
  /** stops a check between super-chunks (E_ABORTED); repairs only before they start */
  signal?: AbortSignal;
  /** `s3://` stores: endpoint, region, credentials */
  s3?: S3MaintainOptions;
}

/** An fsck report with its verdict. */
export type FsckResult = FsckReport & {
  /** true when no errors remain (after any repairs); warnings may remain */
  readonly clean: boolean;
};

/**
 * Verifies the store at `store`: every super-chunk's checksums, every sub-block's SHA-256,
 * every file's bytes, counts, the tree's invariants, orphans. Problems are findings in the
 * result (each with its code, and the files and byte ranges it affects), not errors; it
 * rejects only when it cannot run: E_NOT_A_STORE, E_STORE_LOCKED (repairs while a writer
 * holds the store), E_UNSUPPORTED (repairs of an archive), E_CORRUPT (a damaged database),
 * E_ABORTED.
 *
 * @example
 * const r = await fsck("photos.sc");
 * if (!r.clean) for (const p of r.problems) console.error(p.code, p.message);
 */
export async function fsck(store: string, options?: FsckOptions): Promise<FsckResult> {
  const o = optionsObject(options);
  const location = resolveStoreLocation(needString(store, "store"));
  const onProgress = optionalFunction(o.onProgress, "onProgress");
  const report = await fsckStore(location, {
    fix: o.fix === true,
    rebuildIndex: o.rebuildIndex === true,
    ...(o.repairFrom === undefined ? {} : { repairFrom: needString(o.repairFrom, "repairFrom") }),
    ...(o.threads === undefined ? {} : { threads: o.threads }),
    ...(onProgress === undefined ? {} : { onProgress }),
    ...(o.s3 === undefined ? {} : { s3: o.s3 }),
    signal: optionalSignal(o.signal),
  });
  return { ...report, clean: fsckClean(report) };
}

/** Options of {@link repack}; unset codec settings are the store's. */
export interface RepackOptions {
  /** dead share (0..1) above which a super-chunk is rewritten; default 0.1 */
  minDead?: number;
  /** regroup and recompress every super-chunk */
  all?: boolean;
  codec?: CodecName;
  level?: number;
  /** raw bytes per new super-chunk */
  superChunkSize?: number;
  order?: "similarity" | "path";
  /** compression threads; default 2 */
  threads?: number;
  /** only say what would be rewritten; writes nothing, takes no lock */
  dryRun?: boolean;
  onProgress?: EngineRepack["onProgress"];
  /** stops the repack before its switch (E_ABORTED): new files removed, the store unchanged */
  signal?: AbortSignal;
  /** `s3://` stores: endpoint, region, credentials, work directory */
  s3?: S3MaintainOptions;
}

/**
 * Rewrites the super-chunks of the store at `store` (a directory or `s3://`): those with
 * more dead bytes than `minDead` lose them, small ones merge; with `all` everything is
 * regrouped and recompressed. Crash-safe: one metadata transaction switches to the new
 * files. Rejects with E_STORE_LOCKED (a read-write mount holds it), E_UNSUPPORTED (an
 * archive), E_NOT_A_STORE, E_ABORTED.
 *
 * @example
 * const r = await repack("photos.sc", { all: true, codec: "xz", level: 9 });
 * console.log(`reclaimed ${r.reclaimedBytes} bytes`);
 */
export async function repack(store: string, options?: RepackOptions): Promise<RepackSummary> {
  const o = optionsObject(options);
  const location = resolveStoreLocation(needString(store, "store"));
  const onProgress = optionalFunction(o.onProgress, "onProgress");
  const e: EngineRepack = {
    all: o.all === true,
    dryRun: o.dryRun === true,
    ...(onProgress === undefined ? {} : { onProgress }),
    signal: optionalSignal(o.signal),
  };
  if (o.minDead !== undefined) e.minDead = o.minDead;
  if (o.codec !== undefined) e.codec = o.codec;
  if (o.level !== undefined) e.level = o.level;
  if (o.superChunkSize !== undefined) e.superChunkBytes = o.superChunkSize;
  if (o.order !== undefined) e.order = o.order;
  if (o.threads !== undefined) e.threads = o.threads;
  if (o.s3 !== undefined) e.s3 = o.s3;
  return repackStore(location, e);
}
