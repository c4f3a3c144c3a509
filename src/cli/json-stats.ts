/**
 * The command-specific fields of `stats --json` (store-wide and for one path) and
 * `fsck --json` (spec/JSON.md), named by the rules of json-payloads.ts.
 */
import type { FsckProblem, FsckReport } from "../maintain/fsck-report.js";
import type { RestoreOutcome } from "../maintain/fsck-restore.js";
import type { PathStats } from "../stats/stats.js";
import type { Spread, StoreStats } from "../stats/stats-store.js";
import { kindCounts, storedFraction } from "./json-payloads.js";
import type { ReportEnvelope } from "./json-report.js";

function sizes(s: Spread) {
  return { minBytes: s.min, medianBytes: s.median, maxBytes: s.max };
}

/** The fields of `stats <store> --json`. */
export function storeStatsPayload(s: StoreStats) {
  return {
    ...kindCounts(s),
    logicalBytes: s.logicalBytes,
    uniqueBytes: s.uniqueBytes,
    superChunkCount: s.superChunkCount,
    superChunkRawBytes: s.rawBytes,
    superChunkBytes: s.storedBytes,
    metadataBytes: s.metadataBytes,
    storedBytes: s.totalBytes,
    dedupRatio: s.dedupRatio,
    compressionRatio: s.compressionRatio,
    storedFraction: storedFraction(s.totalBytes, s.logicalBytes),
    superChunkRawSize: sizes(s.superChunkRaw),
    superChunkStoredSize: sizes(s.superChunkStored),
    superChunkTargetBytes: s.targetBytes,
    liveBytes: s.liveBytes,
    deadBytes: s.deadBytes,
    repackThresholdFraction: s.repackThreshold,
    repackCandidateCount: s.repackCandidates,
    reclaimableBytes: s.reclaimableBytes,
    codecs: Object.fromEntries(
      Object.entries(s.codecs).map(([name, c]) => [
        name,
        { superChunkCount: c.superChunks, rawBytes: c.rawBytes, storedBytes: c.storedBytes },
      ]),
    ),
    sharing: s.sharing.map((b) => ({
      label: b.label,
      minRefCount: b.minRefs,
      maxRefCount: b.maxRefs,
      subBlockCount: b.subBlocks,
      subBlockBytes: b.bytes,
    })),
    topFiles: s.topFiles.map((f) => ({
      path: f.path,
      sizeBytes: f.size,
      uniqueBytes: f.uniqueBytes,
      sharedBytes: f.sharedBytes,
      extentCount: f.extents,
      superChunkCount: f.superChunks,
    })),
    byTopDir: s.byTopDir.map((d) => ({
      name: d.name,
      fileCount: d.files,
      logicalBytes: d.logicalBytes,
      storedShareBytes: d.storedBytes,
    })),
    superChunks: s.superChunks.map((c) => ({
      id: c.id,
      codec: c.codec,
      rawBytes: c.rawBytes,
      storedBytes: c.storedBytes,
      liveBytes: c.liveBytes,
      subBlockCount: c.subBlocks,
    })),
  };
}

/** The fields of `stats <store> <path> --json`. */
export function pathStatsPayload(p: PathStats) {
  const u = p.usage;
  return {
    path: p.path,
    kind: p.kind,
    fileCount: u.files,
    logicalBytes: u.logicalBytes,
    extentCount: u.extents,
    holeCount: u.holes,
    holeBytes: u.holeBytes,
    uniqueBytes: u.uniqueBytes,
    sharedBytes: u.sharedBytes,
    storedShareBytes: u.storedBytes,
    superChunkCount: p.superChunks.length,
    superChunks: p.superChunks,
    coldRead: {
      inflatedBytes: p.coldRead.inflatedBytes,
      fetchedBytes: p.coldRead.fetchedBytes,
      readAmplificationRatio: p.coldRead.readAmplification,
    },
  };
}

function problemJson(p: FsckProblem) {
  return {
    severity: p.severity,
    code: p.code,
    kind: p.kind,
    ...(p.check === undefined ? {} : { check: p.check }),
    message: p.message,
    ...(p.superChunk === undefined ? {} : { superChunkId: p.superChunk }),
    ...(p.subBlock === undefined ? {} : { subBlockId: p.subBlock }),
    ...(p.key === undefined ? {} : { key: p.key }),
    ...(p.affected === undefined ? {} : { affected: p.affected.map(affectedJson) }),
    ...(p.fixed === undefined ? {} : { fixed: p.fixed }),
  };
}

function affectedJson(f: { paths: string[]; ino: number; ranges: [number, number][] }) {
  return {
    paths: f.paths,
    ino: f.ino,
    byteRanges: f.ranges.map(([offsetBytes, lengthBytes]) => ({ offsetBytes, lengthBytes })),
  };
}

/** The findings of one verification run (also the `after` of a repair). */
function checkJson(r: FsckReport) {
  return {
    superChunkCount: r.superChunks,
    subBlockCount: r.subBlocks,
    verifiedBytes: r.bytesVerified,
    errorCount: r.errors,
    warningCount: r.warnings,
    problems: r.problems.map(problemJson),
    damagedSubBlockIds: r.damagedSubBlocks,
    damaged: r.damaged.map((d) => ({
      subBlockId: d.subBlock,
      superChunkId: d.superChunk,
      affected: d.affected.map(affectedJson),
    })),
    affectedFiles: r.affectedFiles,
  };
}

/** The fields of `fsck --json`: the verdict, the findings, repairs, a restore's outcome. */
export function fsckPayload(r: FsckReport, clean: boolean, restored?: RestoreOutcome) {
  const x = r.repairs;
  return {
    clean,
    ...checkJson(r),
    repairs: {
      orphansRemovedCount: x.orphansRemoved,
      refcountRowsFixedCount: x.refcountRowsFixed,
      subBlocksRestoredCount: x.subBlocksRestored,
      superChunksRewrittenCount: x.superChunksRewritten,
      rowsRelocatedCount: x.rowsRelocated,
    },
    ...(r.after === undefined ? {} : { after: checkJson(r.after) }),
    ...(restored === undefined ? {} : { restore: restoreJson(restored) }),
    elapsedSeconds: r.seconds,
  };
}

function restoreJson(o: RestoreOutcome) {
  return {
    database: o.database,
    ...(o.damage === undefined ? {} : { damage: o.damage }),
    ...(o.generation === undefined ? {} : { generation: o.generation }),
    skippedCopies: o.skippedCopies,
    movedAside: o.movedAside,
    inodeCount: o.inodes,
    fileCount: o.files,
    dirCount: o.dirs,
    rowsRelocatedCount: o.rowsRelocated,
    countsFixedCount: o.countsFixed,
  };
}

/** The output of `stats <store> --json` (for readers such as tests and scripts). */
export type StoreStatsJson = ReportEnvelope & ReturnType<typeof storeStatsPayload>;
/** The output of `stats <store> <path> --json`. */
export type PathStatsJson = ReportEnvelope & ReturnType<typeof pathStatsPayload>;
/** The output of `fsck --json`. */
export type FsckJson = ReportEnvelope & ReturnType<typeof fsckPayload>;
