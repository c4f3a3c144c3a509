/**
 * WritableView: the read side (FsView) of a store open for writing, as WritableStore
 * (writable-store.ts) serves it: the tree from the database as committed, file bytes as
 * their open handles see them (unflushed writes over the committed content, which comes
 * through the reader's read path with its working set and readahead), open files' sizes
 * and times as written. Paths resolve through the directories resolved before (kept until
 * any rename or rmdir), so a path costs one lookup of its last name.
 */
import { NotFoundError } from "../errors.js";
import { splitPath } from "../meta/entry-table.js";
import type { InodeRecord } from "../meta/records.js";
import { ROOT_INO } from "../meta/schema.js";
import type { ExtentTable } from "../reader/extent-table.js";
import { INFO_XATTR, infoXattr, withInfoXattr } from "../reader/file-info.js";
import type { FsUsage, FsView, InodeAttr } from "../reader/fs-view.js";
import { type InodeId, InodeKind } from "../types.js";
import * as attrs from "./attr-ops.js";
import type { FileData } from "./file-data.js";
import { attrOf, type StoreStatfs, statfsOf } from "./store-info.js";
import type { StoreParts } from "./store-parts-types.js";
import { dirOf, inodeOf } from "./tree-deps.js";

const SLASH = Buffer.from("/");
/** Directory paths kept resolved, at most; all are forgotten when more are. */
const MAX_DIRS_KEPT = 16_384;

/** The read side of a writable store; WritableStore adds the changes. */
export abstract class WritableView implements FsView {
  readonly root = ROOT_INO;
  /** directory paths resolved ("/a/b" as latin1) → their inodes */
  readonly #dirs = new Map<string, InodeId>();

  protected constructor(
    protected readonly p: StoreParts,
    protected readonly data: FileData,
  ) {}

  /** The inode's attributes, checked as a reader checks them: E_CORRUPT when damaged. */
  getattr(ino: InodeId): InodeAttr | undefined {
    const rec = this.p.meta.readInode(ino);
    return rec === undefined ? undefined : this.attr(rec);
  }

  /** The inode's number of names (0 once unlinked, or when it does not exist). */
  nlinkOf(ino: InodeId): number {
    return this.p.meta.getInode(ino)?.nlink ?? 0;
  }

  lookupPath(p: Buffer | string): InodeId | undefined {
    const parts = splitPath(p);
    const name = parts.pop();
    if (name === undefined) return this.p.meta.resolvePath(p);
    const dir = this.#dirIno(parts);
    return dir === undefined ? undefined : this.p.meta.lookup(dir, name);
  }

  lookup(parent: InodeId, name: Buffer): InodeId | undefined {
    return this.p.meta.lookup(parent, name);
  }

  /** The directory and last name of a path; E_NOT_FOUND / E_NOT_DIR for the directory. */
  parentOf(p: Buffer | string): { parent: InodeId; name: Buffer } {
    const parts = splitPath(p);
    const name = parts.pop();
    if (name === undefined) throw new NotFoundError("E_NOT_FOUND", "the root has no parent");
    const parent = this.#dirIno(parts);
    if (parent === undefined) throw new NotFoundError("E_NOT_FOUND", `no directory for ${p}`);
    dirOf(this.p.meta, parent);
    return { parent, name };
  }

  /**
   * Every path naming `ino` ("/a/b", raw bytes): one per hard link, none once unlinked. Scans
   * the entries, so callers ask only for inodes with more than one link.
   */
  pathsOf(ino: InodeId): Buffer[] {
    if (ino === ROOT_INO) return [Buffer.from("/")];
    const w = this.p.meta.writes;
    return w.namesOf(ino).map(({ parent, name }) => {
      const parts = [name];
      for (let at = parent; at !== ROOT_INO; ) {
        const entry = w.entryOf(at);
        if (entry === undefined) break;
        parts.unshift(entry.name);
        at = entry.parent;
      }
      return Buffer.concat(parts.flatMap((x) => [SLASH, x]));
    });
  }

  readdir(dir: InodeId): { name: Buffer; ino: InodeId }[] {
    dirOf(this.p.meta, dir);
    return this.p.meta.listDir(dir);
  }

  /**
   * Entries of a directory with their attributes, in one query; an inode that cannot be
   * read comes without (`damaged` when its record is there but not to be trusted).
   */
  readdirAttrs(dir: InodeId): { name: Buffer; ino: InodeId; attr?: InodeAttr; damaged?: true }[] {
    dirOf(this.p.meta, dir);
    return this.p.meta.readDir(dir).map((c) => {
      const at = { name: c.name, ino: c.ino };
      if (c.rec !== undefined) return { ...at, attr: this.attr(c.rec) };
      return c.damage === undefined ? at : { ...at, damaged: true };
    });
  }

  readlink(ino: InodeId): Buffer {
    const r = this.p.meta.getInode(ino);
    if (r?.kind !== InodeKind.symlink || r.target === null) {
      throw new NotFoundError("E_NOT_FOUND", `inode ${ino} is not a symlink`, { ino });
    }
    return r.target;
  }

