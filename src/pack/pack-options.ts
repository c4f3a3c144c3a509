import * as os from "node:os";
import { type ChunkerParams, chunkerParams } from "../chunker/chunker-params.js";
import type { CodecName } from "../codec/codec.js";
import { getCodec } from "../codec/codec-registry.js";
import { type EngineWarning, UsageError } from "../errors.js";
import { MIB, SUPERCHUNK_MAX_BYTES, SUPERCHUNK_TARGET_BYTES } from "../types.js";
import { ZIP_LIMITS_DEFAULT, type ZipLimits } from "../zip/zip-entries.js";

/** Options of pack, with their defaults in {@link packOptions}. */
export interface PackOptions {
  /** codec of new super-chunks; default "zstd" */
  codec: CodecName;
  /** codec level; default the codec's default */
  level: number;
  /** raw bytes a super-chunk is filled to; default 4 MiB, at least 64 KiB */
  superChunkBytes: number;
  /** content-defined chunker parameters; default avg 32 KiB, min 8, max 128 */
  chunk: ChunkerParams;
  /** order in which unique sub-blocks enter super-chunks; default "similarity" */
  order: "similarity" | "path";
  /** worker threads for scanning and compressing; default the number of cores */
  threads: number;
  /** what a zip source may inflate to (ratio and total caps); default ZIP_LIMITS_DEFAULT */
  zipLimits: ZipLimits;
}

export interface PackProgress {
  readonly phase: "walk" | "scan" | "plan" | "write" | "commit";
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

/** Callbacks of a running pack; the engine never prints. */
export interface PackHooks {
  onProgress?: (p: PackProgress) => void;
  onWarning?: (w: EngineWarning) => void;
}

/** Fills defaults and validates; UsageError E_USAGE on a bad value. */
export function packOptions(p: Partial<PackOptions> = {}): PackOptions {
  const codec = getCodec(p.codec ?? "zstd");
  const level = p.level ?? codec.defaultLevel;
  if (!Number.isInteger(level) || level < codec.minLevel || level > codec.maxLevel) {
    throw new UsageError(
      "E_USAGE",
      `level ${level} out of range for ${codec.name} (${codec.minLevel}..${codec.maxLevel})`,
    );
  }
  const superChunkBytes = p.superChunkBytes ?? SUPERCHUNK_TARGET_BYTES;
  if (superChunkBytes < 64 * 1024 || superChunkBytes > SUPERCHUNK_MAX_BYTES) {
    throw new UsageError(
      "E_USAGE",
      `super-chunk size must be between 64K and ${SUPERCHUNK_MAX_BYTES / MIB}M`,
    );
  }
  const threads = p.threads ?? os.availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new UsageError("E_USAGE", `threads must be between 1 and 256, got ${threads}`);
  }
  const order = p.order ?? "similarity";
  if (order !== "similarity" && order !== "path") {
    throw new UsageError("E_USAGE", `order must be similarity or path, got ${String(order)}`);
  }
  return {
    codec: codec.name,
    level,
    superChunkBytes,
    chunk: p.chunk ?? chunkerParams(),
    order,
    threads,
    zipLimits: { ...ZIP_LIMITS_DEFAULT, ...p.zipLimits },
  };
}
