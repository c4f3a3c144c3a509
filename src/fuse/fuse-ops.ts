/**
 * The read-only FUSE operations over an FsView, in fuse-native's path-based callback style.
 * Every op runs through one wrapper (`#call`) that catches whatever the view throws and answers
 * with a negative errno from errno.ts (never fuse-native's -1 fallback); damaged data is EIO plus
 * a log line naming the super-chunk. Open files get a handle holding the inode and a ReadPattern,
 * so reads skip path resolution and sequential readers trigger prefetch; an open also tells the
 * view which files are about to be read (dir-scan.ts). Reads go straight into the kernel's
 * buffer (`readInto`) and answer synchronously when the data is cached. Writes answer EROFS.
 *
 * `flush` and `fsync` are left out on purpose: libfuse then answers ENOSYS, which the kernel
 * takes as "nothing to do" once and never sends again, saving a round trip per close.
 */
import { constants as fsc } from "node:fs";
import type { FsView } from "../engine/fs-view.js";
import { EngineError } from "../errors.js";
import { type InodeId, InodeKind } from "../types.js";
import { DirScan } from "./dir-scan.js";
import { displayName } from "./display-name.js";
import { ErrnoError, errnoFor } from "./errno.js";
import { type FuseStat, type FuseStatfs, toFuseStat, toFuseStatfs } from "./fuse-stat.js";
import { PathResolver } from "./path-resolver.js";
import { ReadPattern } from "./read-pattern.js";

/** Options of the FUSE operations. */
export interface FuseOpsOptions {
  /** receives one line per logged failure (damaged super-chunk, unexpected error) */
  log(line: string): void;
  /** same repeated failure is logged at most once per this many ms; default 10 000 */
  logRepeatMs?: number;
}

type Done = (code: number) => void;
type DoneWith<T> = (code: number, value?: T) => void;

/** fuse-native's handler table (the subset we implement). */
export interface FuseHandlers {
  init(cb: Done): void;
  getattr(path: string, cb: DoneWith<FuseStat>): void;
  readdir(path: string, cb: (code: number, names?: string[], stats?: FuseStat[]) => void): void;
  opendir(path: string, flags: number, cb: DoneWith<number>): void;
  releasedir(path: string, fd: number, cb: Done): void;
  open(path: string, flags: number, cb: DoneWith<number>): void;
  release(path: string, fd: number, cb: Done): void;
  read(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Done): void;
  readlink(path: string, cb: DoneWith<string>): void;
  statfs(path: string, cb: DoneWith<FuseStatfs>): void;
  access(path: string, mode: number, cb: Done): void;
  getxattr(path: string, name: string, position: number, cb: DoneWith<Buffer | null>): void;
  listxattr(path: string, cb: DoneWith<string[]>): void;
  [write: string]: (...args: never[]) => void;
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
] as const;

interface OpenFile {
  readonly ino: InodeId;
  readonly pattern: ReadPattern;
}

const MAX_HANDLE = 0x7fff_ffff;
/** The access-mode bits of open flags (Node's fs.constants has no O_ACCMODE). */
const O_ACCMODE = fsc.O_RDONLY | fsc.O_WRONLY | fsc.O_RDWR;

/**
 * FUSE operations serving `view` read-only.
 * @example
 * const ops = new FuseOps(view, { log: (l) => process.stderr.write(`${l}\n`) });
 * new Fuse(mountpoint, ops.handlers(), { ... }).mount(cb);
 */
export class FuseOps {
  readonly #view: FsView;
  readonly #paths: PathResolver;
  readonly #log: (line: string) => void;
  readonly #logRepeatMs: number;
  readonly #logged = new Map<string, number>();
  readonly #files = new Map<number, OpenFile>();
  readonly #scan: DirScan;
  #nextHandle = 1;

  constructor(view: FsView, opts: FuseOpsOptions) {
    this.#view = view;
    this.#paths = new PathResolver(view);
    this.#scan = new DirScan(view);
    this.#log = opts.log;
    this.#logRepeatMs = opts.logRepeatMs ?? 10_000;
  }

