/**
 * Opening a store and mounting it, with every check first, shared by `superchunk mount`
 * (cli/cmd-mount.ts, in the serving process) and the library's `mount` (api/mount.ts): the
 * store opened by location/ (read-only, read-write, or following an S3 store), then served
 * by fuse/. On failure nothing stays open or mounted. Loads the FUSE binding: import this
 * file only when mounting.
 */
import type { HttpSourceOptions } from "../blobstore/http-byte-source.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { EngineError } from "../errors.js";
import { mountFollowing } from "../fuse/follow-mount.js";
import {
  checkFuseAvailable,
  checkMountpoint,
  type FuseMount,
  mountFsView,
  mountWritable,
} from "../fuse/fuse-mount.js";
import { checkFuseOption } from "../fuse/fuse-options.js";
import { openStoreView, type StoreViewOptions } from "../location/store-view.js";
import { compactor } from "../maintain/compact.js";
import type { FsView } from "../reader/fs-view.js";
import type { S3FollowOptions } from "../s3store/s3-follow.js";

/** How to open and mount a store (the parsed `mount` command line, or the API's options). */
export interface OpenMountOptions {
  /** the store's location, resolved (resolveStoreLocation) */
  readonly store: string;
  /** the absolute mountpoint */
  readonly mountpoint: string;
  /** serve a store directory read-only */
  readonly readOnly: boolean;
  /** s3:// stores: open read-write (the writer's lease) */
  readonly readWrite: boolean;
  readonly cacheBytes: number;
  readonly fetchAheadBytes: number | undefined;
  readonly fuseOptions: readonly string[];
  readonly debug: boolean;
  /** s3:// read-only: follow newer generations this way */
  readonly follow: S3FollowOptions | undefined;
  /** store directories: quiet time before compaction, ms (0: none) */
  readonly compactIdleMs: number;
  readonly s3: S3Options;
  readonly http: HttpSourceOptions;
  readonly workDir: string | undefined;
  readonly publishIdleMs: number | undefined;
  /** log lines of the mount (failed ops, background errors) */
  readonly log: (line: string) => void;
  /**
   * read-write store directories: called at close once everything is committed and durable,
   * before the last compaction pass (the mount server lets `umount` return then)
   */
  readonly onCommitted?: StoreViewOptions["onCommitted"];
}

/** A store opened and mounted: the view served and the mount. */
export interface OpenedMount {
  readonly view: FsView;
  readonly mount: FuseMount;
}

/** Every check, then the mount; on failure nothing stays open or mounted. */
export async function openAndMount(a: OpenMountOptions): Promise<OpenedMount> {
  let view: FsView | undefined;
  try {
    await checkFuseAvailable();
    await checkMountpoint(a.mountpoint, a.fuseOptions.includes("nonempty"));
    for (const o of a.fuseOptions) checkFuseOption(o);
    const log = a.log;
    const opts = { log, fuseOptions: a.fuseOptions, fsName: a.store, debug: a.debug };
    const opened = await openStoreView(a.store, {
      readOnly: a.readOnly,
      readWrite: a.readWrite,
      follow: a.follow,
      cacheBytes: a.cacheBytes,
      fetchAheadBytes: a.fetchAheadBytes,
      purpose: `mount ${a.mountpoint}`,
      log,
      onBackgroundError: (err) => log(`superchunk: background: ${describe(err)}`),
      ...(a.compactIdleMs === 0 ? {} : { compactor: compactor(), compactIdleMs: a.compactIdleMs }),
      ...(a.onCommitted === undefined ? {} : { onCommitted: a.onCommitted }),
      s3: a.s3,
      http: a.http,
      workDir: a.workDir,
      publishIdleMs: a.publishIdleMs,
    });
    view = opened.view;
    if (opened.mode === "read-write") {
      return { view, mount: await mountWritable(opened.view, a.mountpoint, opts) };
    }
    if (opened.mode === "follow" && a.follow !== undefined) {
      return { view, mount: await mountFollowing(opened.view, a.mountpoint, opts, a.follow) };
    }
    return {
      view,
      mount: await mountFsView(view, a.mountpoint, { ...opts, cacheBytes: a.cacheBytes }),
    };
  } catch (err) {
    await view?.close().catch(() => {});
    throw err;
  }
}

function describe(err: unknown): string {
  return err instanceof EngineError ? `${err.code}: ${err.message}` : String(err);
}
