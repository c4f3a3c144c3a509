/**
 * Types of the native FUSE binding (see native-fuse.ts). Paths are raw bytes (`Buffer`) unless
 * the mount asks for UTF-8 strings; times are seconds + nanoseconds; file handles are numbers the
 * file system chooses in open/create/opendir and gets back on every later op of that handle.
 */
import type { ListingCacheStats } from "./native-addon.js";
import type { OpStatsReport } from "./op-stats.js";

export type { ListingCacheStats };

/** Who made a request: from libfuse's fuse_get_context() of the kernel request. */
export interface FuseCaller {
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
  /** umask of the calling process (protocol 7.12+; 0 otherwise) */
  readonly umask: number;
}

/** A point in time: whole seconds since the epoch plus 0..999 999 999 nanoseconds. */
export interface FuseTime {
  sec: number;
  nsec: number;
}

/** A time given to utimens: a time, "now" (UTIME_NOW) or "omit" (UTIME_OMIT: leave it). */
export type FuseTimeArg = FuseTime | "now" | "omit";

/** A time in a stat answer: {sec, nsec} or a bigint count of nanoseconds since the epoch. */
export type StatTime = FuseTime | bigint;

/** What getattr/fgetattr answer. Numbers beyond 2^53 must be bigint (ino, size). */
export interface NativeStat {
  /** inode number; the kernel shows it when the mount has the `use_ino` option */
  ino: number | bigint;
  /** file type and permission bits (S_IFREG | 0o644, ...) */
  mode: number;
  nlink?: number;
  uid?: number;
  gid?: number;
  rdev?: number;
  size?: number | bigint;
  /** 512-byte blocks; default ceil(size / 512) */
  blocks?: number;
  /** preferred I/O size; default 4096 */
  blksize?: number;
  atime: StatTime;
  mtime: StatTime;
  ctime: StatTime;
}

/** What statfs answers; missing fields are 0 (namemax: 255, bsize/frsize: 4096). */
export interface NativeStatfs {
  bsize?: number;
  frsize?: number;
  blocks?: number;
  bfree?: number;
  bavail?: number;
  files?: number;
  ffree?: number;
  favail?: number;
  fsid?: number;
  flag?: number;
  namemax?: number;
}

/**
 * What open/create/opendir answer: a handle, or a handle with per-open flags. `keepCache`
 * keeps the kernel's cached pages (of a directory: its cached listing) across opens;
 * `cacheDir` (opendir only) lets the kernel cache the directory's listing and serve later
 * readdirs of it from that cache.
 */
export type OpenAnswer =
  | number
  | {
      fh: number;
      directIo?: boolean;
      keepCache?: boolean;
      nonseekable?: boolean;
      cacheDir?: boolean;
      /** create only: the new file's attributes (libfuse's getattr after it stays in the binding) */
      stat?: NativeStat;
    };

/** One readdir entry: a name (raw bytes or UTF-8), optionally with its stat (ino, type). */
export type DirEntry<P> = P | string | { name: P | string; stat?: NativeStat };

/** INIT parameters the kernel negotiated. */
export interface ConnInfo {
  protoMajor: number;
  protoMinor: number;
  maxWrite: number;
  maxReadahead: number;
}

type R<T> = T | Promise<T>;
/** Ops with nothing to answer may also return a negative errno instead of throwing. */
// biome-ignore lint/suspicious/noConfusingVoidType: handlers with nothing to answer return void
type Done = R<void | number>;
/**
 * A change that may answer the attributes after it: the binding serves the getattr libfuse
 * makes right after a SETATTR's change from them, without asking again.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: handlers with nothing to answer return void
type Changed = R<void | number | NativeStat>;

/**
 * The file system's handlers. Every handler may be async. Failure: throw (or reject with) a
 * value whose errno the mount's `errnoOf` gives (default: its numeric `errno` property, sign
 * ignored, else EIO); handlers answering a number or nothing may also return a negative errno.
 * An absent handler leaves the op unimplemented (ENOSYS, or libfuse's fallback). `path` is null
 * for handle ops on a file unlinked while open when libfuse has no path for it.
 * Buffers given to read/write/setxattr are views of libfuse memory, valid until the handler
 * settles and detached (zero length) afterwards: copy what must be kept.
 */