  /** Number of open file handles (for tests and stats). */
  get openFiles(): number {
    return this.#files.size;
  }

  /** The handler table to give fuse-native. */
  handlers(): FuseHandlers {
    const h: FuseHandlers = {
      init: (cb) => cb(0),
      getattr: (path, cb) => this.#call("getattr", path, cb, () => toFuseStat(this.#attr(path))),
      readdir: (path, cb) =>
        this.#call(
          "readdir",
          path,
          (c, v) => cb(c, v?.[0], v?.[1]),
          () => this.#readdir(path),
        ),
      opendir: (path, _flags, cb) => this.#call("opendir", path, cb, () => this.#opendir(path)),
      releasedir: (_path, _fd, cb) => cb(0),
      open: (path, flags, cb) => this.#call("open", path, cb, () => this.#open(path, flags)),
      release: (path, fd, cb) => this.#call("release", path, cb, () => void this.#files.delete(fd)),
      read: (path, fd, buf, len, pos, cb) =>
        this.#call(
          "read",
          path,
          (c, n) => cb(c < 0 ? c : (n ?? 0)),
          () => this.#read(path, fd, buf, len, pos),
        ),
      readlink: (path, cb) => this.#call("readlink", path, cb, () => this.#readlink(path)),
      statfs: (path, cb) => this.#call("statfs", path, cb, () => toFuseStatfs(this.#view.usage())),
      access: (path, mode, cb) => this.#call("access", path, cb, () => this.#access(path, mode)),
      getxattr: (path, name, _pos, cb) =>
        this.#call("getxattr", path, cb, () => this.#getxattr(path, name)),
      listxattr: (path, cb) => this.#call("listxattr", path, cb, () => this.#listxattr(path)),
    };
    for (const name of WRITE_OPS) {
      h[name] = (...args: unknown[]) => {
        const cb = args[args.length - 1] as Done;
        this.#call(name, String(args[0]), cb, () => {
          throw new ErrnoError("EROFS", "read-only file system");
        });
      };
    }
    return h;
  }

  /**
   * The one wrapper every op goes through: runs `fn` (sync or async), answers `cb(0, value)`
   * on success or `cb(-errno)` on any failure, exactly once.
   */
  #call<T>(op: string, path: string, cb: DoneWith<T>, fn: () => T | Promise<T>): void {
    let answered = false;
    const answer = (code: number, value?: T) => {
      if (answered) return;
      answered = true;
      cb(code, value);
    };
    const fail = (err: unknown) => {
      const a = errnoFor(err);
      if (a.log) this.#logFailure(op, path, err);
      answer(a.errno);
    };
    try {
      const r = fn();
      if (r instanceof Promise) r.then((v) => answer(0, v), fail);
      else answer(0, r);
    } catch (err) {
      fail(err);
    }
  }

  #attr(path: string) {
    const ino = this.#paths.resolve(path);
    const a = this.#view.getattr(ino);
    if (a === undefined) throw new ErrnoError("ENOENT", `${path}: inode ${ino} vanished`);
    return a;
  }

  #readdir(path: string): [string[], FuseStat[]] {
    const dir = this.#attr(path);
    if (dir.kind !== InodeKind.dir) throw new ErrnoError("ENOTDIR");
    const parent = this.#view.getattr(this.#paths.parentOf(path)) ?? dir;
    const names = [".", ".."];
    const stats = [toFuseStat(dir), toFuseStat(parent)];
    for (const e of this.#view.readdir(dir.ino)) {
      const a = this.#view.getattr(e.ino);
      if (a === undefined) continue;
      names.push(displayName(e.name));
      stats.push(toFuseStat(a));
    }
    return [names, stats];
  }

  #opendir(path: string): number {
    if (this.#attr(path).kind !== InodeKind.dir) throw new ErrnoError("ENOTDIR");
    return 0;
  }

  #open(path: string, flags: number): number {
    const a = this.#attr(path);
    if (a.kind === InodeKind.dir) throw new ErrnoError("EISDIR");
    if ((flags & O_ACCMODE) !== fsc.O_RDONLY || flags & fsc.O_TRUNC) throw new ErrnoError("EROFS");
    const fd = this.#allocHandle();
    this.#files.set(fd, { ino: a.ino, pattern: new ReadPattern() });
    this.#hintOpen(path, a.ino);
    return fd;
  }

  /** Tells the view what this open (and a directory walk it continues) is about to read. */
  #hintOpen(path: string, ino: InodeId): void {
    if (this.#view.prefetchFiles === undefined) return;
    try {
      const files = this.#scan.opened(this.#paths.parentOf(path), ino);
      if (files !== undefined) this.#view.prefetchFiles(files);
    } catch {
      // a hint only: the reads themselves report real trouble
    }
  }

  #allocHandle(): number {
    for (;;) {
      const fd = this.#nextHandle;
      this.#nextHandle = fd >= MAX_HANDLE ? 1 : fd + 1;
      if (!this.#files.has(fd)) return fd;
    }
  }

  /** Reads into the kernel's buffer; synchronous when the view has the data at hand. */
  #read(path: string, fd: number, buf: Buffer, len: number, pos: number): number | Promise<number> {
    const file = this.#files.get(fd);
    const ino = file?.ino ?? this.#paths.resolve(path);
    const target = len < buf.length ? buf.subarray(0, len) : buf;
    const r =
      this.#view.readInto !== undefined
        ? this.#view.readInto(ino, pos, target)
        : this.#view.read(ino, pos, len).then((data) => data.copy(target));
    if (typeof r === "number") return this.#afterRead(file, ino, pos, r);
    return r.then((n) => this.#afterRead(file, ino, pos, n));
  }

  /** Feeds the handle's read pattern; a streaming reader gets a prefetch hint. */
  #afterRead(file: OpenFile | undefined, ino: InodeId, pos: number, n: number): number {
    if (file?.pattern.observe(pos, n) && this.#view.prefetchAfter !== undefined) {
      try {
        this.#view.prefetchAfter(ino, pos, n);
      } catch {
        // a hint only
      }
    }
    return n;
  }

  #readlink(path: string): string {
    const a = this.#attr(path);
    if (a.kind !== InodeKind.symlink) throw new ErrnoError("EINVAL");
    return displayName(this.#view.readlink(a.ino));
  }

  #access(path: string, mode: number): void {
    const a = this.#attr(path);
    if (mode & fsc.W_OK) throw new ErrnoError("EROFS");
    if (mode & fsc.X_OK && a.kind !== InodeKind.dir && (a.mode & 0o111) === 0) {
      throw new ErrnoError("EACCES");
    }
  }

  #getxattr(path: string, name: string): Buffer | null {
    return this.#view.getxattr(this.#paths.resolve(path), Buffer.from(name, "utf8")) ?? null;
  }

  #listxattr(path: string): string[] {
    return this.#view.listxattr(this.#paths.resolve(path)).map(displayName);
  }

  #logFailure(op: string, path: string, err: unknown): void {
    const line = describeFailure(op, path, err);
    const key = `${op}\0${line}`;
    const now = Date.now();
    const last = this.#logged.get(key);
    if (last !== undefined && now - last < this.#logRepeatMs) return;
    if (this.#logged.size > 1000) this.#logged.clear();
    this.#logged.set(key, now);
    this.#log(line);
  }
}

/** One log line for a failed op: code, where (super-chunk, offset), path, message. */
export function describeFailure(op: string, path: string, err: unknown): string {
  if (err instanceof EngineError) {
    const sc = err.data.superChunkId ?? err.data.superChunk;
    const where = sc === undefined ? "" : ` super-chunk ${String(sc)}`;
    const off = err.data.offset === undefined ? "" : ` offset ${String(err.data.offset)}`;
    return `superchunk: ${op} ${path}: ${err.code}${where}${off}: ${err.message}`;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return `superchunk: ${op} ${path}: unexpected error (EIO): ${msg}`;
}
