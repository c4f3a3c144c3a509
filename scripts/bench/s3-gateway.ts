/**
 * The S3 side of the superchunk-s3 rows: a throwaway Ceph RADOS Gateway
 * (test/helpers/ceph.ts) running around the rows' packs and reads, the store locations
 * the CLI packs to and mounts, and for superchunk-s3-rtt a delaying proxy in front of
 * the gateway (scripts/bench/delay-proxy.ts).
 */

import { cephSkipReason, startCeph } from "../../test/helpers/ceph.js";
import { S3_TOOL_IDS, type ToolId } from "./catalogue.js";
import { startDelayProxy } from "./delay-proxy.js";
import type { S3Target } from "./packers.js";

/** The bucket and prefix superchunk-s3 packs to. */
export const S3_BENCH_LOCATION = "s3://superchunk-bench/store";
/** The bucket and prefix superchunk-s3-rtt packs to (through the proxy). */
export const S3_RTT_BENCH_LOCATION = "s3://superchunk-bench/store-rtt";
/** One-way delay of the proxy: a 20 ms round trip, a nearby region's object store. */
export const S3_RTT_ONE_WAY_MS = 10;

/** A gateway with the store of each S3 row of the run, or why there is none. */
export type S3Gateway =
  | { readonly targets: Partial<Record<ToolId, S3Target>> }
  | { readonly unavailable: string };

/**
 * Runs `fn` while a gateway runs (when `tools` has an S3 row; with the proxy when it has
 * superchunk-s3-rtt), stopping both afterwards whatever happens. `fn` gets the reason
 * instead when the gateway cannot run here or did not start.
 */
export async function withS3Gateway<T>(
  tools: readonly ToolId[],
  log: (line: string) => void,
  fn: (gw: S3Gateway | undefined) => Promise<T>,
): Promise<T> {
  if (!S3_TOOL_IDS.some((id) => tools.includes(id))) return fn(undefined);
  const skip = cephSkipReason();
  if (skip !== undefined) return fn({ unavailable: skip });
  let ceph: Awaited<ReturnType<typeof startCeph>>;
  try {
    ceph = await startCeph();
  } catch (e) {
    return fn({ unavailable: e instanceof Error ? e.message.split("\n")[0]! : String(e) });
  }
  log(`s3: ceph gateway up in ${ceph.startMs} ms at ${ceph.endpoint}`);
  const rtt = tools.includes("superchunk-s3-rtt");
  const proxy = rtt ? await startDelayProxy(ceph.endpoint, S3_RTT_ONE_WAY_MS) : null;
  try {
    const env = ceph.env();
    const targets: Partial<Record<ToolId, S3Target>> = {
      "superchunk-s3": { location: S3_BENCH_LOCATION, endpoint: ceph.endpoint, env },
    };
    if (proxy !== null) {
      log(`s3: ${2 * S3_RTT_ONE_WAY_MS} ms round-trip proxy at ${proxy.endpoint}`);
      targets["superchunk-s3-rtt"] = {
        location: S3_RTT_BENCH_LOCATION,
        endpoint: proxy.endpoint,
        env: { ...env, AWS_ENDPOINT_URL: proxy.endpoint },
      };
    }
    return await fn({ targets });
  } finally {
    await proxy?.close();
    await ceph.stop();
  }
}
