/** The options and the summary of a repack (repack.ts), apart so callers can name them. */
import type { CodecName } from "../codec/codec.js";
import type { S3MaintainOptions } from "../location/maintain-at.js";

/** Options of repack; unset codec, level, size and order are the store's own. */
export interface RepackOptions {
  /** dead share above which a super-chunk is rewritten; default 0.1 */
  minDead?: number;
  codec?: CodecName;
  level?: number;
  superChunkBytes?: number;
  order?: "similarity" | "path";
  /** regroup and recompress every super-chunk */
  all?: boolean;
  /** only say what would be rewritten */
  dryRun?: boolean;
  /** dry run: raw bytes of new super-chunks built, unwritten, to measure; default 32 MiB */
  sampleBytes?: number;
  /** codec threads; default 2 */
  threads?: number;
  /** inflated old super-chunks kept while regrouping; default 256 MiB */
  cacheBytes?: number;
  onProgress?: (p: {
    phase: "read" | "write";
    filesDone: number;
    filesTotal: number;
    bytesDone: number;
    bytesTotal: number;
  }) => void;
  /** test hook: runs after the new files are durable, before the metadata switch */
  beforeCommit?: () => void;
  /** for s3:// stores: endpoint, region, credentials, work directory */
  s3?: S3MaintainOptions;
  /**
   * Stops the repack between super-chunks read and written and before the switch: it
   * rejects with AbortError E_ABORTED, the new files removed, the store as it was.
   */
  signal?: AbortSignal | undefined;
}

/** What a repack did (or, dry, would do). */
export interface RepackSummary {
  /** the store's id (store/store-id.ts) */
  storeId: string | null;
  dryRun: boolean;
  superChunksBefore: number;
  superChunksAfter: number;
  /** super-chunks rewritten (retired) */
  selected: number;
  /** new super-chunks written */
  written: number;
  subBlocksMoved: number;
  liveBytesMoved: number;
  subBlocksDropped: number;
  deadBytesDropped: number;
  contentsPurged: number;
  storedBytesBefore: number;
  /**
   * after the repack; for a dry run an estimate: before, minus the retired files, plus their
   * live data as a sample of the new super-chunks compresses (repack-estimate.ts)
   */
  storedBytesAfter: number;
  /** stored bytes of the super-chunks retired */
  retiredStoredBytes: number;
  reclaimedBytes: number;
  codec: string;
  level: number;
  order: string;
  superChunkBytes: number;
  seconds: number;
}
