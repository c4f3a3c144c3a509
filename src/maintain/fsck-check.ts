/**
 * One verification pass of fsck (no writes): metadata checks on a snapshot (counts,
 * extents, the file tree: fsck-meta, fsck-tree), then every super-chunk read and verified
 * (a few at a time on the codec pool), every content's bytes hashed against its key
 * (fsck-content), orphan files listed, and each damaged sub-block mapped to the files and
 * byte ranges it affects. It keeps going after every problem.
 */
import type { BlobStore } from "../blobstore/blob-store.js";
import { parseSuperChunkKey } from "../blobstore/blob-store.js";
import type { CodecPool } from "../codec/codec-pool.js";
import type { MetaDb } from "../meta/meta-db.js";
import {
  type SnapshotSubBlock,
  type StoreSnapshot,
  snapshotStore,
} from "../meta/store-snapshot.js";
import { readTreeRows } from "../meta/tree-rows.js";
import { isMetaCopyKey } from "../store/meta-copy.js";
import { storeIdOf } from "../store/store-id.js";
import { readStoreSettings } from "../store/store-settings.js";
import { checkContentHashes } from "./fsck-content.js";
import {
  affectedFiles,
  type ChunkBounds,
  checkInvariants,
  checkRefcounts,
  missingReferences,
} from "./fsck-meta.js";
import type { AffectedFile, FsckProblem, FsckProgress, FsckReport } from "./fsck-report.js";
import { checkTree } from "./fsck-tree.js";
import { type ScVerdict, verifySuperChunk } from "./fsck-verify.js";

/** A verification pass with what repairs need besides the report. */
export interface CheckResult {
  readonly report: FsckReport;
  readonly snap: StoreSnapshot;
  /** verdicts of the super-chunks with damaged sub-blocks or other problems */
  readonly bad: ScVerdict[];
  /** sub-block rows by super-chunk */
  readonly rowsBySc: Map<number, SnapshotSubBlock[]>;
  readonly orphanKeys: string[];
  readonly damaged: Set<number>;
}

/** Chunker bounds the store was built with (its meta keys). */
export function chunkBounds(meta: MetaDb): ChunkBounds {
  const { avgBytes, minBytes, maxBytes, mode } = readStoreSettings(meta).chunk;
  return { avgBytes, minBytes, maxBytes, fixed: mode === "fixed" };
}

function rowsBySuperChunk(snap: StoreSnapshot): Map<number, SnapshotSubBlock[]> {
  const m = new Map<number, SnapshotSubBlock[]>();
  for (const sb of snap.subBlocks.values()) {
    const list = m.get(sb.superChunk);
    if (list === undefined) m.set(sb.superChunk, [sb]);
    else list.push(sb);
  }
  for (const list of m.values()) list.sort((a, b) => a.offset - b.offset);
  return m;
}

/** Runs one verification pass over the store. */
export async function checkStore(
  meta: MetaDb,
  blobs: BlobStore,
  pool: CodecPool,
  onProgress?: (p: FsckProgress) => void,
): Promise<CheckResult> {
  const started = process.hrtime.bigint();
  onProgress?.({ phase: "metadata", filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 });
  const snap = snapshotStore(meta);
  const rows = readTreeRows(meta);
  const tree = checkTree(rows);
  const problems: FsckProblem[] = [
    ...checkRefcounts(snap),
    ...checkInvariants(snap, chunkBounds(meta)),
    ...tree.problems,
  ];
  for (const m of snap.integrityErrors) {
    problems.push({
      kind: "invariant",
      code: "E_CORRUPT",
      severity: "error",
      message: `database: ${m}`,
    });
  }
  const refs = missingReferences(snap);
  problems.push(...refs.problems);
  const damaged = new Set(refs.missing);
  const rowsBySc = rowsBySuperChunk(snap);
  const { verdicts, bytes } = await verifyAll(snap, rowsBySc, blobs, pool, onProgress);
  const bad: ScVerdict[] = [];
  for (const v of verdicts) {
    problems.push(...v.problems);
    for (const id of v.damaged) damaged.add(id);
    if (v.problems.length > 0 || v.damaged.size > 0) bad.push(v);
  }
  const orphanKeys = await listOrphans(blobs, snap);
  for (const key of orphanKeys) {
    problems.push({
      kind: "orphan",
      code: "E_CORRUPT",
      severity: "warning",
      message: `${key}: file with no super-chunk row (orphan)`,
      key,
    });
  }
  const keys = rows.contentKeys;
  problems.push(...(await checkContentHashes(meta, blobs, pool, snap, keys, damaged, tree.paths)));
  const affected = affectedFiles(snap, damaged, tree.paths);
  attachAffected(problems, affected, rowsBySc);
  const report = {
    storeId: storeIdOf(meta),
    ...summarize(snap, problems, damaged, affected, bytes),
  };
  report.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { report, snap, bad, rowsBySc, orphanKeys, damaged };
}

