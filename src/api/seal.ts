/**
 * `seal(store, archive, options)`: a store written as one archive (a zip, mountable and
 * readable from a file or URL), through export/'s sealStore, as `superchunk seal` does.
 */
import type { S3Options } from "../blobstore/s3-client.js";
import { type SealSummary, sealStore } from "../export/seal.js";
import { needString, optionalSignal, optionsObject } from "./args.js";

export type { SealSummary } from "../export/seal.js";

/** Options of {@link seal}. */
export interface SealOptions {
  /** replace an existing file at `archive`; default false (E_DEST_EXISTS) */
  force?: boolean;
  /** stops the seal (E_ABORTED); nothing is left at or beside `archive` */
  signal?: AbortSignal;
  /** `s3://` stores: endpoint, region, credentials */
  s3?: S3Options;
}

/**
 * Writes the store at `store` (a directory, under its lock, or `s3://`, its committed
 * generation) as an archive at `archive`, built under a temporary name and installed only
 * when complete; the store is left as it is. Rejects with E_DEST_EXISTS, E_STORE_LOCKED,
 * E_NOT_A_STORE, E_SUPERCHUNK_MISSING, E_ABORTED.
 *
 * @example
 * await seal("photos.sc", "photos.zip");
 */
export async function seal(
  store: string,
  archive: string,
  options?: SealOptions,
): Promise<SealSummary> {
  const o = optionsObject(options);
  needString(store, "store");
  needString(archive, "archive");
  return sealStore(store, archive, {
    force: o.force === true,
    signal: optionalSignal(o.signal),
    ...(o.s3 === undefined ? {} : { s3: o.s3 }),
  });
}
