/**
 * WritableStore: a store opened read-write, as an engine API independent of FUSE. It
 * holds the store's writer lock, serves reads like the read-only side (FsView, in
 * writable-view.ts: committed data through the reader's read path, plus the unflushed
 * writes of open files), and changes the tree and file contents. Inode-based: resolve
 * paths with `lookupPath` or `parentOf`. The caller's uid/gid/umask comes in as a
 * CallerContext.
 */

import { refuseInfoXattr } from "../reader/file-info.js";
import type { InodeAttr } from "../reader/fs-view.js";
import { type InodeId, InodeKind } from "../types.js";
import * as attrs from "./attr-ops.js";
import type { CallerContext, TimeSpec } from "./caller.js";
import { COMPACT_IDLE_MS, type CompactOutcome, CompactScheduler } from "./compact-scheduler.js";
import { type CommitStats, FileData } from "./file-data.js";
import { FreezeScheduler } from "./freeze-scheduler.js";
import * as ns from "./namespace-ops.js";
import { rename } from "./rename-op.js";
import { openParts } from "./store-parts.js";
import type { StoreParts } from "./store-parts-types.js";
import type { TreeDeps } from "./tree-deps.js";
import type { WritableStoreOptions } from "./writable-store-options.js";
import { WritableView } from "./writable-view.js";

export type { WritableStoreOptions } from "./writable-store-options.js";

/** A store open for reading and writing. */
export class WritableStore extends WritableView {
  readonly #freezer: FreezeScheduler;
  readonly #compact: CompactScheduler;
  readonly #compactAtClose: boolean;
  readonly #tree: TreeDeps;
  #closed = false;
  readonly #onClosing: ((store: WritableStore) => Promise<void>) | undefined;
  readonly #onCommitted: WritableStoreOptions["onCommitted"];
  /** errors of background freezes and reaps, newest last */
  readonly backgroundErrors: unknown[];

