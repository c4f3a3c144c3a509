/**
 * superchunk's own FUSE binding: libfuse 3's high-level (path) API through a small N-API addon
 * (native/*.c, binding.gyp), serving every mount (it replaced fuse-native, kept only as a
 * dev dependency for scripts/fuse-binding-bench.ts). spec/FUSE.md gives the choices.
 *
 * What it gives over fuse-native: the caller (uid, gid, pid, umask) on every op; nanosecond
 * times in getattr and utimens, with UTIME_NOW / UTIME_OMIT passed through as "now" / "omit";
 * `use_ino`, `fallocate`, open/create flags and per-open direct_io/keep_cache; read and write
 * buffers that are views of libfuse's memory (no copies); raw-byte paths and names; a
 * multi-threaded loop (fuse_loop_mt) with many requests in flight, since handlers are
 * async; rename flags (RENAME_NOREPLACE / _EXCHANGE / _WHITEOUT reach the handler); writes of
 * up to 1 MiB per request; readdirplus (a readdir answer with stats gives the kernel each
 * entry's attributes, so `ls -l` needs no lookup per entry); `invalidate(path)` to drop the
 * kernel's cached attributes and pages of a path. Errors: a handler throws or rejects; `errnoOf` turns that into a negative errno.
 *
 * Threads: libfuse workers block while the JS thread answers, so a process serving a mount must
 * not read that mount with synchronous calls (it would deadlock itself).
 */
import { constants as osc } from "node:os";
import { IoError } from "../errors.js";
import { loadNativeAddon, type MountHandle, type NativeAddon } from "./native-addon.js";
import { makeDispatch, utimeMarks, wantedOps } from "./native-ops.js";
import type { NativeFuseOps, NativeMount, NativeMountSettings } from "./native-types.js";
import { OpStats, type OpStatsReport } from "./op-stats.js";
import { runUnmount } from "./unmount-cmd.js";

export { timeFromNs, timeToNs } from "./native-encode.js";
export type * from "./native-types.js";

const EIO = -osc.errno.EIO;

/** Default errno of a thrown value: its numeric `errno` (sign ignored), else EIO. */
function defaultErrno(err: unknown): number {
  const e = (err as { errno?: unknown } | null)?.errno;
  return typeof e === "number" && e !== 0 ? -Math.abs(e) : EIO;
}

/** libfuse argv for the options: each `-o` option on its own, commas in values escaped. */
export function nativeFuseArgs(options: string[]): string[] {
  return options.flatMap((o) => (o === "-d" || o === "-s" ? [o] : ["-o", o.replace(/,/g, "\\,")]));
}

async function fusermountUnmount(mountpoint: string): Promise<void> {
  const failed = await runUnmount(mountpoint, true);
  if (failed !== undefined) throw failed.error;
}

/** Unmounts lazily: umount2(MNT_DETACH), or fusermount3 when not permitted; EINVAL = not mounted. */
async function lazyUnmount(mountpoint: string): Promise<void> {
  const addon = loadNativeAddon();
  const errno = await new Promise<number>((r) => addon.lazyUnmount(mountpoint, r));
  if (errno === 0 || errno === osc.errno.EINVAL || errno === osc.errno.ENOENT) return;
  if (errno === osc.errno.EPERM) return fusermountUnmount(mountpoint);
  throw new IoError("E_IO", `unmount of ${mountpoint} failed (errno ${errno})`, {
    mountpoint,
    errno,
  });
}

/**
 * Mounts `ops` at `mountpoint` with the libfuse options `options` (e.g. "use_ino",
 * "default_permissions", "fsname=x", "subtype=superchunk", "attr_timeout=1", "max_write=N";
 * "-d" for debug tracing) and resolves once the kernel has sent INIT.
 * Throws UnsupportedError E_NO_FUSE when the addon is not built, IoError E_IO when libfuse
 * refuses the mount (its reason goes to stderr).
 * @example
 * const m = await mountNative("/mnt/x", { getattr: (p) => statOf(p) }, ["use_ino"]);
 * await m.unmount();
 */
export function mountNative(
  mountpoint: string,
  ops: NativeFuseOps<Buffer>,
  options: string[],
  settings?: NativeMountSettings & { paths?: "buffer" },
): Promise<NativeMount>;
export function mountNative(
  mountpoint: string,
  ops: NativeFuseOps<string>,
  options: string[],
  settings: NativeMountSettings & { paths: "string" },
): Promise<NativeMount>;
export function mountNative(
  mountpoint: string,
  ops: NativeFuseOps<Buffer> | NativeFuseOps<string>,
  options: string[],
  settings: NativeMountSettings = {},
): Promise<NativeMount> {
  const addon = loadNativeAddon();
  utimeMarks.now = addon.UTIME_NOW;
  utimeMarks.omit = addon.UTIME_OMIT;
  const live = new LiveMount(addon, mountpoint, settings);
  // an older build of the binding would hand its own options to libfuse, which refuses them
  const own = {
    cache_readdir: addon.CACHE_READDIR,
    no_posix_acl: addon.NO_POSIX_ACL,
    open_rdonly: addon.OPEN_RDONLY,
    attr_cache: addon.ATTR_CACHE,
  };
  const known = options.filter((o) => !(o in own) || own[o as keyof typeof own] === 1);
  live.start(ops as NativeFuseOps<Buffer | string>, known);
  return live.ready;
}

/** How often a serving mount gives free heap memory back (trimHeap). */
const TRIM_INTERVAL_MS = 2000;

