/**
 * The reading side of a read-write mount (fuse-rw-ops.ts): reads through a store handle, or
 * by path for a file the binding opened itself (handle 0, `open_rdonly`: opens for reading
 * only never reach JS), and the hints a read-only mount gives too: a file read sequentially
 * keeps the next super-chunks of its content loading (read-pattern.ts), a first read that
 * continues a tree walk (tar, cp -r) queues the files after it (dir-scan.ts), and the
 * committed files such a walk reads next are handed whole to the binding, which answers
 * their reads without a trip to JS (read-preload.ts). The walk detection lists directories
 * through the store; any change to the tree's names starts it over (`treeChanged`), and any
 * change to a file's bytes or the tree's names drops what the binding was handed before
 * the change is answered (`contentChanged`).
 */
import type { InodeAttr } from "../reader/fs-view.js";
import type { InodeId } from "../types.js";
import type { WritableStore } from "../writer/index.js";
import { DirScan } from "./dir-scan.js";
import { ErrnoError } from "./errno.js";
import { ReadPattern } from "./read-pattern.js";
import { type PreloadSink, ReadPreloader } from "./read-preload.js";

/** Ops that change which names a directory holds: the walk detection starts over after one. */
export const TREE_CHANGE_OPS: ReadonlySet<string> = new Set([
  "mkdir",
  "mknod",
  "symlink",
  "link",
  "unlink",
  "rmdir",
  "rename",
  "create",
]);

/** Ops that change a file's bytes (opens with O_TRUNC are told apart by fuse-rw-ops.ts). */
export const CONTENT_CHANGE_OPS: ReadonlySet<string> = new Set([
  "write",
  "truncate",
  "ftruncate",
  "fallocate",
]);

/** Ops that change nothing (an open for writing says so itself: fuse-rw-ops.ts). */
const READ_ONLY_OPS: ReadonlySet<string> = new Set([
  "init",
  "destroy",
  "getattr",
  "fgetattr",
  "readdir",
  "opendir",
  "releasedir",
  "fsyncdir",
  "readlink",
  "statfs",
  "access",
  "getxattr",
  "listxattr",
  "open",
  "read",
]);

/** Where files read ahead go, and attributes kept by the binding (a NativeMount). */
export type ReadSink = PreloadSink & { dropAttrs?(): void };

/** The handle of a file the binding opened for reading itself (JS's handles start at 1). */
export const OPENED_IN_BINDING = 0;
/** Listings, and attributes of their entries, the walks keep at most (all go when more come). */
const MAX_LISTED = 1024;
const MAX_WALKED = 65_536;
/** Read patterns of files read by path; all are dropped when more are needed. */
const MAX_PATH_PATTERNS = 1024;

export class RwReads {
  readonly #s: WritableStore;
  /** open handle → how it has been read (made at its first read) */
  readonly #patterns = new Map<number, ReadPattern>();
  /** inode → how it has been read, for files the binding opened (no handle of ours) */
  readonly #byIno = new Map<InodeId, ReadPattern>();
  /** changes to the tree's names so far: the epoch of the walk detection's listings */
  #treeEpoch = 0;
  readonly #scan: DirScan;
  readonly #preload: ReadPreloader;
  /**
   * The listings the walks made, and the attributes of their entries (kinds and sizes are
   * what the walks use), until the next change to a file's bytes or the tree's names.
   */
  readonly #listed = new Map<InodeId, { name: Buffer; ino: InodeId }[]>();
  readonly #walked = new Map<InodeId, InodeAttr>();
  #sink: ReadSink | undefined;

