/**
 * fsck: verifies a store and optionally repairs it. The check reads every super-chunk
 * (checksums, every sub-block's SHA-256), checks that every referenced sub-block exists,
 * recomputes refcounts and live bytes and compares, checks the tree's invariants, lists
 * orphan files, and maps each damaged sub-block to the files and byte ranges it affects. It
 * collects every problem instead of stopping at the first.
 *
 * Repairs need the writer lock (E_STORE_LOCKED while a read-write mount holds it):
 * `rebuildIndex` re-derives the index and refcounts, `fix` corrects refcounts and removes
 * orphans, `repairFrom` restores damaged sub-blocks from another copy of the files. After
 * any repair the store is verified again (`report.after`). Archives and S3 stores are
 * checked read-only through openStoreSource; repairs of S3 stores run on a working copy
 * (s3-maintain.ts), repairs of archives are refused (E_UNSUPPORTED).
 */
import * as fs from "node:fs";
import type { BlobStore } from "../blobstore/blob-store.js";
import { superChunkKey } from "../blobstore/blob-store.js";
import { isS3Location } from "../blobstore/s3-location.js";
import { CodecPool } from "../codec/codec-pool.js";
import { UnsupportedError, UsageError } from "../errors.js";
import type { S3MaintainOptions } from "../s3store/s3-maintain.js";
import { openStoreSource, resolveStoreLocation, storeKindOf } from "../store/store-layout.js";
import type { SuperChunkId } from "../types.js";
import { type CheckResult, checkStore, chunkBounds } from "./fsck-check.js";
import { rebuildIndex } from "./fsck-rebuild.js";
import { repairFromCopy } from "./fsck-repair.js";
import type { FsckProgress, FsckReport } from "./fsck-report.js";
import { type MaintainedStore, openForMaintenance } from "./repack-open.js";

export { type FsckReport, fsckClean } from "./fsck-report.js";

/** Options of fsck. Without any repair option nothing is written and no lock is taken. */
export interface FsckOptions {
  /** restore damaged sub-blocks from the files below this directory */
  repairFrom?: string;
  /** rebuild the sub-block index and refcounts from the super-chunk headers and the tree */
  rebuildIndex?: boolean;
  /** fix refcounts and remove orphan super-chunk files */
  fix?: boolean;
  /** codec threads; default 2 */
  threads?: number;
  onProgress?: (p: FsckProgress) => void;
  /** for s3:// locations: endpoint, region, credentials, timeouts */
  s3?: S3MaintainOptions;
  /** where the super-chunks live when not in the directory (an S3 store's working copy) */
  blobs?: BlobStore;
}

/**
 * Checks (and with repair options repairs) the store at `dir`: a store directory, or
 * (checks only) an archive path or URL or `s3://bucket/prefix`, opened read-only.
 * E_UNSUPPORTED when a repair is asked of a store that is not a directory.
 * @example
 * const r = await fsckStore("/srv/store");
 * if (!fsckClean(r)) for (const p of r.problems) console.log(p.message);
 */
export async function fsckStore(dir: string, opts: FsckOptions = {}): Promise<FsckReport> {
  const repairs = opts.fix === true || opts.rebuildIndex === true || opts.repairFrom !== undefined;
  const location = resolveStoreLocation(dir);
  if (repairs && isS3Location(location)) {
    const { fsckRepairS3 } = await import("../s3store/s3-maintain.js");
    return fsckRepairS3(location, opts);
  }
  if (repairs) refuseRemoteRepair(location);
  if (opts.repairFrom !== undefined) checkCopyDir(opts.repairFrom);
  const pool = new CodecPool({ threads: opts.threads ?? 2 });
  try {
    if (!repairs) return await checkOnly(location, pool, opts);
    const ms = openForMaintenance(dir, "fsck", false, opts.blobs);
    try {
      return await checkAndRepair(ms, pool, opts);
    } finally {
      ms.close();
    }
  } finally {
    await pool.close();
  }
}