/** Verifies every super-chunk, `pool.threads + 1` at a time. */
async function verifyAll(
  snap: StoreSnapshot,
  rowsBySc: Map<number, SnapshotSubBlock[]>,
  blobs: BlobStore,
  pool: CodecPool,
  onProgress?: (p: FsckProgress) => void,
): Promise<{ verdicts: ScVerdict[]; bytes: number }> {
  const scs = [...snap.superChunks.values()];
  const total = scs.reduce((a, s) => a + s.storedBytes, 0);
  const verdicts: ScVerdict[] = [];
  let bytes = 0;
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < scs.length && !failed) {
      const sc = scs[next++]!;
      const v = await verifySuperChunk(sc, rowsBySc.get(sc.id) ?? [], blobs, pool).catch(
        (err: unknown) => {
          failed = true;
          throw err;
        },
      );
      verdicts.push(v);
      bytes += v.storedBytes;
      onProgress?.({
        phase: "verify",
        filesDone: verdicts.length,
        filesTotal: scs.length,
        bytesDone: bytes,
        bytesTotal: total,
      });
    }
  };
  // every worker has stopped before this throws: a read still running when the caller
  // closes the store would open the archive again and leave its file handle to GC
  const settled = await Promise.allSettled(Array.from({ length: pool.threads + 1 }, worker));
  const failure = settled.find((s) => s.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  verdicts.sort((a, b) => a.id - b.id);
  return { verdicts, bytes };
}

/** Blob keys below sc/ that name no super-chunk row (temporary files included). */
async function listOrphans(blobs: BlobStore, snap: StoreSnapshot): Promise<string[]> {
  const out: string[] = [];
  for await (const key of blobs.list("sc/")) {
    if (isMetaCopyKey(key)) continue; // the metadata copy (store/meta-copy.ts)
    const id = parseSuperChunkKey(key);
    if (id === undefined || !snap.superChunks.has(id)) out.push(key);
  }
  return out.sort();
}

/** Puts the affected files on each problem about a damaged sub-block or super-chunk. */
function attachAffected(
  problems: FsckProblem[],
  affected: Map<number, AffectedFile[]>,
  rowsBySc: Map<number, SnapshotSubBlock[]>,
): void {
  const done = new Set<number>();
  for (const p of problems) {
    if (
      p.subBlock !== undefined &&
      (p.kind === "subblock-damaged" || p.kind === "subblock-missing")
    ) {
      p.affected = affected.get(p.subBlock) ?? [];
    } else if (
      p.superChunk !== undefined &&
      (p.kind === "superchunk-missing" || p.kind === "superchunk-corrupt") &&
      !done.has(p.superChunk)
    ) {
      done.add(p.superChunk);
      const byIno = new Map<number, AffectedFile>();
      for (const r of rowsBySc.get(p.superChunk) ?? []) {
        for (const f of affected.get(r.id) ?? []) {
          const seen = byIno.get(f.ino);
          if (seen === undefined) byIno.set(f.ino, { ...f, ranges: [...f.ranges] });
          else seen.ranges.push(...f.ranges);
        }
      }
      p.affected = [...byIno.values()];
    }
  }
}

function summarize(
  snap: StoreSnapshot,
  problems: FsckProblem[],
  damaged: Set<number>,
  affected: Map<number, AffectedFile[]>,
  bytes: number,
): Omit<FsckReport, "storeId"> {
  const files = new Set<string>();
  for (const list of affected.values()) for (const f of list) for (const p of f.paths) files.add(p);
  for (const p of problems) {
    if (p.kind !== "content-hash" || p.severity !== "error") continue;
    for (const f of p.affected ?? []) for (const path of f.paths) files.add(path);
  }
  const errors = problems.filter((p) => p.severity === "error").length;
  return {
    superChunks: snap.superChunks.size,
    subBlocks: snap.subBlocks.size,
    bytesVerified: bytes,
    problems,
    errors,
    warnings: problems.length - errors,
    damagedSubBlocks: [...damaged].sort((a, b) => a - b),
    affectedFiles: [...files].sort(),
    damaged: [...damaged]
      .sort((a, b) => a - b)
      .map((id) => ({
        subBlock: id,
        superChunk: snap.subBlocks.get(id)?.superChunk ?? null,
        affected: affected.get(id) ?? [],
      })),
    repairs: {
      orphansRemoved: 0,
      refcountRowsFixed: 0,
      subBlocksRestored: 0,
      superChunksRewritten: 0,
      rowsRelocated: 0,
    },
    seconds: 0,
  };
}
