/**
 * Loads the native FUSE binding (build/Release/superchunk_fuse.node, built by node-gyp from
 * native/ and binding.gyp) relative to this compiled file: dist/src/fuse/ → ../../../build/.
 */
import { createRequire } from "node:module";
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
  readonly UTIME_NOW: number;
  readonly UTIME_OMIT: number;
}

const ADDON_PATH = "../../../build/Release/superchunk_fuse.node";
let addon: NativeAddon | undefined;

/** The loaded addon; UnsupportedError E_NO_FUSE when it is not built or libfuse is missing. */
export function loadNativeAddon(): NativeAddon {
  if (addon) return addon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (err) {
    throw new UnsupportedError(
      "E_NO_FUSE",
      "the native FUSE binding is not available (build it with node-gyp; needs libfuse3)",
      { addon: new URL(ADDON_PATH, import.meta.url).pathname },
      err,
    );
  }
  return addon;
}