  async read(ino: InodeId, offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length);
    const n = await this.data.readIno(ino, offset, buf);
    return buf.subarray(0, n);
  }

  /** Reads into `target`; synchronous when nothing needs loading. */
  readInto(ino: InodeId, offset: number, target: Buffer): number | Promise<number> {
    return this.data.readIno(ino, offset, target);
  }

  /**
   * `readInto` of a file whose bytes are all committed (no unsaved writes) when they are at
   * hand, with nothing loaded: the count; else undefined.
   */
  readCached(ino: InodeId, offset: number, target: Buffer): number | undefined {
    if (this.p.handles.file(ino)?.staging !== undefined) return undefined;
    const t = this.#committed(ino);
    return t === undefined ? undefined : this.p.content.readIfCached(t, offset, target);
  }

  /** A sequential reader just read [offset, offset+length): loads the committed bytes next. */
  prefetchAfter(ino: InodeId, offset: number, length: number): void {
    const t = this.#committed(ino);
    if (t !== undefined) this.p.content.prefetchAfter(t, offset, length);
  }

  /**
   * Files about to be read, in this order: queues the super-chunks of their committed
   * contents (a hint: unsaved writes are served from memory anyway).
   */
  prefetchFiles(inos: readonly InodeId[]): void {
    const tables = [];
    for (const ino of inos) {
      const t = this.#committed(ino);
      if (t !== undefined) tables.push(t);
    }
    this.p.content.prefetchFiles(tables);
  }

  listxattr(ino: InodeId): Buffer[] {
    inodeOf(this.p.meta, ino);
    const names = this.p.meta.listXattrs(ino).map((x) => x.name);
    return withInfoXattr(this.p.meta, ino, names);
  }

  /** An xattr's value, or undefined when not set (FsView contract; see getxattrStrict). */
  getxattr(ino: InodeId, name: Buffer): Buffer | undefined {
    if (name.equals(INFO_XATTR)) return infoXattr(this.p.meta, ino);
    return this.p.meta.getXattr(ino, name);
  }

  /** An xattr's value (the info xattr included); E_NO_XATTR when not set. */
  getxattrStrict(ino: InodeId, name: Buffer): Buffer {
    if (name.equals(INFO_XATTR)) {
      const v = infoXattr(this.p.meta, ino);
      if (v !== undefined) return v;
    }
    return attrs.getxattr(this.p.meta, ino, name);
  }

  usage(): FsUsage {
    const s = this.p.meta.stats();
    const c = this.p.meta.countInodes();
    const inodes = c.files + c.dirs + c.symlinks + c.other;
    return { logicalBytes: s.logicalBytes, storedBytes: s.storedBytes, inodes };
  }

  /** Free-space figures of the file system holding the store. */
  statfs(): StoreStatfs {
    return statfsOf(this.p.dir);
  }

  /**
   * The committed database as one image, or undefined while a super-chunk is open (the
   * image would name sub-blocks that exist only in local raw files). For a writer that
   * publishes the store elsewhere (an S3 store's generations).
   */
  frozenImage(): Buffer | undefined {
    const meta = this.p.meta;
    return meta.writes.openSuperChunks().length > 0 ? undefined : meta.serialize();
  }

  /** Rows changed since the store was opened: a cheap "anything new?" for a publisher. */
  changeCount(): number {
    return this.p.meta.changeCount();
  }

  /** Whether any file has an xattr named `name` (scans the xattrs). */
  anyXattrNamed(name: Buffer): boolean {
    return this.p.meta.anyXattrNamed(name);
  }

  /** Counters of the working set of inflated super-chunks. */
  workingSetStats() {
    return this.p.content.workingSetStats();
  }

  abstract close(): Promise<void>;

  /** Attributes, with an open file's unflushed size and times. */
  protected attr(rec: InodeRecord): InodeAttr {
    return attrOf(rec, this.p.handles.file(rec.ino));
  }

  /**
   * The directory at the path of `parts`, through the directories resolved so far (a
   * directory's path changes only by a rename or its removal: `forgetDirs`).
   */
  #dirIno(parts: readonly Buffer[]): InodeId | undefined {
    const path = Buffer.concat(parts.flatMap((x) => [SLASH, x]));
    const key = path.toString("latin1");
    const known = this.#dirs.get(key);
    if (known !== undefined) return known;
    const ino = this.p.meta.resolvePath(path);
    if (ino === undefined || this.p.meta.getInode(ino)?.kind !== InodeKind.dir) return ino;
    if (this.#dirs.size >= MAX_DIRS_KEPT) this.#dirs.clear();
    this.#dirs.set(key, ino);
    return ino;
  }

  /** A directory was renamed or removed: every path resolved so far is forgotten. */
  protected forgetDirs(): void {
    this.#dirs.clear();
  }

  /** The committed extents of a regular file, or undefined for anything else. */
  #committed(ino: InodeId): ExtentTable | undefined {
    const rec = this.p.meta.getInode(ino);
    if (rec?.kind !== InodeKind.file) return undefined;
    return this.p.content.table(rec.content, rec.size);
  }
}
