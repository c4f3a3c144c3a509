/**
 * The S3 side of the superchunk-s3 row: a throwaway Ceph RADOS Gateway
 * (test/helpers/ceph.ts) running around the row's pack and reads, and the store location
 * the CLI packs to and mounts.
 */

import { cephSkipReason, startCeph } from "../../test/helpers/ceph.js";
import type { S3Target } from "./packers.js";

/** The bucket and prefix superchunk-s3 packs to. */
export const S3_BENCH_LOCATION = "s3://superchunk-bench/store";

/** A gateway for the row, or why there is none. */
export type S3Gateway = { readonly target: S3Target } | { readonly unavailable: string };

/**
 * Runs `fn` while a gateway runs (when `wanted`), stopping it afterwards whatever happens.
 * `fn` gets the reason instead when the gateway cannot run here or did not start.
 */
export async function withS3Gateway<T>(
  wanted: boolean,
  log: (line: string) => void,
  fn: (gw: S3Gateway | undefined) => Promise<T>,
): Promise<T> {
  if (!wanted) return fn(undefined);
  const skip = cephSkipReason();
  if (skip !== undefined) return fn({ unavailable: skip });
  let ceph: Awaited<ReturnType<typeof startCeph>>;
  try {
    ceph = await startCeph();
  } catch (e) {
    return fn({ unavailable: e instanceof Error ? e.message.split("\n")[0]! : String(e) });
  }
  log(`s3: ceph gateway up in ${ceph.startMs} ms at ${ceph.endpoint}`);
  try {
    const target = { location: S3_BENCH_LOCATION, endpoint: ceph.endpoint, env: ceph.env() };
    return await fn({ target });
  } finally {
    await ceph.stop();
  }
}
