/**
 * The command-specific fields of the `--json` output of pack, extract, seal and repack
 * (spec/JSON.md): one name per quantity across commands, the unit in every number's name
 * (`…Count`, `…Bytes`, `…Seconds`, `…Ratio`, `…Fraction`). `storedBytes` is always what
 * the thing described takes where it is kept; for a whole store, its super-chunk files
 * plus its metadata.
 */
import type { EngineWarning } from "../errors.js";
import type { ExtractSummary } from "../export/extract.js";
import type { SealSummary } from "../export/seal.js";
import type { RepackSummary } from "../maintain/repack.js";
import type { PackToSummary } from "../pack/pack-to.js";
import type { ReportEnvelope } from "./json-report.js";

/** Counts of the kinds of tree entries, as every command names them. */
export function kindCounts(s: { files: number; dirs: number; symlinks: number; other: number }) {
  return {
    fileCount: s.files,
    dirCount: s.dirs,
    symlinkCount: s.symlinks,
    otherCount: s.other,
  };
}

/** stored / logical, 0 for an empty store. */
export function storedFraction(stored: number, logical: number): number {
  return logical > 0 ? stored / logical : 0;
}

function warningJson(w: EngineWarning) {
  return { code: w.code, message: w.message, path: w.path };
}

/** The fields of `pack --json`. */
export function packPayload(s: PackToSummary, peakRssBytes: number, warnings: EngineWarning[]) {
  return {
    ...kindCounts(s),
    hardLinkCount: s.hardLinks,
    skippedCount: s.skipped,
    excludedCount: s.excluded,
    logicalBytes: s.logicalBytes,
    uniqueBytes: s.uniqueBytes,
    subBlockCount: s.subBlocks,
    superChunkCount: s.superChunks,
    superChunkBytes: s.superChunkBytes,
    denseBytes: s.denseBytes,
    metadataBytes: s.metadataBytes,
    storedBytes: s.storedBytes,
    dedupRatio: s.dedupRatio,
    compressionRatio: s.compressionRatio,
    storedFraction: storedFraction(s.storedBytes, s.logicalBytes),
    codec: s.codec,
    level: s.level,
    order: s.order,
    elapsedSeconds: s.seconds,
    phaseSeconds: s.phases,
    peakRssBytes,
    ...("archiveBytes" in s ? { archiveBytes: s.archiveBytes } : {}),
    ...("uploadedBytes" in s
      ? {
          endpoint: s.endpoint,
          generation: s.generation,
          uploadedObjectCount: s.uploadedObjects,
          uploadedBytes: s.uploadedBytes,
          uploadSeconds: s.uploadSeconds,
        }
      : {}),
    warnings: warnings.map(warningJson),
  };
}

/** The fields of `extract --json`. */
export function extractPayload(s: ExtractSummary, format: "dir" | "zip", warningCount: number) {
  return {
    format,
    ...kindCounts(s),
    logicalBytes: s.bytes,
    warningCount,
    elapsedSeconds: s.seconds,
  };
}

/** The fields of `seal --json`. */
export function sealPayload(s: SealSummary) {
  return {
    archiveBytes: s.archiveBytes,
    superChunkCount: s.superChunks,
    superChunkBytes: s.superChunkBytes,
    metadataBytes: s.metadataBytes,
    ...(s.fetchedBytes === undefined ? {} : { fetchedBytes: s.fetchedBytes }),
    elapsedSeconds: s.seconds,
  };
}

/** The fields of `repack --json`; the byte figures are of super-chunk files. */
export function repackPayload(s: RepackSummary) {
  return {
    dryRun: s.dryRun,
    superChunkCountBefore: s.superChunksBefore,
    superChunkCountAfter: s.superChunksAfter,
    rewrittenSuperChunkCount: s.selected,
    writtenSuperChunkCount: s.written,
    movedSubBlockCount: s.subBlocksMoved,
    movedBytes: s.liveBytesMoved,
    droppedSubBlockCount: s.subBlocksDropped,
    droppedBytes: s.deadBytesDropped,
    purgedContentCount: s.contentsPurged,
    superChunkBytesBefore: s.storedBytesBefore,
    superChunkBytesAfter: s.storedBytesAfter,
    retiredSuperChunkBytes: s.retiredStoredBytes,
    reclaimedBytes: s.reclaimedBytes,
    codec: s.codec,
    level: s.level,
    order: s.order,
    superChunkTargetBytes: s.superChunkBytes,
    elapsedSeconds: s.seconds,
  };
}

/** The output of `pack --json`, envelope included (for readers such as tests and scripts). */
export type PackJson = ReportEnvelope & ReturnType<typeof packPayload>;
/** The output of `extract --json`. */
export type ExtractJson = ReportEnvelope & ReturnType<typeof extractPayload>;
/** The output of `seal --json`. */
export type SealJson = ReportEnvelope & ReturnType<typeof sealPayload>;
/** The output of `repack --json`. */
export type RepackJson = ReportEnvelope & ReturnType<typeof repackPayload>;
