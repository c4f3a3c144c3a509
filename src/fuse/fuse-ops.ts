/**
 * The read-only FUSE operations over an FsView, as a handler table of the native binding
 * (native-fuse.ts): paths are raw bytes, handlers answer values or throw. Every handler runs
 * through OpGuard, which logs what deserves a line (damaged data: EIO plus the super-chunk);
 * the mount's `errnoOf` (errnoFor) turns the thrown value into the errno. Open files get a
 * handle holding the inode and a ReadPattern, so reads skip path resolution and sequential
 * readers trigger prefetch; an open also tells the view which files are about to be read
 * (dir-scan.ts). Reads go straight into the kernel's buffer (`readInto`) and answer
 * synchronously when the data is cached. Writes answer EROFS.
 *
 * `flush` and `fsync` are left out on purpose: libfuse then answers ENOSYS, which the kernel
 * takes as "nothing to do" once and never sends again, saving a round trip per close.
 *
 * With `kernelCache` (a read-only mount of a store that cannot change under it) the kernel
 * keeps what it learnt: directories open in the binding alone (no opendir handler), with
 * their listings cached where libfuse passes that on (3.16.1 and later), and the first
 * `open` that passes its checks answers ENOSYS, which the kernel takes as "opens need no
 * server" for the rest of the mount: no OPEN nor RELEASE round trip per file, cached pages
 * kept. Reads then come without a handle: the read pattern is kept per inode, and a read
 * at offset 0 gives the open-time hint (spec/FUSE.md, "Walking a read-only mount").
 */

import { constants as fsc } from "node:fs";
import { EngineError } from "../errors.js";
import type { FsView } from "../reader/fs-view.js";
import { type InodeId, InodeKind } from "../types.js";
import { DirScan } from "./dir-scan.js";
import { ErrnoError } from "./errno.js";
import { toFuseStatfs, toNativeStat } from "./fuse-stat.js";
import { limitNames } from "./name-limit.js";
import type { DirEntry, NativeFuseOps, NativeStat } from "./native-types.js";
import { OpGuard, type OpLogOptions } from "./op-guard.js";
import { PathResolver } from "./path-resolver.js";
import { ReadPattern } from "./read-pattern.js";
import { type PreloadSink, ReadPreloader } from "./read-preload.js";

/** Options of the FUSE operations. */
export interface FuseOpsOptions extends OpLogOptions {
  /**
   * the kernel may keep listings, pages and attributes for the whole mount (see the header);
   * default false
   */
  kernelCache?: boolean;
  /** with kernelCache: bytes of files read ahead of a walk the binding keeps; default 16 MiB */
  preloadBytes?: number;
}

/** Ops that would modify the tree: all answer EROFS. */
export const WRITE_OPS = [
  "write",
  "create",
  "truncate",
  "ftruncate",
  "utimens",
  "chown",
  "chmod",
  "mknod",
  "setxattr",
  "removexattr",
  "unlink",
  "rename",
  "link",
  "symlink",
  "mkdir",
  "rmdir",
  "fallocate",
] as const;

interface OpenFile {
  readonly ino: InodeId;
  readonly pattern: ReadPattern;
}

const MAX_HANDLE = 0x7fff_ffff;
/** Read patterns kept for reads without a handle; all are dropped when more are needed. */
const MAX_INODE_PATTERNS = 1024;
/** The access-mode bits of open flags (Node's fs.constants has no O_ACCMODE). */
export const O_ACCMODE = fsc.O_RDONLY | fsc.O_WRONLY | fsc.O_RDWR;

/** Allocates handle numbers 1..2^31-1 not in `used`, round robin. */
export class HandleNumbers {
  #next = 1;
  alloc(used: { has(n: number): boolean }): number {
    for (;;) {
      const fh = this.#next;
      this.#next = fh >= MAX_HANDLE ? 1 : fh + 1;
      if (!used.has(fh)) return fh;
    }
  }
}

/** All names of a list, each followed by a NUL (the listxattr answer). */
export function nulList(names: readonly Buffer[]): Buffer {
  return Buffer.concat(names.flatMap((n) => [n, Buffer.alloc(1)]));
}

/**
 * FUSE operations serving `view` read-only.
 * @example
 * const ops = new FuseOps(view, { log: (l) => process.stderr.write(`${l}\n`) });
 * await mountNative(mountpoint, ops.handlers(), ["use_ino", "ro"], { errnoOf });
 */
