/**
 * The data side of open files: open, read, write, truncate, flush, fsync, release.
 * Writes go to the file's staging; the commit (chunk, dedup, append, one transaction)
 * runs on fsync and when the file's last handle is flushed or released, under the
 * store's mutex. A commit is visible when it returns and durable at the next group sync
 * (group-sync.ts); fsync syncs at once. A file unlinked while open stays usable through its handles and is
 * freed when its last handle goes.
 */
import { UsageError } from "../errors.js";
import type { InodeRecord } from "../meta/records.js";
import { type InodeId, InodeKind } from "../types.js";
import { nowNs } from "./caller.js";
import { chunkFile } from "./chunk-file.js";
import { commitPlan } from "./commit-file.js";
import type { FreezeScheduler } from "./freeze-scheduler.js";
import { GroupSync } from "./group-sync.js";
import { type OpenFile, openModeOf } from "./open-files.js";
import { StagingFile } from "./staging-file.js";
import type { StoreParts } from "./store-parts-types.js";
import { inodeOf } from "./tree-deps.js";

/** Largest file size accepted (extent lists hold lengths below 2^52). */
export const MAX_FILE_BYTES = 2 ** 50;
const O_TRUNC = 0o1000;

/** Work done by commits, for tests and statistics. */
export interface CommitStats {
  commits: number;
  /** bytes cut and hashed (holes and unchanged extents cost none) */
  bytesHashed: number;
}

/** Open-file operations of a writable store. */
export class FileData {
  readonly stats: CommitStats = { commits: 0, bytesHashed: 0 };
  readonly sync: GroupSync;

  constructor(
    private readonly p: StoreParts,
    private readonly freezer: FreezeScheduler,
    onError: (err: unknown) => void,
  ) {
    this.sync = new GroupSync(p, onError);
  }

  /** Deletes an inode whose last link and handle are gone; inside a transaction. */
  freeInode(rec: InodeRecord): void {
    const { meta, content } = this.p;
    if (rec.content !== null && meta.writes.releaseContent(rec.content))
      content.forget(rec.content);
    meta.writes.deleteInode(rec.ino);
  }

  /** Opens a regular file; returns a handle. O_TRUNC (with write access) empties it. */
  open(ino: InodeId, flags: number): number {
    const rec = inodeOf(this.p.meta, ino);
    if (rec.kind === InodeKind.dir) throw new UsageError("E_IS_DIR", `inode ${ino} is a directory`);
    if (rec.kind !== InodeKind.file) throw new UsageError("E_USAGE", `inode ${ino} is not a file`);
    const mode = openModeOf(flags);
    const fh = this.p.handles.open(ino, mode);
    if ((flags & O_TRUNC) !== 0 && mode.write) this.ftruncate(fh, 0);
    return fh;
  }

  /** Reads at `offset` into `target` (own unflushed writes included); answers the count. */
  read(fh: number, target: Buffer, offset: number): number | Promise<number> {
    const { file } = this.p.handles.get(fh, "read");
    return this.readIno(file.ino, offset, target);
  }

  /** Reads inode `ino` as its open handles see it. */
  readIno(ino: InodeId, offset: number, target: Buffer): number | Promise<number> {
    const rec = inodeOf(this.p.meta, ino);
    if (rec.kind !== InodeKind.file) throw new UsageError("E_IS_DIR", `inode ${ino} is not a file`);
    return this.p.reader.read(rec, this.p.handles.file(ino)?.staging, offset, target);
  }

  /** Writes `data` at `offset` (at the end with O_APPEND); returns the bytes written. */
  write(fh: number, data: Uint8Array, offset: number): number {
    const { file, mode } = this.p.handles.get(fh, "write");
    const staging = this.#staging(file);
    const at = mode.append ? staging.size : offset;
    if (at + data.byteLength > MAX_FILE_BYTES) {
      throw new UsageError("E_TOO_BIG", "file would exceed the largest size", { at });
    }
    staging.write(data, at);
    this.#changed(file);
    return data.byteLength;
  }

