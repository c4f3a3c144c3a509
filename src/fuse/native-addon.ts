/**
 * Loads the native FUSE binding (native/*.c, binding.gyp), only when a mount needs it: nothing
 * here runs at import time, so every command but `mount` works on a machine without libfuse.
 * node-gyp-build picks the file from the package root (dist/src/fuse/ → ../../../): a local
 * build in build/Release (a checkout after `npm run build:native`), else the N-API prebuild
 * the package ships in prebuilds/<platform>-<arch>/. SUPERCHUNK_FUSE_ADDON names another file
 * to load instead (a custom build; tests point it at one that cannot load). A failure is one
 * E_NO_FUSE error that says what to install, not the loader's dlopen text.
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import nodeGypBuild from "node-gyp-build";
import { UnsupportedError } from "../errors.js";

/** Op codes of native/sfuse.h (keep in sync). */
export const OP = {
  init: 0,
  destroy: 1,
  getattr: 2,
  fgetattr: 3,
  readlink: 4,
  mknod: 5,
  mkdir: 6,
  unlink: 7,
  rmdir: 8,
  symlink: 9,
  rename: 10,
  link: 11,
  chmod: 12,
  chown: 13,
  truncate: 14,
  ftruncate: 15,
  open: 16,
  create: 17,
  read: 18,
  write: 19,
  statfs: 20,
  flush: 21,
  release: 22,
  fsync: 23,
  opendir: 24,
  readdir: 25,
  releasedir: 26,
  fsyncdir: 27,
  setxattr: 28,
  getxattr: 29,
  listxattr: 30,
  removexattr: 31,
  access: 32,
  utimens: 33,
  fallocate: 34,
} as const;

/** Name of an op the binding can serve. */
export type OpName = keyof typeof OP;
/** Not a FUSE op: the loop has ended (sent once, last). */
export const OP_EXIT = 100;
/** Not a FUSE op: the invalidation queue reached a barrier (its token comes as the id). */
export const OP_INVALIDATED = 101;

/** The dispatcher the binding calls for every request: (op, id, uid, gid, pid, umask, path, a..e). */
export type Dispatch = (
  op: number,
  id: number,
  uid: number,
  gid: number,
  pid: number,
  umask: number,
  path: Buffer | string | null,
  a: unknown,
  b: unknown,
  c: unknown,
  d: unknown,
  e: unknown,
) => void;

/** Opaque handle of one native mount. */
export type MountHandle = { readonly __nativeMount: unique symbol };

/** The binding's listing cache (native/listing.c; NativeMount.setListingCache). */
export interface ListingCacheStats {
  /** bytes it may hold (0: off) */
  readonly budget: number;
  /** bytes it holds: the listings' allocations and its hash table */
  readonly bytes: number;
  readonly listings: number;
  /** entries of the listings held ("." and ".." included) */
  readonly entries: number;
  /** the most bytes and entries it held at once */
  readonly peakBytes: number;
  readonly peakEntries: number;
  /** readdirs served from it, and those that had to ask the handler */
  readonly hits: number;
  readonly misses: number;
  /** listings dropped to stay within the budget */
  readonly evictions: number;
}