  /** @param preloadBytes bytes of files handed to the binding it keeps at most */
  constructor(store: WritableStore, preloadBytes?: number) {
    this.#s = store;
    const self = this;
    const walked = this.#walked;
    const getattr = (ino: InodeId) => walked.get(ino) ?? store.getattr(ino);
    const listed = this.#listed;
    const readdir = (dir: InodeId) => {
      const kept = listed.get(dir);
      if (kept !== undefined) return kept;
      const list = store.readdirAttrs(dir);
      if (walked.size >= MAX_WALKED) walked.clear();
      for (const e of list) if (e.attr !== undefined) walked.set(e.ino, e.attr);
      if (listed.size >= MAX_LISTED) listed.clear();
      listed.set(dir, list);
      return list;
    };
    this.#scan = new DirScan({
      get epoch() {
        return self.#treeEpoch;
      },
      getattr,
      readdir,
    });
    const view = {
      epoch: undefined,
      getattr,
      readdir,
      readCached: (ino: InodeId, at: number, into: Buffer) => store.readCached(ino, at, into),
    };
    const paths = { resolve: (p: Buffer) => this.#ino(p) };
    const limit = preloadBytes === undefined ? {} : { limitBytes: preloadBytes };
    this.#preload = new ReadPreloader(view, paths, (p, ino) => this.opened(p, ino), limit);
  }

  /** The mount serving these reads: where files read ahead go, what keeps attributes. */
  attach(sink: ReadSink): void {
    this.#sink = sink;
    this.#preload.attach(sink);
  }

  /** A name was added, removed or moved somewhere in the tree. */
  treeChanged(): void {
    this.#treeEpoch++;
    this.contentChanged();
  }

  /** A file's bytes are about to change: the binding's copies are dropped first. */
  contentChanged(): void {
    this.#listed.clear();
    this.#walked.clear();
    this.#preload.reset();
    this.#sink?.dropAttrs?.();
  }

  /**
   * The op `name` as `fn`, told first to whatever a change it may make outdates: the
   * attributes the binding keeps (dropped again once an asynchronous change is done), and
   * for a tree change or a change of a file's bytes the files handed to the binding and
   * what the walk detection knows.
   */
  watching(name: string, fn: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
    if (READ_ONLY_OPS.has(name)) return fn;
    const tree = TREE_CHANGE_OPS.has(name);
    const content = CONTENT_CHANGE_OPS.has(name);
    const drop = () => this.#sink?.dropAttrs?.();
    return (...a) => {
      if (tree) this.treeChanged();
      else if (content) this.contentChanged();
      else drop();
      const r = fn(...a);
      return r instanceof Promise ? r.finally(drop) : r;
    };
  }

  /** `ino` was opened for reading by the name `p`: what it and a walk it continues will read. */
  opened(p: Buffer, ino: InodeId): void {
    const s = this.#s;
    this.#scan.hint(
      () => s.parentOf(p).parent,
      ino,
      (files) => s.prefetchFiles(files),
    );
  }

  /**
   * Reads handle `fh` of `ino` (a handle of the binding's: the file named `p`); synchronous
   * when the store has the data at hand.
   */
  read(
    p: Buffer | null,
    fh: number,
    ino: InodeId | undefined,
    buf: Buffer,
    pos: number,
  ): number | Promise<number> {
    if (fh === OPENED_IN_BINDING) return this.#readByPath(p, buf, pos);
    if (pos === 0 && p !== null) this.#preload.after(p);
    const r = this.#s.readHandle(fh, buf, pos);
    const pattern = patternOf(this.#patterns, fh, false);
    if (typeof r === "number") return this.#afterRead(pattern, ino, pos, r);
    return r.then((n) => this.#afterRead(pattern, ino, pos, n));
  }

  /** Handle `fh` was released. */
  released(fh: number): void {
    this.#patterns.delete(fh);
  }

  /** A read of a file the binding opened; a read from its start is taken as its open. */
  #readByPath(p: Buffer | null, buf: Buffer, pos: number): number | Promise<number> {
    const ino = this.#ino(p);
    if (pos === 0 && p !== null) {
      this.opened(p, ino);
      this.#preload.after(p);
    }
    if (this.#byIno.size >= MAX_PATH_PATTERNS) this.#byIno.clear();
    const pattern = patternOf(this.#byIno, ino, pos === 0);
    const r = this.#s.readInto(ino, pos, buf);
    if (typeof r === "number") return this.#afterRead(pattern, ino, pos, r);
    return r.then((n) => this.#afterRead(pattern, ino, pos, n));
  }

  /** Feeds the file's read pattern; a streaming reader gets a prefetch hint. */
  #afterRead(pattern: ReadPattern, ino: InodeId | undefined, pos: number, n: number): number {
    pattern.observeThen(pos, n, () => {
      if (ino !== undefined) this.#s.prefetchAfter(ino, pos, n);
    });
    return n;
  }

  #ino(p: Buffer | null): InodeId {
    const ino = p === null ? undefined : this.#s.lookupPath(p);
    if (ino === undefined) throw new ErrnoError("ENOENT", `${p?.toString() ?? "?"}: not found`);
    return ino;
  }
}

/** The read pattern kept under `key`, made anew when there is none or `fresh`. */
function patternOf<K>(m: Map<K, ReadPattern>, key: K, fresh: boolean): ReadPattern {
  let pattern = m.get(key);
  if (pattern === undefined || fresh) {
    pattern = new ReadPattern();
    m.set(key, pattern);
  }
  return pattern;
}