  /** Sets the size of the file open as `fh` (grow with zeros, or shrink). */
  ftruncate(fh: number, size: number): void {
    const { file } = this.p.handles.get(fh, "write");
    this.truncateOpen(file, size);
  }

  /** Sets the size of an open file (any of its handles, or none for truncate(2)). */
  truncateOpen(file: OpenFile, size: number): void {
    // past the largest size first: a size beyond 2^53 is still a size, only too big (EFBIG)
    if (size > MAX_FILE_BYTES) throw new UsageError("E_TOO_BIG", "size too large", { size });
    if (!Number.isInteger(size) || size < 0) throw new UsageError("E_USAGE", "bad size");
    this.#staging(file).truncate(size);
    this.#changed(file);
  }

  /** truncate(2) by inode: through a short-lived handle, committed before returning. */
  async truncate(ino: InodeId, size: number): Promise<void> {
    const fh = this.open(ino, 1);
    try {
      this.ftruncate(fh, size);
    } finally {
      await this.release(fh);
    }
  }

  /** close(2) of one descriptor: the file is committed when `fh` is its last handle. */
  async flush(fh: number): Promise<void> {
    const { file } = this.p.handles.get(fh);
    if (this.p.handles.isLast(fh)) await this.commit(file);
  }

  /** Commits the file's unflushed writes durably (with every change before them). */
  async fsync(fh: number): Promise<void> {
    await this.commit(this.p.handles.get(fh).file);
    await this.sync.syncNow();
  }

  /** Closes `fh`; at the file's last handle: commits, drops staging, frees an unlinked inode. */
  async release(fh: number): Promise<void> {
    const { file } = this.p.handles.get(fh);
    let failure: unknown;
    if (this.p.handles.isLast(fh)) await this.commit(file).catch((err) => (failure = err));
    const { last } = this.p.handles.close(fh);
    if (last) this.#lastClosed(file);
    if (failure !== undefined) throw failure;
  }

  /** The last handle is gone: staging dropped, an unlinked inode freed. */
  #lastClosed(file: OpenFile): void {
    file.staging?.dispose();
    file.staging = undefined;
    const rec = this.p.meta.getInode(file.ino);
    if (rec !== undefined && rec.nlink === 0) {
      this.p.meta.transaction(() => this.freeInode(rec));
      this.freezer.reapSoon();
    }
  }

  /** Commits one open file (no-op when clean or unlinked); under the store's mutex. */
  commit(file: OpenFile): Promise<void> {
    // a clean file (every read-only handle) has nothing to commit: no wait for the mutex,
    // which a commit or a compaction switch of other files may hold
    if (!file.dirty) return Promise.resolve();
    return this.p.mutex.run(async () => {
      if (!file.dirty) return;
      const rec = this.p.meta.getInode(file.ino);
      if (rec === undefined || rec.nlink === 0) return;
      const gen = file.gen;
      const staging = file.staging;
      let plan: Awaited<ReturnType<typeof chunkFile>>;
      try {
        plan = await chunkFile(this.p, rec, staging);
      } catch (err) {
        this.p.open.rollback();
        throw err;
      }
      const times = { mtimeNs: file.pendingMtime, ctimeNs: file.pendingCtime };
      const deleted = commitPlan(this.p.meta, this.p.open, file.ino, plan, times);
      this.stats.commits++;
      this.stats.bytesHashed += plan.hashedBytes;
      if (deleted !== undefined) this.p.content.forget(deleted);
      if (file.gen === gen) {
        staging?.dispose();
        file.staging = undefined;
        file.dirty = false;
        file.pendingMtime = undefined;
        file.pendingCtime = undefined;
      }
      await this.freezer.afterCommit();
    });
  }

  #staging(file: OpenFile): StagingFile {
    if (file.staging === undefined) {
      const rec = inodeOf(this.p.meta, file.ino);
      file.staging = new StagingFile(this.p.dir, rec.size);
    }
    return file.staging;
  }

  #changed(file: OpenFile): void {
    const now = nowNs();
    file.dirty = true;
    file.gen++;
    file.pendingMtime = now;
    file.pendingCtime = now;
  }
}