export class FuseOps {
  readonly #view: FsView;
  readonly #paths: PathResolver;
  readonly #guard: OpGuard;
  readonly #files = new Map<number, OpenFile>();
  readonly #numbers = new HandleNumbers();
  readonly #scan: DirScan;
  readonly #kernelCache: boolean;
  /** read patterns of files read without a handle (the kernel stopped sending opens) */
  readonly #patterns = new Map<number, ReadPattern>();
  /** with kernelCache: the files a walk reads next, handed to the binding (read-preload.ts) */
  readonly #preload: ReadPreloader | undefined;

  constructor(view: FsView, opts: FuseOpsOptions) {
    this.#view = view;
    this.#kernelCache = opts.kernelCache === true;
    this.#paths = new PathResolver(view);
    if (this.#kernelCache && view.readCached !== undefined) {
      const limit = opts.preloadBytes === undefined ? {} : { limitBytes: opts.preloadBytes };
      this.#preload = new ReadPreloader(
        view,
        this.#paths,
        (p, ino) => this.#hintOpen(p, ino),
        limit,
      );
    }
    this.#scan = new DirScan(view);
    this.#guard = new OpGuard(opts);
  }

  /** Number of open file handles (for tests and stats). */
  get openFiles(): number {
    return this.#files.size;
  }

  /** The mount serving these ops: where preloaded files go (with kernelCache). */
  attach(mount: PreloadSink): void {
    this.#preload?.attach(mount);
  }

  /** What preloading did (undefined without kernelCache). */
  preloadCounts() {
    return this.#preload?.counts();
  }

  /** The handler table to give mountNative. */
  handlers(): NativeFuseOps<Buffer> {
    const g = <A extends unknown[], R>(op: string, fn: (...a: A) => R) => this.#guard.wrap(op, fn);
    const h: NativeFuseOps<Buffer> = {
      getattr: g("getattr", (path: Buffer) => toNativeStat(this.#attr(path))),
      readdir: g("readdir", (path: Buffer) => this.#readdir(path)),
      open: g("open", (path: Buffer, flags: number) => this.#open(path, flags)),
      release: (_path, fh) => void this.#files.delete(fh),
      read: g("read", (path: Buffer | null, fh: number, buf: Buffer, pos: number) =>
        this.#read(path, fh, buf, pos),
      ),
      readlink: g("readlink", (path: Buffer) => this.#readlink(path)),
      statfs: g("statfs", () => toFuseStatfs(this.#view.usage())),
      access: g("access", (path: Buffer, mode: number) => this.#access(path, mode)),
      getxattr: g("getxattr", (path: Buffer, name: string) => this.#getxattr(path, name)),
      listxattr: g("listxattr", (path: Buffer) =>
        nulList(this.#view.listxattr(this.#paths.resolve(path))),
      ),
    };
    // without these the binding opens and closes directories itself, no trip to JS; with
    // kernelCache the mount's `cache_readdir` option has them cache their listings
    if (!this.#kernelCache) h.opendir = g("opendir", (path: Buffer) => this.#opendir(path));
    const refuse = () => {
      throw new ErrnoError("EROFS", "read-only file system");
    };
    for (const name of WRITE_OPS) (h as Record<string, unknown>)[name] = refuse;
    return limitNames(h);
  }

  #attr(path: Buffer) {
    const ino = this.#paths.resolve(path);
    const a = this.#view.getattr(ino);
    if (a === undefined) throw new ErrnoError("ENOENT", `${path}: inode ${ino} vanished`);
    return a;
  }

  #readdir(path: Buffer): DirEntry<Buffer>[] {
    const dir = this.#attr(path);
    if (dir.kind !== InodeKind.dir) throw new ErrnoError("ENOTDIR");
    const parent = this.#view.getattr(this.#paths.parentOf(path)) ?? dir;
    const out: { name: Buffer | string; stat?: NativeStat }[] = [
      { name: ".", stat: toNativeStat(dir) },
      { name: "..", stat: toNativeStat(parent) },
    ];
    for (const e of this.#view.readdir(dir.ino)) {
      const a = damagedAsUndefined(() => this.#view.getattr(e.ino));
      // a damaged entry is listed by name only: its own lookup answers EIO, as on ext4
      if (a === "damaged") out.push({ name: e.name });
      else if (a !== undefined) out.push({ name: e.name, stat: toNativeStat(a) });
    }
    return out;
  }

  #opendir(path: Buffer): number {
    if (this.#attr(path).kind !== InodeKind.dir) throw new ErrnoError("ENOTDIR");
    return 0;
  }

  #open(path: Buffer, flags: number): number {
    const a = this.#attr(path);
    if (a.kind === InodeKind.dir) throw new ErrnoError("EISDIR");
    if ((flags & O_ACCMODE) !== fsc.O_RDONLY || flags & fsc.O_TRUNC) throw new ErrnoError("EROFS");
    // the kernel opens without asking from now on (a read-only mount refuses writes itself)
    if (this.#kernelCache) throw new ErrnoError("ENOSYS", "opens need no server");
    const fd = this.#numbers.alloc(this.#files);
    this.#files.set(fd, { ino: a.ino, pattern: new ReadPattern() });
    this.#hintOpen(path, a.ino);
    return fd;
  }

  /** Tells the view what this open (and a directory walk it continues) is about to read. */
  #hintOpen(path: Buffer, ino: InodeId): void {
    const view = this.#view;
    if (view.prefetchFiles === undefined) return;
    this.#scan.hint(
      () => this.#paths.parentOf(path),
      ino,
      (files) => view.prefetchFiles!(files),
    );
  }

  /** Reads into the kernel's buffer; synchronous when the view has the data at hand. */
  #read(path: Buffer | null, fh: number, buf: Buffer, pos: number): number | Promise<number> {
    const file = this.#files.get(fh) ?? this.#handleless(path, pos);
    const ino = file.ino;
    const r =
      this.#view.readInto !== undefined
        ? this.#view.readInto(ino, pos, buf)
        : this.#view.read(ino, pos, buf.length).then((data) => data.copy(buf));
    if (typeof r === "number") return this.#afterRead(file, ino, pos, r);
    return r.then((n) => this.#afterRead(file, ino, pos, n));
  }

  /**
   * The state of a read without a handle, by inode; a read from the start is taken as an
   * open (its hint included).
   */
  #handleless(path: Buffer | null, pos: number): OpenFile {
    const p = path ?? Buffer.from("/");
    const ino = this.#paths.resolve(p);
    let pattern = this.#patterns.get(ino);
    if (pattern === undefined || pos === 0) {
      if (this.#patterns.size >= MAX_INODE_PATTERNS) this.#patterns.clear();
      pattern = new ReadPattern();
      this.#patterns.set(ino, pattern);
    }
    if (pos === 0) {
      this.#hintOpen(p, ino);
      if (path !== null) this.#preload?.after(path);
    }
    return { ino, pattern };
  }

  /** Feeds the handle's read pattern; a streaming reader gets a prefetch hint. */
  #afterRead(file: OpenFile, ino: InodeId, pos: number, n: number): number {
    const view = this.#view;
    if (view.prefetchAfter !== undefined) {
      file.pattern.observeThen(pos, n, () => view.prefetchAfter!(ino, pos, n));
    }
    return n;
  }

  #readlink(path: Buffer): Buffer {
    const a = this.#attr(path);
    if (a.kind !== InodeKind.symlink) throw new ErrnoError("EINVAL");
    return this.#view.readlink(a.ino);
  }

  #access(path: Buffer, mode: number): void {
    const a = this.#attr(path);
    if (mode & fsc.W_OK) throw new ErrnoError("EROFS");
    if (mode & fsc.X_OK && a.kind !== InodeKind.dir && (a.mode & 0o111) === 0) {
      throw new ErrnoError("EACCES");
    }
  }

  #getxattr(path: Buffer, name: string): Buffer {
    const v = this.#view.getxattr(this.#paths.resolve(path), Buffer.from(name, "utf8"));
    if (v === undefined) throw new ErrnoError("ENODATA");
    return v;
  }
}

/** `read()`, or "damaged" when it throws a corruption error (other errors pass). */
function damagedAsUndefined<T>(read: () => T): T | "damaged" {
  try {
    return read();
  } catch (err) {
    if (err instanceof EngineError && err.family === "corrupt") return "damaged";
    throw err;
  }
}