  private constructor(p: StoreParts, opts: WritableStoreOptions<WritableStore>) {
    const errors: unknown[] = [];
    const onError = (err: unknown) => {
      errors.push(err);
      opts.onBackgroundError?.(err);
    };
    const freezer = new FreezeScheduler(p, opts.freezeIdleMs ?? 2000, onError);
    const data = new FileData(p, freezer, onError);
    super(p, data);
    this.backgroundErrors = errors;
    this.#freezer = freezer;
    const idle = opts.compactIdleMs ?? COMPACT_IDLE_MS;
    const refreshCopy = () => freezer.copyMetadata();
    this.#compact = new CompactScheduler(p, opts.compactor, idle, onError, refreshCopy);
    this.#compactAtClose = opts.compactAtClose ?? true;
    this.#onClosing = opts.onClosing;
    this.#onCommitted = opts.onCommitted;
    this.#tree = {
      meta: p.meta,
      isOpen: (ino) => p.handles.file(ino) !== undefined,
      freeInode: (rec) => data.freeInode(rec),
    };
  }

  /**
   * Opens `dir` for writing: takes the writer lock (E_STORE_LOCKED), unpacks a packed
   * database, recovers from a crash (see recovery.ts).
   * @example
   * const store = await WritableStore.open("/srv/store");
   * const { fh } = store.create(ctx, store.root, Buffer.from("a.txt"), 0o644);
   * store.write(fh, Buffer.from("hello"), 0);
   * await store.release(fh);
   * await store.close();
   */
  static async open(
    dir: string,
    opts: WritableStoreOptions<WritableStore> = {},
  ): Promise<WritableStore> {
    // what a compactor recompresses later is frozen at the codec's fastest level meanwhile
    const parts = await openParts(dir, { ...opts, recompressed: opts.compactor !== undefined });
    return new WritableStore(parts, opts);
  }

  /** What recovery did when the store was opened. */
  get recovery() {
    return this.p.recovery;
  }

  // ---- namespace ---------------------------------------------------------------

  /** Creates a regular file (E_EXISTS if the name is taken) and opens it with `flags`. */
  create(ctx: CallerContext, parent: InodeId, name: Buffer, mode: number, flags = 2) {
    this.#compact.touch();
    const rec = ns.makeNode(this.#tree, ctx, parent, name, { kind: InodeKind.file, mode });
    const fh = this.data.open(rec.ino, flags);
    // the attributes as the open file shows them (an O_TRUNC open gives it pending times)
    return { attr: this.attr(rec), fh };
  }

  mkdir(ctx: CallerContext, parent: InodeId, name: Buffer, mode: number): InodeAttr {
    return this.attr(ns.makeNode(this.#tree, ctx, parent, name, { kind: InodeKind.dir, mode }));
  }

  /** A FIFO, socket, or (root only) device node. */
  mknod(
    ctx: CallerContext,
    parent: InodeId,
    name: Buffer,
    kind: InodeKind,
    mode: number,
    rdev = 0,
  ) {
    return this.attr(ns.makeNode(this.#tree, ctx, parent, name, { kind, mode, rdev }));
  }

  symlink(ctx: CallerContext, parent: InodeId, name: Buffer, target: Buffer): InodeAttr {
    const spec = { kind: InodeKind.symlink, mode: 0o777, target };
    return this.attr(ns.makeNode(this.#tree, { ...ctx, umask: 0 }, parent, name, spec));
  }

  link(ino: InodeId, newParent: InodeId, newName: Buffer): InodeAttr {
    return this.attr(ns.link(this.#tree, ino, newParent, newName));
  }

  unlink(parent: InodeId, name: Buffer): void {
    this.#compact.touch();
    ns.unlink(this.#tree, parent, name);
    this.#freezer.reapSoon();
  }

  rmdir(parent: InodeId, name: Buffer): void {
    this.forgetDirs();
    ns.rmdir(this.#tree, parent, name);
  }

  /** rename(2); flags: RENAME_NOREPLACE, RENAME_EXCHANGE (renameat2). */
  rename(parent: InodeId, name: Buffer, newParent: InodeId, newName: Buffer, flags = 0): void {
    this.forgetDirs();
    rename(this.#tree, parent, name, newParent, newName, flags);
    this.#freezer.reapSoon();
  }

  chmod(ctx: CallerContext, ino: InodeId, mode: number): InodeAttr {
    return this.attr(attrs.chmod(this.p.meta, ctx, ino, mode));
  }

  chown(ctx: CallerContext, ino: InodeId, uid?: number, gid?: number): InodeAttr {
    return this.attr(attrs.chown(this.p.meta, ctx, ino, uid, gid));
  }

  utimens(ctx: CallerContext, ino: InodeId, atime: TimeSpec, mtime: TimeSpec): InodeAttr {
    const rec = attrs.utimens(this.p.meta, ctx, ino, atime, mtime);
    const open = this.p.handles.file(ino);
    if (open !== undefined && mtime !== "omit") open.pendingMtime = undefined;
    if (open !== undefined) open.pendingCtime = rec.ctimeNs;
    return this.attr(rec);
  }

  /** Clears the set-id bits a write or truncate by non-root `ctx` removes; true when it did. */
  killSetId(ctx: CallerContext, ino: InodeId): boolean {
    return attrs.killSetId(this.p.meta, ctx, ino);
  }

  /** Sets an xattr; the computed user.superchunk.info is read-only (E_NOT_PERMITTED). */
  setxattr(ino: InodeId, name: Buffer, value: Buffer, flags = 0): void {
    refuseInfoXattr(name);
    attrs.setxattr(this.p.meta, ino, name, value, flags);
  }

  removexattr(ino: InodeId, name: Buffer): void {
    refuseInfoXattr(name);
    attrs.removexattr(this.p.meta, ino, name);
  }

  // ---- data ----------------------------------------------------------------------

  /** Opens a regular file; `flags` as open(2) (O_RDONLY/O_WRONLY/O_RDWR, O_TRUNC, O_APPEND). */
  open(ino: InodeId, flags: number): number {
    this.#compact.touch();
    return this.data.open(ino, flags);
  }

  /** Reads through handle `fh` (its own unflushed writes included); answers the count. */
  readHandle(fh: number, target: Buffer, offset: number): number | Promise<number> {
    return this.#read(this.data.read(fh, target, offset));
  }

  /** Reads inode `ino` as its handles see it (a file open in the FUSE binding: no handle). */
  override readInto(ino: InodeId, offset: number, target: Buffer): number | Promise<number> {
    return this.#read(super.readInto(ino, offset, target));
  }

  /** A read: the mount is busy, and a read that waits is counted until it is done. */
  #read(n: number | Promise<number>): number | Promise<number> {
    this.#compact.touch();
    return typeof n === "number" ? n : this.#compact.track(n);
  }

  write(fh: number, data: Uint8Array, offset: number): number {
    this.#compact.touch();
    return this.data.write(fh, data, offset);
  }

  ftruncate(fh: number, size: number): void {
    this.data.ftruncate(fh, size);
  }

  /** truncate(2): an open file's staging, or a committed change for a closed one. */
  async truncate(ino: InodeId, size: number): Promise<void> {
    const open = this.p.handles.file(ino);
    if (open !== undefined) this.data.truncateOpen(open, size);
    else await this.data.truncate(ino, size);
  }

  flush(fh: number): Promise<void> {
    return this.data.flush(fh);
  }

  fsync(fh: number): Promise<void> {
    return this.data.fsync(fh);
  }

  release(fh: number): Promise<void> {
    this.#compact.touch();
    return this.data.release(fh);
  }

  // ---- store -----------------------------------------------------------------------

  /** Makes every change so far durable (fsync(2) of a directory, syncfs). */
  sync(): Promise<void> {
    return this.data.sync.syncNow();
  }

  /** Work done by commits since the store was opened (bytes hashed, commits). */
  get commitStats(): Readonly<CommitStats> {
    return this.data.stats;
  }

  /** Freezes every open super-chunk now (normally done after an idle grace, and at close). */
  freezeAll(): Promise<void> {
    return this.#freezer.freezeAll();
  }

  /** Runs a compaction pass now, whatever the idle grace (undefined without a compactor). */
  compactNow(): Promise<CompactOutcome | undefined> {
    return this.#compact.compactNow();
  }

  /** Compaction passes finished so far, and what the last one did. */
  compactionStatus(): { passes: number; last: CompactOutcome | undefined } {
    return { passes: this.#compact.passes, last: this.#compact.lastOutcome };
  }

  /** True while an open file has writes not committed yet. */
  hasUnflushedWrites(): boolean {
    for (const f of this.p.handles.files()) if (f.dirty) return true;
    return false;
  }

  /**
   * Commits every file with unflushed writes, frees inodes unlinked while open, makes it
   * durable (then calls onCommitted), freezes every open super-chunk (before onCommitted
   * when no compaction follows), runs a last compaction pass, closes the database and
   * releases the lock. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#freezer.close();
    this.data.sync.close();
    const p = this.p;
    try {
      for (const f of [...p.handles.files()]) await this.data.commit(f);
      // freezes are the store's last form unless a compaction recompresses them: only then
      // can they wait until after onCommitted (the unmount has returned by then)
      const compacting = this.#compactAtClose && this.#compact.enabled;
      if (!compacting) await this.#freezer.freezeAll();
      await this.data.sync.syncNow();
      const compacts = compacting && (this.#compact.hasWork() || p.open.toFreeze(true).length > 0);
      await this.#onCommitted?.({ compacts, yieldLock: (why) => p.lock.yieldTo(why) });
      await this.#freezer.freezeAll();
      await this.data.sync.syncNow();
      await this.#compact.close(this.#compactAtClose);
      await this.data.sync.syncNow();
      await this.#onClosing?.(this);
    } finally {
      await this.#compact.close(false);
      for (const f of p.handles.files()) f.staging?.dispose();
      p.open.close();
      p.content.close();
      p.dedup.clear();
      await p.pool.close();
      await p.commitPool.close();
      p.meta.close();
      p.lock.release();
    }
  }
}