export interface NativeFuseOps<P extends Buffer | string = Buffer> {
  init?(info: ConnInfo): R<void>;
  destroy?(): R<void>;
  getattr?(path: P, c: FuseCaller): R<NativeStat>;
  fgetattr?(path: P | null, fh: number, c: FuseCaller): R<NativeStat>;
  readlink?(path: P, c: FuseCaller): R<Buffer | string>;
  mknod?(path: P, mode: number, rdev: number, c: FuseCaller): Done;
  mkdir?(path: P, mode: number, c: FuseCaller): Done;
  unlink?(path: P, c: FuseCaller): Done;
  rmdir?(path: P, c: FuseCaller): Done;
  /** creates `path` as a symlink whose content is `target` */
  symlink?(path: P, target: P, c: FuseCaller): Done;
  /** flags of renameat2: RENAME_NOREPLACE 1, RENAME_EXCHANGE 2, RENAME_WHITEOUT 4 */
  rename?(from: P, to: P, flags: number, c: FuseCaller): Done;
  /** creates `to` as a new name of `from` */
  link?(from: P, to: P, c: FuseCaller): Done;
  chmod?(path: P, mode: number, c: FuseCaller): Changed;
  /** -1 leaves that id unchanged */
  chown?(path: P, uid: number, gid: number, c: FuseCaller): Changed;
  truncate?(path: P, size: number, c: FuseCaller): Changed;
  ftruncate?(path: P | null, size: number, fh: number, c: FuseCaller): Changed;
  open?(path: P, flags: number, c: FuseCaller): R<OpenAnswer>;
  create?(path: P, mode: number, flags: number, c: FuseCaller): R<OpenAnswer>;
  /** fills `buf` (buf.length bytes wanted) from `offset`; answers the count (short = EOF) */
  read?(path: P | null, fh: number, buf: Buffer, offset: number, c: FuseCaller): R<number>;
  /** answers the count written (normally data.length) */
  write?(path: P | null, fh: number, data: Buffer, offset: number, c: FuseCaller): R<number>;
  statfs?(path: P, c: FuseCaller): R<NativeStatfs>;
  flush?(path: P | null, fh: number, c: FuseCaller): Done;
  release?(path: P | null, fh: number, flags: number, c: FuseCaller): Done;
  fsync?(path: P | null, datasync: boolean, fh: number, c: FuseCaller): Done;
  opendir?(path: P, flags: number, c: FuseCaller): R<OpenAnswer | undefined>;
  /**
   * the whole directory; "." and ".." are the file system's to list. With a stat for every
   * entry the kernel gets them as readdirplus attributes (no lookup per entry afterwards)
   */
  readdir?(path: P, fh: number, c: FuseCaller): R<DirEntry<P>[]>;
  releasedir?(path: P | null, fh: number, c: FuseCaller): Done;
  fsyncdir?(path: P | null, datasync: boolean, fh: number, c: FuseCaller): Done;
  setxattr?(path: P, name: string, value: Buffer, flags: number, c: FuseCaller): Done;
  /** the whole value; the binding answers size probes and ERANGE itself */
  getxattr?(path: P, name: string, c: FuseCaller): R<Buffer | string>;
  /** all names; the binding answers size probes and ERANGE itself */
  listxattr?(path: P, c: FuseCaller): R<string[] | Buffer>;
  removexattr?(path: P, name: string, c: FuseCaller): Done;
  access?(path: P, mask: number, c: FuseCaller): Done;
  utimens?(path: P, atime: FuseTimeArg, mtime: FuseTimeArg, c: FuseCaller): Changed;
  fallocate?(
    path: P | null,
    mode: number,
    offset: number,
    length: number,
    fh: number,
    c: FuseCaller,
  ): Done;
}

/** Settings of a native mount besides the libfuse options. */
export interface NativeMountSettings {
  /** how paths reach handlers: "buffer" (raw bytes, default) or "string" (UTF-8, lossy) */
  paths?: "buffer" | "string";
  /** negative errno for a thrown value; default: its numeric `errno` (sign ignored), else EIO */
  errnoOf?(err: unknown): number;
  /** hears thrown values that carry no errno (bugs); default: ignored */
  onError?(op: string, err: unknown): void;
  /** called once when the mount is gone, whoever unmounted it */
  onUnmounted?(): void;
}

/** A live mount served by this process. */
export interface NativeMount {
  readonly mountpoint: string;
  /** resolves once the FUSE loop has ended and the binding let go (unmounted by us or outside) */
  readonly gone: Promise<void>;
  /**
   * Drops the kernel's cached attributes and pages of `path` (libfuse's fuse_invalidate_path),
   * asynchronously, on a thread of the binding's: safe to call from a handler. False once the
   * mount has ended. A path the kernel holds nothing of costs a lookup in libfuse's table.
   */
  invalidate(path: Buffer | string): boolean;
  /** the requests served so far, by op (op-stats.ts) */
  opStats(): OpStatsReport;
  /**
   * Tells the binding which xattrs no file has (of absent-xattrs.ts), so it answers a getxattr
   * of them with ENODATA itself; call it again without a name before storing that name.
   */
  setAbsentXattrs(names: readonly string[]): void;
  /**
   * Only for a mount whose tree cannot change: the binding keeps each listing a readdir
   * handler gave, by the directory's path, up to `bytes` (least recently used dropped first;
   * 0 turns it off), and serves later readdirs of that path without calling the handler.
   */
  setListingCache(bytes: number): void;
  /** what the binding's listing cache holds; undefined from a build without one */
  listingCache(): ListingCacheStats | undefined;
  /**
   * Hands the binding the whole of a file (its bytes already read and checked) before the
   * kernel asks: reads of `path` are then answered on the libfuse thread, without a trip to
   * JS, until one reaches the file's end. Only for files that cannot change while mounted.
   * False when not taken (preloading off, the file bigger than the limit, the mount ended,
   * or a binding without it).
   */
  preload(path: Buffer, data: Buffer): boolean;
  /**
   * Bytes of preloaded files the binding keeps at most; 0 (the start) is off. When full,
   * files unread for a second make room (oldest first), else a new one is refused.
   */
  preloadLimit(bytes: number): void;
  /**
   * Drops every attribute the binding keeps (`-o attr_cache`, native/attrcache.c), and any
   * answer still being computed, so the next getattr of each path reaches the handler:
   * called before anything that may change a file's attributes is answered.
   */
  dropAttrs(): void;
  /**
   * Resolves once every path given to `invalidate` before this call has been handed to the
   * kernel (at once when the mount has ended). A handler may await it before answering, so
   * the caller sees the kernel's caches dropped when its system call returns.
   */
  invalidated(): Promise<void>;
  /**
   * Lazily unmounts (umount2 MNT_DETACH, or `fusermount3 -uz` when not permitted) and resolves
   * once the loop has ended; idempotent. A process keeping a file open in the mount delays the
   * end until it closes it (lazy unmount semantics).
   */
  unmount(): Promise<void>;
}
