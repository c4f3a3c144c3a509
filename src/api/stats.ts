/**
 * `stats(store, options)`: a store's figures (sizes, ratios, sharing, dead bytes), or one
 * path's, through stats/, the same calls `superchunk stats` makes.
 */
import type { S3Options } from "../blobstore/s3-client.js";
import { resolveStoreLocation } from "../location/store-kind.js";
import type { PathStats, StoreStats } from "../stats/stats.js";
import { pathStatsAt, storeStatsAt } from "../stats/stats-source.js";
import { needString, optionsObject } from "./args.js";

export type { PathStats, StoreStats } from "../stats/stats.js";

/** Options of {@link stats}. */
export interface StatsOptions {
  /** dead share (0..1) from which a super-chunk counts as a repack candidate; default 0.1 */
  minDead?: number;
  /** how many files to list by unique bytes; default 10 */
  top?: number;
  /** `s3://` stores: endpoint, region, credentials */
  s3?: S3Options;
}

/**
 * The figures of the store at `store` (any kind, opened read-only), or with a `path` in
 * the store, that path's (its extents, super-chunks, unique and shared bytes, cold-read
 * cost). Rejects with E_NOT_A_STORE, E_NOT_FOUND (no such path).
 *
 * @example
 * const s = await stats("photos.sc");
 * console.log(`dedup ${s.dedupRatio.toFixed(2)}x, ${s.totalBytes} bytes in all`);
 */
export async function stats(store: string, options?: StatsOptions): Promise<StoreStats>;
export async function stats(
  store: string,
  options: StatsOptions & { path: string },
): Promise<PathStats>;
export async function stats(
  store: string,
  options?: StatsOptions & { path?: string },
): Promise<StoreStats | PathStats> {
  const o = optionsObject(options);
  const location = resolveStoreLocation(needString(store, "store"));
  const s3 = o.s3 === undefined ? {} : { s3: o.s3 };
  if (o.path !== undefined) return pathStatsAt(location, needString(o.path, "path"), s3);
  return storeStatsAt(location, {
    ...s3,
    ...(o.minDead === undefined ? {} : { repackThreshold: o.minDead }),
    ...(o.top === undefined ? {} : { topFiles: o.top }),
  });
}
