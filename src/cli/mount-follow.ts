/**
 * `mount s3://bucket/prefix <mountpoint> --read-only --follow [--follow-interval SECS]`: the
 * flags of a mount that serves each newer generation of an S3 store (the mount itself is
 * fuse/follow-mount.ts's).
 */
import { UsageError } from "../errors.js";
import { canFollow } from "../location/store-view.js";
import type { S3FollowOptions } from "../s3store/s3-follow.js";
import { parseInteger } from "./args.js";

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
  if (!canFollow(store)) {
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

/** How a following mount polls: every `followSeconds` (default 10), logging through `log`. */
export function followOptions(
  followSeconds: number | undefined,
  log: (line: string) => void,
): S3FollowOptions {
  const every = followSeconds ?? DEFAULT_INTERVAL_S;
  return { intervalSeconds: every, log: (line) => log(`superchunk mount: ${line}`) };
}
