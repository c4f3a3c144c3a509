/**
 * stats of a store at any location location/ opens: a store directory, an archive
 * (local file or http(s) URL) or `s3://bucket/prefix`. The store opens read-only; the
 * metadata size is the database as it is kept there (the plain file and its WAL, the
 * archive's packed entry, or the S3 store's committed generation object).
 */
import type { S3Options } from "../blobstore/s3-client.js";
import { resolveStoreLocation } from "../location/store-kind.js";
import { openStoreSource, type StoreSource } from "../location/store-source.js";
import { type PathStats, pathStatsIn, storeStatsOf } from "./stats.js";
import type { StoreStats, StoreStatsOptions } from "./stats-store.js";

/** Where a store is and how to reach it. */
export interface StatsSourceOptions {
  /** for s3:// locations: endpoint, region, credentials, timeouts */
  s3?: S3Options;
}

/**
 * Store-wide figures of the store at `location` (directory, archive path or URL, s3://).
 * @example
 * const s = await storeStatsAt("s3://backups/linux", { s3: { endpoint: "http://127.0.0.1:7480" } });
 */
export async function storeStatsAt(
  location: string,
  opts: StoreStatsOptions & StatsSourceOptions = {},
): Promise<StoreStats> {
  return withSource(location, opts, async (src) =>
    storeStatsOf(src.meta, await src.databaseBytes(), opts),
  );
}

/** Figures of `inStore` in the store at `location`; E_NOT_FOUND when the path does not exist. */
export async function pathStatsAt(
  location: string,
  inStore: string,
  opts: StatsSourceOptions = {},
): Promise<PathStats> {
  return withSource(location, opts, async (src) => pathStatsIn(src.meta, inStore, src.location));
}

async function withSource<T>(
  location: string,
  opts: StatsSourceOptions,
  fn: (src: StoreSource) => Promise<T>,
): Promise<T> {
  const src = await openStoreSource(resolveStoreLocation(location), {
    readonly: true,
    ...(opts.s3 === undefined ? {} : { s3: opts.s3 }),
  });
  try {
    return await fn(src);
  } finally {
    await src.close();
  }
}
