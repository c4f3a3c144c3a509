/**
 * The read-only mount of an S3 store that serves each newer generation its pointer names
 * once a poll sees it (s3store/s3-follow.ts; location/ opens it). The kernel may not cache
 * what can change: such a mount has no `kernel_cache` and 1 s entry/attr timeouts.
 */
import type { FollowingS3Reader } from "../location/store-view.js";
import type { S3FollowOptions } from "../s3store/s3-follow.js";
import { type FuseMount, type MountOptions, mountFsView } from "./fuse-mount.js";

/** Kernel entry/attr cache lifetime of a following mount, seconds. */
export const FOLLOW_CACHE_TIMEOUT_S = 1;

/**
 * Mounts the following reader `reader` read-only with short kernel caches, then starts
 * polling its pointer. The caller closes the reader when this fails.
 */
export async function mountFollowing(
  reader: FollowingS3Reader,
  mountpoint: string,
  opts: MountOptions,
  follow: S3FollowOptions,
): Promise<FuseMount> {
  const mount = await mountFsView(reader, mountpoint, {
    ...opts,
    kernelCache: false,
    cacheTimeoutSeconds: FOLLOW_CACHE_TIMEOUT_S,
  });
  reader.follower.start();
  follow.log(
    `following ${reader.location} from generation ${reader.follower.generation}, polling every ${follow.intervalSeconds} s`,
  );
  return mount;
}