/** The read-only check of a store of any kind. */
async function checkOnly(
  location: string,
  pool: CodecPool,
  opts: FsckOptions,
): Promise<FsckReport> {
  const src = await openStoreSource(location, {
    readonly: true,
    ...(opts.s3 === undefined ? {} : { s3: opts.s3 }),
  });
  try {
    return (await checkStore(src.meta, src.blobs, pool, opts.onProgress)).report;
  } finally {
    src.meta.close();
    await src.blobs.close();
  }
}

/** Repairs rewrite a store directory or an S3 store; archives can only be checked. */
function refuseRemoteRepair(location: string): void {
  const kind = storeKindOf(location);
  if (kind === "dir") return;
  throw new UnsupportedError(
    "E_UNSUPPORTED",
    `${location}: an archive can only be checked, not repaired (--fix, --rebuild-index and --repair-from need a store directory or an S3 store)`,
    { path: location, kind },
  );
}

async function checkAndRepair(
  ms: MaintainedStore,
  pool: CodecPool,
  opts: FsckOptions,
): Promise<FsckReport> {
  const started = process.hrtime.bigint();
  let check: CheckResult = await checkStore(ms.meta, ms.blobs, pool, opts.onProgress);
  const report = check.report;
  if (opts.rebuildIndex) {
    const r = await rebuildIndex(ms, check.snap);
    report.repairs.rowsRelocated = r.rowsRelocated;
    report.repairs.refcountRowsFixed += r.refcountRowsFixed;
    check = await checkStore(ms.meta, ms.blobs, pool, opts.onProgress);
  }
  if (opts.fix) {
    const r = ms.rewrite.recomputeRefcounts();
    report.repairs.refcountRowsFixed += r.contents + r.subBlocks + r.superChunks;
    report.repairs.refcountRowsFixed += fixRows(ms, check);
  }
  if (opts.repairFrom !== undefined && check.damaged.size > 0) {
    const bounds = chunkBounds(ms.meta);
    const r = await repairFromCopy(ms, check, opts.repairFrom, pool, bounds, opts.onProgress);
    report.repairs.subBlocksRestored = r.restored;
    report.repairs.superChunksRewritten = r.rewritten;
  }
  if (opts.fix || opts.repairFrom !== undefined) {
    report.repairs.orphansRemoved = await removeOrphans(ms);
  }
  opts.onProgress?.({
    phase: "reverify",
    filesDone: 0,
    filesTotal: 0,
    bytesDone: 0,
    bytesTotal: 0,
  });
  report.after = (await checkStore(ms.meta, ms.blobs, pool, opts.onProgress)).report;
  const still = new Set(report.after.problems.map((p) => p.message));
  for (const p of report.problems) p.fixed = !still.has(p.message);
  report.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return report;
}

/** The directory to repair from must exist: E_SOURCE_MISSING / E_SOURCE_NOT_DIR. */
function checkCopyDir(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    throw new UsageError("E_SOURCE_MISSING", `${dir}: not found`, { path: dir }, err);
  }
  if (!st.isDirectory()) {
    throw new UsageError("E_SOURCE_NOT_DIR", `${dir}: not a directory`, { path: dir });
  }
}

/** Corrects super-chunk rows (codec, sizes, count) from the headers of the files. */
function fixRows(ms: MaintainedStore, check: CheckResult): number {
  let n = 0;
  ms.rewrite.transaction(() => {
    for (const v of check.bad) {
      const h = v.header;
      if (h === undefined || !v.problems.some((p) => p.kind === "superchunk-row")) continue;
      const rec = {
        codec: h.codec,
        rawBytes: h.rawBytes,
        storedBytes: v.storedBytes,
        subBlocks: h.entries.length,
      };
      ms.rewrite.fixSuperChunk(v.id as SuperChunkId, rec);
      n++;
    }
  });
  return n;
}

/** Deletes every file below sc/ that no super-chunk row names (listed afresh). */
async function removeOrphans(ms: MaintainedStore): Promise<number> {
  const live = new Set(ms.meta.listSuperChunks().map((s) => superChunkKey(s.id)));
  const orphans: string[] = [];
  for await (const key of ms.blobs.list("sc/")) if (!live.has(key)) orphans.push(key);
  for (const key of orphans) await ms.blobs.delete(key);
  return orphans.length;
}