/** One mount's state: the native handle, INIT seen, loop ended. */
class LiveMount implements NativeMount {
  readonly gone: Promise<void>;
  readonly ready: Promise<NativeMount>;
  private handle: MountHandle | undefined;
  private started = false;
  private ended = false;
  private markGone!: () => void;
  private markReady!: (m: NativeMount) => void;
  private fail!: (err: unknown) => void;
  /** invalidation barriers queued and not reached yet: token → resolve */
  private readonly barriers = new Map<number, () => void>();
  private nextToken = 1;
  private readonly stats = new OpStats();
  private trimTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly addon: NativeAddon,
    readonly mountpoint: string,
    private readonly settings: NativeMountSettings,
  ) {
    this.gone = new Promise((r) => {
      this.markGone = r;
    });
    this.ready = new Promise((resolve, reject) => {
      this.markReady = resolve;
      this.fail = reject;
    });
  }

  opStats(): OpStatsReport {
    const listings = this.listingCache();
    const r = this.stats.report();
    const kernelDirCache =
      this.handle !== undefined && this.addon.kernelDirCache?.(this.handle) === true;
    const dirOpensInKernel =
      this.handle !== undefined && this.addon.dirOpensInKernel?.(this.handle) === true;
    const withListings = {
      ...r,
      kernelDirCache,
      dirOpensInKernel,
      ...(listings === undefined ? {} : { listings }),
    };
    const p = this.handle === undefined ? undefined : this.addon.preloadStats?.(this.handle);
    const [reads = 0, bytes = 0, files = 0, dropped = 0] = p ?? [];
    const a = this.handle === undefined ? undefined : this.addon.attrStats?.(this.handle);
    const [answered = 0, kept = 0, drops = 0] = a ?? [];
    return {
      ...withListings,
      ...(files === 0 ? {} : { preloaded: { reads, bytes, files, dropped } }),
      ...(answered + kept + drops === 0 ? {} : { attrs: { answered, kept, drops } }),
    };
  }

  preload(path: Buffer, data: Buffer): boolean {
    if (this.handle === undefined || this.ended) return false;
    return this.addon.preload?.(this.handle, path, data) === true;
  }

  preloadLimit(bytes: number): void {
    if (this.handle === undefined || this.ended) return;
    this.addon.preloadLimit?.(this.handle, bytes);
  }

  dropAttrs(): void {
    if (this.handle === undefined || this.ended) return;
    this.addon.dropAttrs?.(this.handle);
  }

  setAbsentXattrs(names: readonly string[]): void {
    if (this.handle === undefined || this.ended) return;
    // a binding built before it existed answers them through JS, as before
    this.addon.setAbsentXattrs?.(this.handle, names);
  }

  setListingCache(bytes: number): void {
    if (this.handle === undefined || this.ended) return;
    this.addon.setListingCache?.(this.handle, bytes);
  }

  listingCache() {
    if (this.handle === undefined) return undefined;
    return this.addon.listingCacheStats?.(this.handle);
  }

  invalidate(path: Buffer | string): boolean {
    return this.handle !== undefined && !this.ended && this.addon.invalidate(this.handle, path);
  }

  invalidated(): Promise<void> {
    const token = this.nextToken++;
    if (this.handle === undefined || this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      this.barriers.set(token, resolve);
      if (!this.addon.invalidateBarrier(this.handle!, token)) this.#barrierReached(token);
    });
  }

  #barrierReached(token: number): void {
    const resolve = this.barriers.get(token);
    this.barriers.delete(token);
    resolve?.();
  }

  async unmount(): Promise<void> {
    if (!this.ended) await lazyUnmount(this.mountpoint);
    await this.gone;
  }

  start(ops: NativeFuseOps<Buffer | string>, options: string[]): void {
    const dispatch = makeDispatch(
      ops,
      {
        reply: (id, result, payload, extra) => {
          this.addon.reply(this.handle!, id, result, payload, extra);
        },
        errnoOf: (op, err) => this.errnoOf(op, err),
        onInit: () => {
          this.started = true;
          this.#trimWhileServing();
          this.markReady(this);
        },
        onExit: (loopResult) => this.onExit(loopResult),
        onInvalidated: (token) => this.#barrierReached(token),
      },
      this.stats,
    );
    try {
      const args = nativeFuseArgs(options);
      const pathBuffers = this.settings.paths !== "string";
      this.handle = this.addon.mount(this.mountpoint, args, wantedOps(ops), dispatch, pathBuffers);
    } catch (err) {
      const data = { mountpoint: this.mountpoint, options };
      this.fail(new IoError("E_IO", `cannot mount ${this.mountpoint}`, data, err));
    }
  }

  private errnoOf(op: string, err: unknown): number {
    const e = (this.settings.errnoOf ?? defaultErrno)(err);
    if (this.settings.onError && defaultErrno(err) === EIO) this.settings.onError(op, err);
    return e < 0 ? e : EIO;
  }

  /**
   * Every TRIM_INTERVAL_MS in which requests were answered, the heap's free memory goes back
   * to the system, so the mount's resident size follows what its caches hold.
   */
  #trimWhileServing(): void {
    let trimmedAt = -1;
    this.trimTimer = setInterval(() => {
      const last = this.stats.lastAnswerAt;
      if (last <= trimmedAt) return;
      trimmedAt = last;
      this.addon.trimHeap?.();
    }, TRIM_INTERVAL_MS);
    this.trimTimer.unref();
  }

  private onExit(loopResult: number): void {
    this.ended = true;
    clearInterval(this.trimTimer);
    for (const token of [...this.barriers.keys()]) this.#barrierReached(token);
    // the threadsafe function is released right after this call; let it finalize first
    setImmediate(() => {
      this.markGone();
      this.settings.onUnmounted?.();
      if (this.started) return;
      const data = { mountpoint: this.mountpoint, loopResult };
      this.fail(new IoError("E_IO", "the FUSE loop ended before INIT", data));
    });
  }
}
