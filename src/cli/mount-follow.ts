/**
 * `mount s3://bucket/prefix <mountpoint> --read-only --follow [--follow-interval SECS]`: the
 * flags, and the read-only mount of an S3 store that serves each newer generation its
 * pointer names once a poll sees it (engine/s3-follow.ts). The kernel may not cache what
 * can change: such a mount has no `kernel_cache` and 1 s entry/attr timeouts.
 */
import type { S3Options } from "../blobstore/s3-client.js";
import { UsageError } from "../errors.js";
import { type FuseMount, type MountOptions, mountFsView } from "../fuse/fuse-mount.js";
import type { FsView } from "../reader/fs-view.js";
import { storeKindOf } from "../store/store-layout.js";
import { parseInteger } from "./args.js";

/** Kernel entry/attr cache lifetime of a following mount, seconds. */
export const FOLLOW_CACHE_TIMEOUT_S = 1;
const DEFAULT_INTERVAL_S = 10;
const MAX_INTERVAL_S = 86_400;

/** The parsed flags that concern following. */
export interface FollowFlags {
  follow?: boolean | undefined;
  "follow-interval"?: string | undefined;
  "read-write"?: boolean | undefined;
}

/**
 * Seconds between polls when `--follow` is given, else undefined. E_USAGE for --follow on a
 * store that is not s3://, with --read-write, or --follow-interval without --follow.
 */
export function followSecondsOf(values: FollowFlags, store: string): number | undefined {
  const interval = values["follow-interval"];
  if (values.follow !== true) {
    if (interval !== undefined) throw new UsageError("E_USAGE", "--follow-interval needs --follow");
    return undefined;
  }
  if (storeKindOf(store) !== "s3") {
    throw new UsageError(
      "E_USAGE",
      `--follow is for s3:// stores (${store} is not one): only they get new generations while mounted`,
      { path: store },
    );
  }
  if (values["read-write"] === true) {
    throw new UsageError("E_USAGE", "--follow is for read-only mounts, not with --read-write");
  }
  return interval === undefined
    ? DEFAULT_INTERVAL_S
    : parseInteger(interval, "--follow-interval", 1, MAX_INTERVAL_S);
}

/** What mountFollowing needs of the command line. */
export interface FollowMountArgs {
  readonly store: string;
  readonly mountpoint: string;
  readonly cacheBytes: number;
  /** bytes of compressed super-chunks fetched ahead; default the reader's */
  readonly fetchAheadBytes?: number | undefined;
  /** seconds between polls; default 10 */
  readonly followSeconds?: number | undefined;
}

/**
 * Opens the S3 store `a.store` at its committed generation, mounts it read-only with short
 * kernel caches, then starts polling its pointer. On failure nothing stays open or mounted.
 */
export async function mountFollowing(
  a: FollowMountArgs,
  s3: S3Options,
  opts: MountOptions,
): Promise<{ view: FsView; mount: FuseMount }> {
  // loaded on demand: the AWS SDK takes a while to import and only S3 stores need it
  const { openFollowingS3Reader } = await import("../s3store/s3-follow.js");
  const log = (line: string) => opts.log(`superchunk mount: ${line}`);
  const every = a.followSeconds ?? DEFAULT_INTERVAL_S;
  const reader = await openFollowingS3Reader(a.store, {
    cacheBytes: a.cacheBytes,
    ...(a.fetchAheadBytes === undefined ? {} : { fetchAheadBytes: a.fetchAheadBytes }),
    // the stored CRC guards what is read; the raw CRC is fsck's and extract's
    verifyRawCrc: false,
    s3,
    follow: { intervalSeconds: every, log },
  });
  try {
    const mount = await mountFsView(reader, a.mountpoint, {
      ...opts,
      kernelCache: false,
      cacheTimeoutSeconds: FOLLOW_CACHE_TIMEOUT_S,
    });
    reader.follower.start();
    log(
      `following ${reader.location} from generation ${reader.follower.generation}, polling every ${every} s`,
    );
    return { view: reader, mount };
  } catch (err) {
    await reader.close().catch(() => {});
    throw err;
  }
}
