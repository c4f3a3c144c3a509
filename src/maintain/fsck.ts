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
 * any repair the store is verified again (`report.after`). The store is opened by
 * location/: read-only for a check (any kind), for maintenance for repairs (a directory
 * in place, an S3 store on a working copy published afterwards; archives are refused with
 * E_UNSUPPORTED).
 */
import * as fs from "node:fs";
import { superChunkKey } from "../blobstore/blob-store.js";
import { CodecPool } from "../codec/codec-pool.js";
import { abortingProgress, cleanupAfter, throwIfAborted, UsageError } from "../errors.js";
import {
  type MaintainedStore,
  maintainStoreAt,
  type S3MaintainOptions,
} from "../location/maintain-at.js";
import { resolveStoreLocation } from "../location/store-kind.js";
import { openStoreSource } from "../location/store-source.js";
import { sqliteCode, wrapSqliteError } from "../meta/sqlite-error.js";
import { isMetaCopyKey } from "../store/meta-copy.js";
import type { SuperChunkId } from "../types.js";
import { type CheckResult, checkStore, chunkBounds } from "./fsck-check.js";
import { rebuildIndex } from "./fsck-rebuild.js";
import { repairFromCopy } from "./fsck-repair.js";
import type { FsckProgress, FsckReport } from "./fsck-report.js";

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
  /**
   * Stops a check between super-chunks (AbortError E_ABORTED); repairs are stopped only
   * before they start, never half-way.
   */
  signal?: AbortSignal | undefined;
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
  throwIfAborted(opts.signal, "fsck");
  if (!repairs) {
    const { signal, onProgress } = opts;
    const checking =
      signal === undefined
        ? opts
        : { ...opts, onProgress: abortingProgress(signal, "fsck", onProgress) };
    return checkOnly(resolveStoreLocation(dir), checking);
  }
  const maintenance = { purpose: "fsck", s3: opts.s3, archiveRefusal: REPAIR_REFUSAL };
  return maintainStoreAt(dir, maintenance, (ms) => repairOpened(ms, opts), repaired);
}

const REPAIR_REFUSAL =
  "an archive can only be checked, not repaired (--fix, --rebuild-index and --repair-from need a store directory or an S3 store)";

/** The read-only check of a store of any kind. */
async function checkOnly(location: string, opts: FsckOptions): Promise<FsckReport> {
  const src = await openStoreSource(location, { readonly: true, s3: opts.s3 });
  const pool = new CodecPool({ threads: opts.threads ?? 2 });
  const check = async () => {
    try {
      return (await checkStore(src.meta, src.blobs, pool, opts.onProgress)).report;
    } catch (err) {
      // a page of the database found damaged by a query of the check: E_CORRUPT, a finding
      throw sqliteCode(err) === undefined ? err : wrapSqliteError(err, src.meta.path, "check");
    }
  };
  return cleanupAfter(
    check,
    () => pool.close(),
    () => src.close(),
  );
}

/** Checks and repairs the store `ms`, opened for maintenance. */
export async function repairOpened(ms: MaintainedStore, opts: FsckOptions): Promise<FsckReport> {
  if (opts.repairFrom !== undefined) checkCopyDir(opts.repairFrom);
  const pool = new CodecPool({ threads: opts.threads ?? 2 });
  return cleanupAfter(
    () => checkAndRepair(ms, pool, opts),
    () => pool.close(),
  );
}

/** True when the repairs of `r` changed the store. */
function repaired(r: FsckReport): boolean {
  const n = r.repairs;
  const fixed =
    n.orphansRemoved + n.refcountRowsFixed + n.subBlocksRestored + n.superChunksRewritten;
  return fixed > 0 || n.rowsRelocated > 0;
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
  for await (const key of ms.blobs.list("sc/")) {
    if (!live.has(key) && !isMetaCopyKey(key)) orphans.push(key);
  }
  for (const key of orphans) await ms.blobs.delete(key);
  return orphans.length;
}
