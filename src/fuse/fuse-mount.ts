/**
 * fuse/: serves a store through the kernel with superchunk's own libfuse 3 binding
 * (native-fuse.ts; spec/FUSE.md). This folder is the only importer of the binding and the only place errno
 * exists (errno.ts).
 *
 * Terms: a *mount* is one live FUSE file system at a mountpoint, served by this process; the
 * *ops* answer the kernel's requests: fuse-ops.ts from a read-only FsView, fuse-rw-ops.ts from
 * a WritableStore. The binding runs libfuse's multi-threaded loop on its own threads and hands
 * every request to the JS thread, so a process serving a mount must not block its event loop,
 * nor read its own mount with sync calls.
 *
 * Mount options (fuse-options.ts): always `use_ino` (st_ino is the store's inode number, so
 * hard links share one), `default_permissions` (the kernel checks mode bits) and
 * `subtype=superchunk` (type `fuse.superchunk` in the mount table). Read-only: `ro`,
 * `kernel_cache` and long entry/attr timeouts (the store never changes under the mount);
 * following an S3 store's pointer (`--follow`): no `kernel_cache` and 1 s timeouts instead.
 * Read-write: `max_write` (1 MiB), `kernel_cache` and the same long timeouts; the other
 * names of a changed hard-linked file are invalidated before the change is answered
 * (kernel-cache.ts).
 */
import { readdir, realpath, stat } from "node:fs/promises";
import { IoError, NotFoundError, UsageError } from "../errors.js";
import type { FsView } from "../reader/fs-view.js";
import type { WritableStore } from "../writer/index.js";
import { absentXattrs } from "./absent-xattrs.js";
import { errnoFor } from "./errno.js";
import { FuseOps } from "./fuse-ops.js";
import { type FuseOptionParams, fuseOptionList, type MountMode } from "./fuse-options.js";
import { checkFuseAvailable } from "./fuse-runtime.js";
import { FuseRwOps } from "./fuse-rw-ops.js";
import { findMount } from "./mount-table.js";
import { mountNative } from "./native-fuse.js";
import type { NativeFuseOps, NativeMount } from "./native-types.js";
import type { OpStatsReport } from "./op-stats.js";
import { runUnmount } from "./unmount-cmd.js";

/** Options of a mount. */
export interface MountOptions extends FuseOptionParams {
  /** receives the log lines of failed ops (damaged super-chunks, unexpected errors) */
  log(line: string): void;
  /** ms to wait for the kernel to start the file system; default 30 000 */
  readyTimeoutMs?: number;
  /** libfuse debug tracing on stderr */
  debug?: boolean;
  /**
   * read-only mounts of a store that cannot change: bytes of listings the binding keeps and
   * answers readdirs from; default LISTING_CACHE_BYTES (tests give a small one)
   */
  listingCacheBytes?: number;
  /**
   * the mount's cache budget (--cache-size): the binding's listings keep at most a sixteenth
   * of it and its preloaded files a thirty-second (both within the reader's slack)
   */
  cacheBytes?: number;
}

/** A part of the mount's cache budget, at most `max`. */
function budgetShare(opts: MountOptions, max: number, divisor: number): number {
  return opts.cacheBytes === undefined ? max : Math.min(max, Math.floor(opts.cacheBytes / divisor));
}

/** A live mount served by this process. */
export interface FuseMount {
  /** the resolved absolute mountpoint */
  readonly mountpoint: string;
  readonly ops: { readonly openFiles: number };
  /** resolves once the mount is gone: unmounted by us or from outside (fusermount3 -u) */
  readonly gone: Promise<void>;
  /**
   * Unmounts (lazily: a process with a file open keeps it alive until it closes it) and
   * resolves once the loop has ended and every request is answered; idempotent.
   */
  unmount(): Promise<void>;
  /** the requests served so far, by op */
  opStats(): OpStatsReport;
}

const DEFAULT_READY_TIMEOUT_MS = 30_000;
/**
 * Listings the binding keeps for a read-only mount whose store cannot change: about 110
 * bytes an entry plus its name, so 32 MiB holds some 250 000 entries (a kernel source tree
 * has 90 000), well within the 100 MiB a mount may use beyond --cache-size.
 */
export const LISTING_CACHE_BYTES = 32 << 20;
/** Whole files read ahead of a walk the binding keeps (read-preload.ts), at most. */
export const PRELOAD_BYTES = 16 << 20;

export { checkFuseAvailable } from "./fuse-runtime.js";

/**
 * Resolves a mountpoint and checks it can take a mount: it exists, is a directory, is empty
 * and is not already a mount point. Returns the absolute real path.
 */