/** The addon's exports (native/binding.c). */
export interface NativeAddon {
  mount(
    mountpoint: string,
    args: string[],
    ops: number[],
    dispatch: Dispatch,
    pathBuffers: boolean,
  ): MountHandle;
  /** false when `id` was already answered */
  reply(m: MountHandle, id: number, result: number, payload?: unknown, extra?: unknown): boolean;
  /** queues fuse_invalidate_path for `path`; false once the loop has ended */
  invalidate(m: MountHandle, path: Buffer | string): boolean;
  /** queues a barrier: OP_INVALIDATED(token) comes once the paths queued before are done */
  invalidateBarrier(m: MountHandle, token: number): boolean;
  lazyUnmount(mountpoint: string, cb: (errno: number) => void): void;
  /** malloc_trim: free heap memory back to the system; true when some was */
  trimHeap?(): boolean;
  /** getxattr of these names (of absent-xattrs.ts) answers ENODATA in the binding, without JS */
  setAbsentXattrs?(m: MountHandle, names: readonly string[]): void;
  /** keeps listings by path up to `bytes` and serves readdir from them without JS (0: off) */
  setListingCache?(m: MountHandle, bytes: number): void;
  listingCacheStats?(m: MountHandle): ListingCacheStats;
  /** true when an opendir's keep_cache and cache_readdir reach the kernel (native/dircache.c) */
  kernelDirCache?(m: MountHandle): boolean;
  /** true when the kernel opens directories without a request (native/dircache.c) */
  dirOpensInKernel?(m: MountHandle): boolean;
  /** hands over a whole file read ahead, answered without JS (native/preload.c) */
  preload?(m: MountHandle, path: Buffer, data: Buffer): boolean;
  /** bytes of preloaded files kept at most; 0 turns preloading off */
  preloadLimit?(m: MountHandle, bytes: number): void;
  /** [reads answered, bytes answered, files preloaded, files dropped unread] */
  preloadStats?(m: MountHandle): number[];
  /** drops every attribute the binding keeps (`attr_cache`) before a change */
  dropAttrs?(m: MountHandle): void;
  /** [getattrs answered, the most attributes kept at once, drops] */
  attrStats?(m: MountHandle): number[];
  readonly UTIME_NOW: number;
  readonly UTIME_OMIT: number;
  /** 1 when the binding takes its own `cache_readdir` option (an older build does not) */
  readonly CACHE_READDIR?: number;
  /** 1 when the binding takes its own `no_posix_acl` option */
  readonly NO_POSIX_ACL?: number;
  /** 1 when the binding takes its own `open_rdonly` option */
  readonly OPEN_RDONLY?: number;
  /** 1 when the binding takes its own `attr_cache` option */
  readonly ATTR_CACHE?: number;
}

/** The package root: where build/ and prebuilds/ are. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
/** What to install when libfuse or its helpers are missing (Debian and Ubuntu). */
export const FUSE_INSTALL_HINT = "apt-get install fuse3";
let addon: NativeAddon | undefined;

/** The loaded addon; UnsupportedError E_NO_FUSE when it has no build here or libfuse is missing. */
export function loadNativeAddon(env: NodeJS.ProcessEnv = process.env): NativeAddon {
  if (addon) return addon;
  const file = nativeAddonFile(env);
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    throw loadError(file, err);
  }
  return addon;
}

/**
 * Loads the binding, when it can, for what it does at load: glibc's mmap threshold fixed at
 * 1 MiB, so buffers of a MiB and more (super-chunks, read windows) go back to the system when
 * freed instead of fragmenting the heaps of many threads. Pack of 200,000 small files peaked
 * at 430 MiB without it, 300 MiB with it. False (and nothing changed) without a binding.
 */
export function fixAllocatorThreshold(env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    loadNativeAddon(env);
    return true;
  } catch {
    return false;
  }
}

/** The file to load: SUPERCHUNK_FUSE_ADDON, else node-gyp-build's choice for this platform. */
export function nativeAddonFile(env: NodeJS.ProcessEnv): string {
  const forced = env.SUPERCHUNK_FUSE_ADDON;
  if (forced) return forced;
  try {
    return nodeGypBuild.path(PACKAGE_ROOT);
  } catch (err) {
    const platform = `${process.platform}-${process.arch}`;
    throw new UnsupportedError(
      "E_NO_FUSE",
      `mount needs the FUSE binding, and ${PACKAGE_ROOT} has none for ${platform} ` +
        "(the package ships one for linux-x64; a checkout builds it with 'npm run build:native')",
      { platform, root: PACKAGE_ROOT },
      err,
    );
  }
}

/** The E_NO_FUSE error for a binding file that would not load. */
function loadError(file: string, err: unknown): UnsupportedError {
  const text = err instanceof Error ? err.message : String(err);
  const lib = /(libfuse3?\.so[.\d]*): cannot open shared object file/.exec(text)?.[1];
  const message =
    lib !== undefined
      ? `mount needs libfuse 3 (${lib} is not installed): install it with '${FUSE_INSTALL_HINT}'`
      : `mount cannot load the FUSE binding ${file}: ${firstLine(text)}`;
  return new UnsupportedError(
    "E_NO_FUSE",
    message,
    { addon: file, install: FUSE_INSTALL_HINT },
    err,
  );
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}
