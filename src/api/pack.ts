/**
 * `pack(sources, store, options)`: a tree (or a zip) into a new store, through pack/'s
 * packTo, the same call `superchunk pack` makes; the store is a directory, a `.zip` archive
 * or `s3://bucket/prefix`. Progress and warnings come through callbacks; an AbortSignal
 * stops it with nothing left behind.
 */
import type { S3Options } from "../blobstore/s3-client.js";
import { chunkerParams } from "../chunker/chunker-params.js";
import type { CodecName } from "../codec/codec.js";
import { type EngineWarning, UsageError } from "../errors.js";
import type { PackOptions as EngineOptions, PackProgress } from "../pack/pack-options.js";
import { type PackToSummary, packTo } from "../pack/pack-to.js";
import { ZIP_LIMITS_DEFAULT } from "../pack/zip-source.js";
import { needString, optionalFunction, optionalSignal, optionsObject } from "./args.js";

export type { PackProgress } from "../pack/pack-options.js";

/** Options of {@link pack}; every field is optional, with the CLI's defaults. */
export interface PackOptions {
  /** compression of super-chunks: "zstd" (default), "xz", "lz4" or "none" */
  codec?: CodecName;
  /** codec level (zstd 1-22, default 19; xz 0-9, default 6) */
  level?: number;
  /** average sub-block size in bytes, a power of two from 4 KiB (default 32 KiB) */
  chunkSize?: number;
  /** cut fixed-size sub-blocks instead of content-defined ones; default false */
  fixedChunks?: boolean;
  /** raw bytes per super-chunk (default 4 MiB) */
  superChunkSize?: number;
  /** order of sub-blocks in super-chunks: "similarity" (default) or "path" */
  order?: "similarity" | "path";
  /** worker threads for scanning and compressing; default the number of cores */
  threads?: number;
  /** patterns of entries to leave out, as `superchunk pack --exclude` takes them */
  exclude?: readonly string[];
  /** do not cross into other file systems below a source; default false */
  oneFileSystem?: boolean;
  /** a zip source may inflate to at most this many bytes (default 64 GiB) */
  zipMaxBytes?: number;
  /** `s3://` stores: endpoint, region, credentials (default from the AWS_* environment) */
  s3?: S3Options;
  /** called as the pack goes: the phase, files and bytes done of that phase */
  onProgress?: (p: PackProgress) => void;
  /** called for each file skipped (unreadable, vanished) with its path and code */
  onWarning?: (w: EngineWarning) => void;
  /** stops the pack: it rejects with AbortError (E_ABORTED), no partial store left */
  signal?: AbortSignal;
}

/** What {@link pack} made: the figures of the new store, and the warnings it reported. */
export type PackResult = PackToSummary & { readonly warnings: readonly EngineWarning[] };

/**
 * Packs `sources` into a new store at `store` (which must not exist, or be an empty
 * directory): a store directory, an archive when it ends in `.zip`, or `s3://bucket/prefix`.
 * Rejects with E_SOURCE_MISSING / E_SOURCE_NOT_DIR for a bad source, E_DEST_EXISTS /
 * E_DEST_NOT_EMPTY when something is at `store`, E_USAGE for a bad option, E_ABORTED when
 * `signal` fired.
 *
 * @example
 * const r = await pack("photos", "photos.sc", { codec: "zstd", onProgress: (p) => console.log(p.phase) });
 * console.log(`${r.files} files, ${r.storedBytes} bytes stored`);
 */
export async function pack(
  sources: string | readonly string[],
  store: string,
  options?: PackOptions,
): Promise<PackResult> {
  const o = optionsObject(options);
  const source = sourceList(sources);
  needString(store, "store");
  const warnings: EngineWarning[] = [];
  const onWarning = optionalFunction(o.onWarning, "onWarning");
  const onProgress = optionalFunction(o.onProgress, "onProgress");
  const hooks = {
    ...(onProgress === undefined ? {} : { onProgress }),
    onWarning: (w: EngineWarning) => {
      warnings.push(w);
      onWarning?.(w);
    },
    signal: optionalSignal(o.signal),
  };
  const summary = await packTo(source, store, engineOptions(o), hooks, o.s3 ?? {});
  return { ...summary, warnings };
}

/** The source paths: one, or several (each stored under its base name). */
function sourceList(sources: string | readonly string[]): string[] {
  const list = typeof sources === "string" ? [sources] : sources;
  if (!Array.isArray(list) || list.length === 0) {
    throw new UsageError("E_USAGE", "sources: expected a path or a non-empty array of paths");
  }
  return list.map((s, i) => needString(s, `sources[${i}]`));
}

/** The engine's options from the API's. */
function engineOptions(o: PackOptions): Partial<EngineOptions> {
  const e: Partial<EngineOptions> = {
    chunk: chunkerParams({
      ...(o.chunkSize === undefined ? {} : { avgBytes: o.chunkSize }),
      mode: o.fixedChunks === true ? "fixed" : "cdc",
    }),
  };
  if (o.codec !== undefined) e.codec = o.codec;
  if (o.level !== undefined) e.level = o.level;
  if (o.superChunkSize !== undefined) e.superChunkBytes = o.superChunkSize;
  if (o.order !== undefined) e.order = o.order;
  if (o.threads !== undefined) e.threads = o.threads;
  if (o.exclude !== undefined) e.exclude = [...o.exclude];
  if (o.oneFileSystem !== undefined) e.oneFileSystem = o.oneFileSystem;
  if (o.zipMaxBytes !== undefined)
    e.zipLimits = { ...ZIP_LIMITS_DEFAULT, maxTotalBytes: o.zipMaxBytes };
  return e;
}