export async function checkMountpoint(mountpoint: string, allowNonEmpty = false): Promise<string> {
  let abs: string;
  try {
    abs = await realpath(mountpoint);
  } catch (err) {
    throw new NotFoundError(
      "E_NOT_FOUND",
      `mountpoint ${mountpoint} does not exist`,
      { mountpoint },
      err,
    );
  }
  if (!(await stat(abs)).isDirectory()) {
    throw new UsageError("E_USAGE", `mountpoint ${mountpoint} is not a directory`, { mountpoint });
  }
  if (await findMount(abs)) {
    throw new UsageError(
      "E_MOUNT_BUSY",
      `mountpoint ${mountpoint} is busy: something is already mounted there`,
      { mountpoint },
    );
  }
  if (!allowNonEmpty && (await readdir(abs)).length > 0) {
    throw new UsageError("E_DEST_NOT_EMPTY", `mountpoint ${mountpoint} is not empty`, {
      mountpoint,
    });
  }
  return abs;
}

/**
 * Mounts `view` read-only at `mountpoint` and resolves once the kernel has started it.
 * @example
 * const m = await mountFsView(view, "/mnt/x", { log: (l) => console.error(l) });
 * await m.unmount();
 */
export function mountFsView(view: FsView, mountpoint: string, opts: MountOptions) {
  const kernelCache = opts.kernelCache !== false;
  const preloadBytes = budgetShare(opts, PRELOAD_BYTES, 32);
  const ops = new FuseOps(view, { log: opts.log, kernelCache, preloadBytes });
  // a store that never changes under the mount: the xattrs none of its files has are
  // answered by the binding (absent-xattrs.ts), and so are the listings JS gave once
  const anyNamed = kernelCache ? view.anyXattrNamed?.bind(view) : undefined;
  const onMounted = (m: NativeMount) => {
    if (anyNamed !== undefined) m.setAbsentXattrs(absentXattrs(anyNamed));
    if (kernelCache) {
      m.setListingCache(opts.listingCacheBytes ?? budgetShare(opts, LISTING_CACHE_BYTES, 16));
    }
    ops.attach(m);
  };
  return mountOps(ops, ops.handlers(), mountpoint, opts, "read-only", onMounted);
}

/**
 * Mounts `store` read-write at `mountpoint`. The caller closes the store once the mount is
 * gone (WritableStore.close commits and freezes what is still open).
 * @example
 * const store = await WritableStore.open(dir);
 * const m = await mountWritable(store, "/mnt/x", { log: (l) => console.error(l) });
 * await m.unmount();
 * await store.close();
 */
export function mountWritable(store: WritableStore, mountpoint: string, opts: MountOptions) {
  const preloadBytes = budgetShare(opts, PRELOAD_BYTES, 32);
  const ops = new FuseRwOps(store, { log: opts.log, preloadBytes });
  return mountOps(ops, ops.handlers(), mountpoint, opts, "read-write", (m) => ops.attach(m));
}

async function mountOps(
  ops: { readonly openFiles: number },
  handlers: NativeFuseOps<Buffer>,
  mountpoint: string,
  opts: MountOptions,
  mode: MountMode,
  onMounted?: (m: NativeMount) => void,
): Promise<FuseMount> {
  await checkFuseAvailable();
  const abs = await checkMountpoint(mountpoint, opts.fuseOptions?.includes("nonempty"));
  const options = fuseOptionList(opts, mode);
  if (opts.debug === true) options.push("-d");
  const timeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const m = await withTimeout(
    mountNative(abs, handlers, options, { errnoOf: (e) => errnoFor(e).errno }),
    abs,
    timeoutMs,
  );
  onMounted?.(m);
  return {
    mountpoint: abs,
    ops,
    gone: m.gone,
    unmount: () => unmountNative(m),
    opStats: () => m.opStats(),
  };
}

/** The mount, or E_IO (and nothing left mounted) when it is not ready within `timeoutMs`. */
async function withTimeout(
  ready: Promise<NativeMount>,
  abs: string,
  timeoutMs: number,
): Promise<NativeMount> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new IoError("E_IO", `mount at ${abs} did not become ready in ${timeoutMs} ms`, {
        mountpoint: abs,
      });
      unmountPath(abs, true)
        .catch(() => {})
        .then(() => reject(err));
    }, timeoutMs);
  });
  try {
    return await Promise.race([ready, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function unmountNative(m: NativeMount): Promise<void> {
  try {
    await m.unmount();
  } catch (err) {
    // the mount may have vanished meanwhile: that is success too
    if ((await findMount(m.mountpoint)) !== undefined) throw err;
    await m.gone;
  }
}

/**
 * Unmounts whatever FUSE file system is at `mountpoint` with `fusermount3 -u` (or
 * `fusermount -u`, or `umount`; lazily when `lazy`), from any process. A busy mount fails
 * with E_MOUNT_BUSY unless lazy.
 */
export async function unmountPath(mountpoint: string, lazy = false): Promise<void> {
  const failed = await runUnmount(mountpoint, lazy);
  if (failed === undefined) return;
  const text = failed.stderr || failed.error.message;
  const busy = /busy/i.test(text);
  throw new IoError(
    busy ? "E_MOUNT_BUSY" : "E_IO",
    `cannot unmount ${mountpoint}: ${text}`,
    { mountpoint, busy },
    failed.error,
  );
}
